"""Track files for the reader tests: writers of each layout, random walks, the one-line error check."""

from __future__ import annotations

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


def _trackmate_xml(tracks: dict, shown: list, unit="micron", roi_text=False) -> str:
    spots, edges, sid = {}, {}, 1
    for tid, (frames, xy) in tracks.items():
        ids = []
        for f, (x, y) in zip(frames, xy):
            spots.setdefault(int(f), []).append(
                f'<Spot ID="{sid}" name="ID{sid}" STD_INTENSITY_CH1="3.2" QUALITY="41.0" POSITION_T="{f * 0.05}" '
                f'MAX_INTENSITY_CH1="220.0" POSITION_X="{x!r}" POSITION_Y="{y!r}" FRAME="{f}" POSITION_Z="0.0" '
                f'RADIUS="0.3" VISIBILITY="1" MEAN_INTENSITY_CH1="150.2"'
                + (' ROI_N_POINTS="3">0.1 0.0 -0.1 0.1 0.0 -0.1</Spot>' if roi_text else " />"))
            ids.append(sid)
            sid += 1
        edges[tid] = "\n".join(
            f'        <Edge SPOT_SOURCE_ID="{s}" SPOT_TARGET_ID="{t}" LINK_COST="0.5" DIRECTIONAL_CHANGE_RATE="0.1" '
            f'SPEED="1.2" DISPLACEMENT="0.06" EDGE_TIME="0.1" EDGE_X_LOCATION="1.0" EDGE_Y_LOCATION="2.0" />'
            for s, t in zip(ids[:-1], ids[1:]))
    frames = "\n".join(f'      <SpotsInFrame frame="{f}">\n        ' + "\n        ".join(s) + "\n      </SpotsInFrame>"
                       for f, s in sorted(spots.items()))
    all_tracks = "\n".join(f'      <Track name="Track_{t}" TRACK_ID="{t}" TRACK_INDEX="{t}" NUMBER_SPOTS="9">\n'
                           f"{e}\n      </Track>" for t, e in edges.items())
    filt = "\n".join(f'      <TrackID TRACK_ID="{t}" />' for t in shown)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<TrackMate version="7.11.1">
  <Log>TrackMate v7.11.1 started on:
Mon, 1 Jan 2024 10:00:00
Image region: x 0-511, y 0-511</Log>
  <Model spatialunits="{unit}" timeunits="sec">
    <FeatureDeclarations>
      <SpotFeatures>
        <Feature feature="QUALITY" name="Quality" shortname="Quality" dimension="QUALITY" isint="false" />
      </SpotFeatures>
    </FeatureDeclarations>
    <AllSpots nspots="{sid - 1}">
{frames}
    </AllSpots>
    <AllTracks>
{all_tracks}
    </AllTracks>
    <FilteredTracks>
{filt}
    </FilteredTracks>
  </Model>
  <Settings>
    <ImageData filename="cell.tif" folder="/data/" width="512" height="512" nslices="1" nframes="60"
               pixelwidth="0.16" pixelheight="0.16" voxeldepth="1.0" timeinterval="0.05" />
    <BasicSettings xstart="0" xend="511" ystart="0" yend="511" zstart="0" zend="0" tstart="0" tend="59" />
  </Settings>
  <GUIState state="ConfigureViews" />
</TrackMate>
"""
