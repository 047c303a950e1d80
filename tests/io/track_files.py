"""Track files for the reader tests: writers of each layout, random walks, the one-line error check."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

RNG = np.random.default_rng(0)


def _walk(n: int, x0=10.0, y0=20.0) -> np.ndarray:
    return np.array([x0, y0]) + np.cumsum(RNG.normal(0, 0.5, (n, 2)), axis=0)  # (n, 2)


def write_andi(path, lengths=(25, 30), first=(0, 5)):
    """AnDi-2 challenge CSV, ids and frames written as floats like the official files."""
    lines = ["traj_idx,frame,x,y"]
    for i, (n, f0) in enumerate(zip(lengths, first)):
        for t, (x, y) in enumerate(_walk(n)):
            lines.append(f"{float(i)},{float(f0 + t)},{x!r},{y!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def write_trackpy(path, rows: list[tuple], header="particle,frame,x,y"):
    path.write_text(header + "\n" + "\n".join(",".join(str(v) for v in r) for r in rows) + "\n")
    return path


def trackpy_rows(tracks: dict, extra: bool = False) -> list[tuple]:
    rows = []
    for tid, (frames, xy) in tracks.items():
        for f, (x, y) in zip(frames, xy):
            rows.append((tid, f, x, y) + ((1.5, 0.2) if extra else ()))
    return rows


def one_line(exc: pytest.ExceptionInfo, *parts: str) -> str:
    msg = str(exc.value)
    assert "\n" not in msg
    for p in parts:
        assert p in msg, f"{p!r} not in {msg!r}"
    return msg


def write_table(path, header: str, rows: list[tuple], sep: str = ",", fmt=str):
    path.write_text(header + "\n" + "\n".join(sep.join(fmt(v) for v in r) for r in rows) + "\n")
    return path


TWO = {3: (np.arange(0, 22), _walk(22)), 11: (np.arange(5, 30), _walk(25))}  # id -> (frames, xy px)


def _xy(tr, tid) -> np.ndarray:
    return tr.data.loc[tr.data.track_id == str(tid), ["x", "y"]].to_numpy()


def _check(tr, scale=1.0):
    assert tr.ids == ["3", "11"] and tr.lengths.tolist() == [22, 25] and tr.first_frames.tolist() == [0, 5]
    for tid, (_, xy) in TWO.items():
        np.testing.assert_allclose(_xy(tr, tid), xy * scale, rtol=1e-9)


def _trackpy_file(tmp_path, edit=None, name="t.csv"):
    p = write_trackpy(tmp_path / name, trackpy_rows(TWO))
    if edit:
        lines = p.read_text().splitlines()
        edit(lines)
        p.write_text("\n".join(lines) + "\n")
    return p


TRACKMATE_DT = 0.03  # s per frame written in POSITION_T and <ImageData>


class TrackMateModel:
    """Spots and edges of a TrackMate model, written as TrackMate's TmXmlWriter does."""

    def __init__(self):
        self.rng = np.random.default_rng(7)
        self.spots: list[tuple[int, int, float, float, int]] = []  # (ID, frame, x, y, visibility)
        self.edges: dict[int, list[tuple[int, int]]] = {}

    def spot(self, frame: int, x: float, y: float, visible: int = 1) -> int:
        sid = 1000 + 7 * len(self.spots)  # TrackMate IDs are not consecutive
        self.spots.append((sid, int(frame), float(x), float(y), visible))
        return sid

    def chain(self, tid: int, frames, xy, link_to: int | None = None) -> list[int]:
        """Spots at ``frames`` linked one after the other (and to spot ``link_to`` before them)."""
        ids = [self.spot(f, x, y) for f, (x, y) in zip(frames, xy)]
        ends = ([link_to] if link_to is not None else []) + ids
        self.edges.setdefault(tid, []).extend(itertools.pairwise(ends))
        return ids

    def xml(self, shown, *, version="7.11.1", unit="µm", time="s", image=None, where="after", roi_text=False) -> str:
        """The XML file; ``roi_text``: spots carry ROI contour text (TrackMate 7), else they are empty elements."""
        by_frame: dict[int, list[str]] = {}
        for sid, f, x, y, vis in self.spots:
            by_frame.setdefault(f, []).append(
                f'<Spot ID="{sid}" name="ID{sid}" STD_INTENSITY_CH1="11.2" QUALITY="28.3" POSITION_T="{f * TRACKMATE_DT!r}" '
                f'MAX_INTENSITY_CH1="412.0" POSITION_X="{x!r}" POSITION_Y="{y!r}" FRAME="{f}" POSITION_Z="0.0" '
                f'RADIUS="0.25" VISIBILITY="{vis}" MEAN_INTENSITY_CH1="201.7" CONTRAST_CH1="0.31" SNR_CH1="2.4"'
                + (' ROI_N_POINTS="3">0.1 0.0 -0.1 0.1 0.0 -0.1</Spot>' if roi_text else " />"))
        spots = "\n".join(f'      <SpotsInFrame frame="{f}">\n        ' + "\n        ".join(s) + "\n      </SpotsInFrame>"
                          for f, s in sorted(by_frame.items()))
        tracks = []
        for tid, edges in self.edges.items():
            order = self.rng.permutation(len(edges))  # TrackMate writes a track's edges in no particular order
            body = "\n".join(
                f'        <Edge SPOT_SOURCE_ID="{edges[i][0]}" SPOT_TARGET_ID="{edges[i][1]}" LINK_COST="0.12" '
                f'DIRECTIONAL_CHANGE_RATE="0.4" SPEED="1.1" DISPLACEMENT="0.033" EDGE_TIME="0.045" '
                f'EDGE_X_LOCATION="5.0" EDGE_Y_LOCATION="8.0" EDGE_Z_LOCATION="0.0" />' for i in order)
            tracks.append(f'      <Track name="Track_{tid}" TRACK_ID="{tid}" TRACK_INDEX="{tid}" NUMBER_SPOTS="{len(edges) + 1}" '
                          f'NUMBER_GAPS="0" NUMBER_SPLITS="0" NUMBER_MERGES="0" NUMBER_COMPLEX="0" LONGEST_GAP="0" '
                          f'TRACK_DURATION="0.3" TRACK_START="0.0" TRACK_STOP="0.3" TRACK_DISPLACEMENT="0.4">\n'
                          f"{body}\n      </Track>")
        filt = "\n".join(f'      <TrackID TRACK_ID="{t}" />' for t in shown)
        if image is None:
            image = ('<ImageData filename="cell.tif" folder="/data/spt/" width="512" height="512" nslices="1" '
                     'nframes="200" pixelwidth="0.107" pixelheight="0.107" voxeldepth="1.0" timeinterval="0.03" />')
        model = f"""  <Model spatialunits="{unit}" timeunits="{time}">
    <FeatureDeclarations>
      <SpotFeatures>
        <Feature feature="QUALITY" name="Quality" shortname="Quality" dimension="QUALITY" isint="false" />
        <Feature feature="POSITION_X" name="X" shortname="X" dimension="POSITION" isint="false" />
        <Feature feature="FRAME" name="Frame" shortname="Frame" dimension="NONE" isint="true" />
      </SpotFeatures>
      <EdgeFeatures>
        <Feature feature="SPOT_SOURCE_ID" name="Source spot ID" shortname="Source ID" dimension="NONE" isint="true" />
      </EdgeFeatures>
      <TrackFeatures>
        <Feature feature="TRACK_ID" name="Track ID" shortname="Track ID" dimension="NONE" isint="true" />
      </TrackFeatures>
    </FeatureDeclarations>
    <AllSpots nspots="{len(self.spots)}">
{spots}
    </AllSpots>
    <AllTracks>
{chr(10).join(tracks)}
    </AllTracks>
    <FilteredTracks>
{filt}
    </FilteredTracks>
  </Model>
"""
        settings = f"""  <Settings>
    {image}
    <BasicSettings xstart="0" xend="511" ystart="0" yend="511" zstart="0" zend="0" tstart="0" tend="199" />
    <DetectorSettings DETECTOR_NAME="LOG_DETECTOR" TARGET_CHANNEL="1" RADIUS="0.25" THRESHOLD="20.0" DO_MEDIAN_FILTERING="false" DO_SUBPIXEL_LOCALIZATION="true" />
    <InitialSpotFilter feature="QUALITY" value="0.0" isabove="true" />
    <SpotFilterCollection />
    <TrackerSettings TRACKER_NAME="SPARSE_LAP_TRACKER" CUTOFF_PERCENTILE="0.9" ALTERNATIVE_LINKING_COST_FACTOR="1.05" BLOCKING_VALUE="Infinity">
      <Linking LINKING_MAX_DISTANCE="0.5"><FeaturePenalties /></Linking>
      <GapClosing ALLOW_GAP_CLOSING="true" GAP_CLOSING_MAX_DISTANCE="0.5" MAX_FRAME_GAP="2"><FeaturePenalties /></GapClosing>
      <TrackSplitting ALLOW_TRACK_SPLITTING="true" SPLITTING_MAX_DISTANCE="0.5"><FeaturePenalties /></TrackSplitting>
      <TrackMerging ALLOW_TRACK_MERGING="true" MERGING_MAX_DISTANCE="0.5"><FeaturePenalties /></TrackMerging>
    </TrackerSettings>
    <TrackFilterCollection />
    <AnalyzerCollection>
      <SpotAnalyzers><Analyzer key="Spot intensity" /></SpotAnalyzers>
      <EdgeAnalyzers><Analyzer key="Edge target" /></EdgeAnalyzers>
      <TrackAnalyzers><Analyzer key="Branching analyzer" /></TrackAnalyzers>
    </AnalyzerCollection>
  </Settings>
"""
        log = f"  <Log>TrackMate v{version} started on:\nMon, 1 Jan 2024 10:00:00\nImage data:\n</Log>\n"
        if where == "after":  # TrackMate: Log, Model, Settings, GUIState
            body = log + model + settings
        elif where == "before":  # converters that write Settings first
            body = settings + model
        elif where == "none":  # a script that saved the model only
            body = log + model
        else:  # files older than TrackMate 2.0: ImageData at the root carries the units, no <Model>
            inner = model.split("\n", 1)[1].rsplit("  </Model>", 1)[0]
            body = f"  {image}\n" + inner
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n<TrackMate version="{version}">\n{body}'
                '  <GUIState state="ConfigureViews" />\n</TrackMate>\n')


def trackmate_xml(tracks: dict, shown: list, **xml_kw) -> str:
    """A TrackMate XML file of ``tracks`` (id -> (frames, xy in µm)), one linear chain each; ``shown`` the filtered
    track ids; ``xml_kw`` as :meth:`TrackMateModel.xml` (default calibration 0.107 µm/px, 0.03 s/frame)."""
    m = TrackMateModel()
    for tid, (frames, xy) in tracks.items():
        m.chain(tid, frames, xy)
    return m.xml(shown, **xml_kw)
