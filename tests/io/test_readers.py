"""Readers: every format, auto-detection, units, gaps, and one test per kind of bad input."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from andimamba.io import (
    TrackFileError,
    Tracks,
    detect_format,
    read_andi_folder,
    read_tracks,
    tracks_from_dataframe,
)

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


# ----------------------------------------------------------------------------- AnDi
def test_andi_csv_float_frames_and_ids(tmp_path):
    p = write_andi(tmp_path / "track_2" / "exp_3" / "trajs_fov_2.csv")
    tr = read_tracks(p)
    assert tr.format == "andi" and (tr.experiment, tr.fov) == (3, 2)
    assert tr.ids == ["0", "1"]
    assert tr.lengths.tolist() == [25, 30]
    assert tr.first_frames.tolist() == [0, 5]
    assert tr.data["frame"].dtype == np.int64
    ref = pd.read_csv(p)
    np.testing.assert_array_equal(tr.data[["x", "y"]].to_numpy(), ref[["x", "y"]].to_numpy())


def test_andi_folder_layout(tmp_path):
    for e in (10, 2):
        for j in (1, 0):
            write_andi(tmp_path / "track_2" / f"exp_{e}" / f"trajs_fov_{j}.csv")
    (tmp_path / "track_2" / "exp_2" / "traj_labs_fov_0.txt").write_text("0,1,1,2,25\n")
    out = read_andi_folder(tmp_path)
    assert [(t.experiment, t.fov) for t in out] == [(2, 0), (2, 1), (10, 0), (10, 1)]
    assert read_andi_folder(tmp_path / "track_2" / "exp_10")[0].experiment == 10
    with pytest.raises(TrackFileError) as e:
        read_andi_folder(tmp_path / "track_2" / "exp_2" / "nothing_here")
    one_line(e, "nothing_here")


# ----------------------------------------------------------------------------- trackpy
def test_trackpy_csv_extra_columns_and_index(tmp_path):
    """trackpy.link(...).to_csv(): unnamed index, then y, x, mass, size, ecc, signal, raw_mass, ep, frame, particle."""
    tracks = {7: (np.arange(3, 25), _walk(22)), 2: (np.arange(0, 21), _walk(21))}
    rows = [(i, y, x, 1234.5, 1.2, 0.05, 30.1, 5000.2, 0.02, f, tid)
            for i, (tid, f, x, y) in enumerate(trackpy_rows(tracks))]
    p = write_trackpy(tmp_path / "linked.csv", rows, header=",y,x,mass,size,ecc,signal,raw_mass,ep,frame,particle")
    assert detect_format(p) == "tidy"
    tr = read_tracks(p)
    assert tr.format == "tidy" and tr.ids == ["7", "2"] and tr.pixel_size is None
    np.testing.assert_allclose(tr.data.loc[tr.data.track_id == "7", ["x", "y"]].to_numpy(), tracks[7][1])
    assert read_tracks(p, format="trackpy").ids == ["7", "2"]  # the old format name still works


def test_trackpy_micron_to_pixels(tmp_path):
    xy = _walk(20)
    p = write_trackpy(tmp_path / "um.csv", trackpy_rows({1: (np.arange(20), xy)}))
    tr = read_tracks(p, units="um", pixel_size=0.16, frame_interval=0.05)
    np.testing.assert_allclose(tr.data[["x", "y"]].to_numpy(), xy / 0.16)
    assert (tr.pixel_size, tr.frame_interval) == (0.16, 0.05)
    with pytest.raises(TrackFileError) as e:
        read_tracks(p, units="um")
    one_line(e, "um.csv", "pixel size", "pixel_size=")


def test_custom_columns_and_semicolons(tmp_path):
    rows = [(f, "a", x, y) for f, (x, y) in enumerate(_walk(20))]
    p = tmp_path / "custom.csv"
    p.write_text("t;cell;px;py\n" + "\n".join(";".join(map(str, r)) for r in rows) + "\n")
    tr = read_tracks(p, columns={"track": "cell", "frame": "t", "x": "px", "y": "py"})
    assert tr.ids == ["a"] and len(tr.data) == 20


def test_tracks_from_dataframe():
    df = pd.DataFrame({"particle": [3] * 20, "frame": np.arange(20), "x": np.arange(20.0), "y": 0.0})
    tr = tracks_from_dataframe(df)
    assert tr.ids == ["3"]
    df.loc[4, "x"] = np.nan
    with pytest.raises(TrackFileError) as e:
        tracks_from_dataframe(df)
    one_line(e, "row 4", "track 3", "NaN")


# ----------------------------------------------------------------------------- TrackMate
SPOT_HEADER = (
    "LABEL,ID,TRACK_ID,QUALITY,POSITION_X,POSITION_Y,POSITION_Z,POSITION_T,FRAME,RADIUS,VISIBILITY,"
    "MANUAL_SPOT_COLOR,MEAN_INTENSITY_CH1\n"
    "Label,Spot ID,Track ID,Quality,X,Y,Z,T,Frame,Radius,Visibility,Manual spot color,Mean intensity ch1\n"
    "Label,Spot ID,Track ID,Quality,X,Y,Z,T,Frame,R,Visibility,Spot color,Mean ch1\n"
    ",,,(quality),({u}),({u}),({u}),(sec),,({u}),,,(counts)\n"
)


def write_spots(path, tracks: dict, unit="micron", dt=0.05, z=None, untracked=True):
    rows, sid = [], 1000
    for tid, (frames, xy) in tracks.items():
        for f, (x, y) in zip(frames, xy):
            zz = 0.0 if z is None else z[f % len(z)]
            rows.append(f"ID{sid},{sid},{tid},12.5,{x!r},{y!r},{zz},{f * dt:.3f},{f},0.25,1,,130.0")
            sid += 1
    rows = [rows[i] for i in RNG.permutation(len(rows))]  # TrackMate tables can be sorted by any column
    if untracked:
        rows.append(f"ID{sid},{sid},None,3.0,1.0,1.0,0.0,0.0,0,0.25,1,,20.0")
    path.write_text(SPOT_HEADER.format(u=unit) + "\n".join(rows) + "\n")
    return path


def test_trackmate_spots_csv_micron(tmp_path, caplog):
    a, b = _walk(25), _walk(21)
    p = write_spots(tmp_path / "spots.csv", {0: (np.arange(25), a), 3: (np.arange(4, 25), b)})
    assert detect_format(p) == "trackmate_spots"
    tr = read_tracks(p, pixel_size=0.1)
    assert tr.format == "trackmate_spots" and tr.ids == ["0", "3"]
    np.testing.assert_allclose(tr.data.loc[tr.data.track_id == "3", ["x", "y"]].to_numpy(), b / 0.1)
    assert tr.frame_interval == pytest.approx(0.05)
    assert tr.data.loc[tr.data.track_id == "3", "frame"].tolist() == list(range(4, 25))
    with pytest.raises(TrackFileError) as e:
        read_tracks(p)
    one_line(e, "spots.csv", "micron", "pixel_size=")


def test_trackmate_spots_csv_pixels_and_short_header(tmp_path):
    p = write_spots(tmp_path / "px.csv", {5: (np.arange(20), _walk(20))}, unit="pixel")
    text = p.read_text().splitlines()
    del text[2]  # TrackMate omits the short-names row when identical to the names row
    p.write_text("\n".join(text) + "\n")
    tr = read_tracks(p)
    assert tr.pixel_size is None and len(tr.data) == 20


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


def test_trackmate_xml_model(tmp_path):
    a, b, c = _walk(25), _walk(22), _walk(30)
    p = tmp_path / "model.xml"
    p.write_text(_trackmate_xml({0: (np.arange(25), a), 1: (np.arange(3, 25), b), 2: (np.arange(30), c)},
                                shown=[0, 1], roi_text=True))
    assert detect_format(p) == "trackmate_xml"
    tr = read_tracks(p)  # pixel size and frame interval from <ImageData>
    assert tr.ids == ["0", "1"] and tr.pixel_size == 0.16 and tr.frame_interval == 0.05
    np.testing.assert_allclose(tr.data.loc[tr.data.track_id == "1", ["x", "y"]].to_numpy(), b / 0.16)
    tr2 = read_tracks(p, pixel_size=0.2)  # the user's value wins
    np.testing.assert_allclose(tr2.data.loc[tr2.data.track_id == "0", ["x", "y"]].to_numpy(), a / 0.2)


def test_trackmate_simple_tracks_xml(tmp_path):
    parts = []
    walks = [_walk(20), _walk(24)]
    for w, f0 in zip(walks, (0, 10)):
        det = "\n".join(f'    <detection t="{f0 + t}" x="{x!r}" y="{y!r}" z="0.0" />' for t, (x, y) in enumerate(w))
        parts.append(f'  <particle nSpots="{len(w)}">\n{det}\n  </particle>')
    p = tmp_path / "cell_Tracks.xml"
    p.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<Tracks nTracks="2" spaceUnits="pixel" frameInterval="0.1" '
                 'timeUnits="sec" generationDateTime="Mon, 1 Jan 2024" from="TrackMate v7.11.1">\n'
                 + "\n".join(parts) + "\n</Tracks>\n")
    tr = read_tracks(p)
    assert tr.format == "trackmate_tracks" and tr.ids == ["0", "1"] and tr.frame_interval == 0.1
    assert tr.first_frames.tolist() == [0, 10]
    np.testing.assert_allclose(tr.data.loc[tr.data.track_id == "1", ["x", "y"]].to_numpy(), walks[1])


# ----------------------------------------------------------------------------- policies
def test_gap_splits_track_and_warns(tmp_path, caplog):
    frames = np.r_[np.arange(0, 20), np.arange(23, 50)]  # gap after frame 19
    rows = trackpy_rows({5: (frames, _walk(len(frames))), 6: (np.arange(30), _walk(30))})
    p = write_trackpy(tmp_path / "gaps.csv", rows)
    with caplog.at_level(logging.WARNING, logger="andimamba.io"):
        tr = read_tracks(p)
    assert tr.ids == ["5.1", "5.2", "6"] and tr.lengths.tolist() == [20, 27, 30] and tr.n_split == 1
    assert any("split" in r.getMessage() and "1 track" in r.getMessage() for r in caplog.records)
    tr = read_tracks(p, min_length=21)  # the 20-frame piece is then too short
    assert tr.ids == ["5.2", "6"] and tr.skipped == [("5.1", 20)]


def test_short_tracks_reported_not_silently_dropped(tmp_path, caplog):
    rows = trackpy_rows({1: (np.arange(10), _walk(10)), 2: (np.arange(25), _walk(25))})
    p = write_trackpy(tmp_path / "short.csv", rows)
    with caplog.at_level(logging.WARNING, logger="andimamba.io"):
        tr = read_tracks(p)
    assert tr.ids == ["2"] and tr.skipped == [("1", 10)]
    assert any("min_length" in r.getMessage() for r in caplog.records)
    with pytest.raises(TrackFileError) as e:
        read_tracks(p, min_length=30)
    one_line(e, "short.csv", "min_length=30", "25 frames")


def test_three_d_refused(tmp_path):
    p = write_spots(tmp_path / "3d.csv", {0: (np.arange(20), _walk(20))}, unit="pixel", z=[0.0, 0.5, 1.0])
    with pytest.raises(TrackFileError) as e:
        read_tracks(p)
    one_line(e, "3d.csv", "3-D", "track 0", "line ")
    flat = write_spots(tmp_path / "flat.csv", {0: (np.arange(20), _walk(20))}, unit="pixel", z=[2.5])
    assert len(read_tracks(flat)) == 1  # a constant z (one focal plane) is fine


def test_to_batch(tmp_path):
    tr = Tracks.from_arrays({"a": _walk(5), "b": _walk(8)}, first_frames={"b": 100})
    batch, ids = tr.to_batch()
    assert ids == ["a", "b"] and batch.positions.shape == (2, 8, 2) and batch.positions.dtype == np.float32
    assert batch.lengths.tolist() == [5, 8] and not batch.positions[0, 5:].any()
    xy_b = tr.data[tr.data.track_id == "b"][["x", "y"]].to_numpy()
    np.testing.assert_allclose(batch.positions[1], xy_b - xy_b[0], rtol=1e-6, atol=1e-6)  # relative to the start
    assert tr.first_frames.tolist() == [0, 100]
    assert tr.to_batch(max_len=200)[0].positions.shape == (2, 200, 2)
    with pytest.raises(ValueError, match="max_len"):
        tr.to_batch(max_len=6)
    with pytest.raises(ValueError, match="together"):
        Tracks(pd.DataFrame({"track_id": ["a", "b", "a"], "frame": [0, 0, 1], "x": 0.0, "y": 0.0}))


# ----------------------------------------------------------------------------- formats
def test_auto_and_wrong_explicit_format(tmp_path):
    andi = write_andi(tmp_path / "trajs_fov_0.csv")
    with pytest.raises(TrackFileError) as e:
        read_tracks(andi, format="trackpy")
    one_line(e, "trajs_fov_0.csv", "format='trackpy' expects", "AnDi-2", "format='andi'")
    xml = tmp_path / "m.xml"
    xml.write_text(_trackmate_xml({0: (np.arange(20), _walk(20))}, shown=[0]))
    with pytest.raises(TrackFileError) as e:
        read_tracks(xml, format="andi")
    one_line(e, "m.xml", "TrackMate XML model", "format='trackmate_xml'")
    odd = write_trackpy(tmp_path / "odd.csv", [(1, 2, 3)], header="a,b,c")
    with pytest.raises(TrackFileError) as e:
        read_tracks(odd)
    one_line(e, "odd.csv", "columns a, b, c", "columns={'track': '...'")
    tm_tracks = write_trackpy(tmp_path / "tracks_table.csv", [("Track_0", 0, 0, 25)],
                              header="LABEL,TRACK_INDEX,TRACK_ID,NUMBER_SPOTS")
    with pytest.raises(TrackFileError) as e:
        read_tracks(tm_tracks)
    one_line(e, "tracks_table.csv", "no positions", "Spots table")


# ----------------------------------------------------------------------------- bad input, one by one
def _andi_lines(tmp_path, edit) -> tuple:
    p = write_andi(tmp_path / "trajs_fov_0.csv")
    lines = p.read_text().splitlines()
    edit(lines)
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(TrackFileError) as e:
        read_tracks(p)
    return e, p


def test_bad_missing_columns(tmp_path):
    p = write_trackpy(tmp_path / "cols.csv", [(1, 0, 1.0)], header="particle,frame,x")
    with pytest.raises(TrackFileError) as e:
        read_tracks(p, format="trackpy")
    one_line(e, "cols.csv", "line 1", "y position", "found columns particle, frame, x",
             "columns={'track': 'particle', 'frame': 'frame', 'x': 'x', 'y': '...'}")
    with pytest.raises(TrackFileError) as e:
        read_tracks(p, columns={"y": "pos_y"})
    one_line(e, "cols.csv", "missing column(s) pos_y", "columns={'y': 'pos_y'}")
    with pytest.raises(TrackFileError) as e:
        read_tracks(p, format="andi")
    one_line(e, "cols.csv", "line 1", "missing column(s) traj_idx, y", "found: particle, frame, x")


def test_bad_non_numeric(tmp_path):
    e, _ = _andi_lines(tmp_path, lambda ls: ls.__setitem__(7, "0.0,6.0,abc,1.0"))
    one_line(e, "trajs_fov_0.csv", "line 8", "track 0", "x is not a number ('abc')")


def test_bad_empty_cell(tmp_path):
    e, _ = _andi_lines(tmp_path, lambda ls: ls.__setitem__(30, "1.0,9.0,2.0,"))
    one_line(e, "line 31", "track 1", "y is empty")


def test_bad_nan_and_inf(tmp_path):
    e, _ = _andi_lines(tmp_path, lambda ls: ls.__setitem__(3, "0.0,2.0,nan,1.0"))
    one_line(e, "line 4", "track 0", "x is empty or NaN")
    e, _ = _andi_lines(tmp_path, lambda ls: ls.__setitem__(40, "1.0,23.0,1.0,inf"))
    one_line(e, "line 41", "track 1", "y is inf (infinite)")


def test_bad_fractional_frame(tmp_path):
    e, _ = _andi_lines(tmp_path, lambda ls: ls.__setitem__(5, "0.0,4.5,1.0,1.0"))
    one_line(e, "line 6", "track 0", "4.5", "not a whole number")


def test_bad_duplicate_frame(tmp_path):
    e, _ = _andi_lines(tmp_path, lambda ls: ls.append("0.0,3.0,1.0,1.0"))
    one_line(e, "track 0", "frame 3 appears twice", "line 5", "line 57")


def test_bad_empty_and_header_only(tmp_path):
    p = tmp_path / "empty.csv"
    p.write_text("")
    with pytest.raises(TrackFileError) as e:
        read_tracks(p)
    one_line(e, "empty.csv", "empty")
    p.write_text("traj_idx,frame,x,y\n")
    with pytest.raises(TrackFileError) as e:
        read_tracks(p)
    one_line(e, "empty.csv", "no data rows")


def test_bad_unreadable(tmp_path):
    with pytest.raises(TrackFileError) as e:
        read_tracks(tmp_path / "missing.csv")
    one_line(e, "missing.csv", "does not exist")
    with pytest.raises(TrackFileError) as e:
        read_tracks(tmp_path)
    one_line(e, "is a folder", "read_andi_folder")
    x = tmp_path / "tracks.xlsx"
    x.write_bytes(b"PK\x03\x04" + bytes(200))
    with pytest.raises(TrackFileError) as e:
        read_tracks(x)
    one_line(e, "tracks.xlsx", "Excel", "CSV")


def test_bad_xml(tmp_path):
    p = tmp_path / "cut.xml"
    full = _trackmate_xml({0: (np.arange(20), _walk(20))}, shown=[0])
    p.write_text(full[: len(full) // 2])  # truncated download / crashed save
    with pytest.raises(TrackFileError) as e:
        read_tracks(p)
    one_line(e, "cut.xml", "not valid XML", "line ")
    p.write_text(full.replace('<Spot ID="5" ', '<Spot ID="5000" '))
    with pytest.raises(TrackFileError) as e:
        read_tracks(p)
    one_line(e, "cut.xml", "spot ID=5", "track 0", "<AllSpots>")
    p.write_text(full.replace('FRAME="7"', 'FRAME="seven"'))
    with pytest.raises(TrackFileError) as e:
        read_tracks(p)
    one_line(e, "cut.xml", "spot ID=8", "track 0", "FRAME is not a number")


# ----------------------------------------------------------------------------- other tools' tables
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


def test_quot_and_saspt(tmp_path):
    """quot's trajectory CSV (pixels; y before x; x_detect and loc_idx must not be taken) and saspt's sample."""
    header = ("y,x,I0,bg,y_err,x_err,I0_err,bg_err,H_det,error_flag,snr,rmse,n_iter,y_detect,x_detect,frame,"
              "loc_idx,trajectory,subproblem_n_traj,subproblem_n_locs")
    rows = [(y, x, 133.9, 2.15, 0.198, 0.198, 15.3, 0.317, 0.0235, 0.0, 203.5, 2.29, 10.0, round(y), round(x),
             f, k, tid, 0, 1) for k, (tid, f, x, y) in enumerate(trackpy_rows(TWO))]
    quot = write_table(tmp_path / "region_0_7ms_trajs.csv", header, rows, fmt=repr)
    assert detect_format(quot) == "tidy"
    _check(read_tracks(quot))
    saspt = write_table(tmp_path / "sample_tracks.csv", "trajectory,frame,y,x",
                        [(tid, f, y, x) for tid, f, x, y in trackpy_rows(TWO)])
    _check(read_tracks(saspt))


def test_spot_on_csv_is_in_microns(tmp_path):
    """Spot-On's CSV format (as GDSC SMLM writes it): frame, t (s), trajectory, x (µm), y (µm)."""
    rows = [(f, f"{f * 0.01:.3f}", tid, x * 0.16, y * 0.16) for tid, f, x, y in trackpy_rows(TWO)]
    p = write_table(tmp_path / "spoton.csv", "frame,t,trajectory,x,y", rows)
    _check(read_tracks(p, pixel_size=0.16))  # µm -> px
    with pytest.raises(TrackFileError) as e:
        read_tracks(p)
    one_line(e, "spoton.csv", "Spot-On", "pixel_size=", "units='px'")
    _check(read_tracks(p, units="px"), scale=0.16)  # the user says pixels: no conversion


def test_mosaic_particle_tracker(tmp_path):
    """MOSAIC 'All Trajectories to Table' saved as CSV: an unnamed ' ' index column, z = 0, moments."""
    rows = [(k + 1, tid, f, x, y, 0, 4.208, 2.083, 5.315, 15.293, 48.155, 9.374)
            for k, (tid, f, x, y) in enumerate(trackpy_rows(TWO))]
    p = write_table(tmp_path / "Traj_cell.csv", " ,Trajectory,Frame,x,y,z,m0,m1,m2,m3,m4,NPscore", rows)
    _check(read_tracks(p))


def test_utrack_and_icy_tables(tmp_path):
    """A u-track table (TrackID, Frame, X, Y: any case) and Icy's track table (t = frame index, as 0.0)."""
    utrack = write_table(tmp_path / "utrack.csv", "TrackID,Frame,X,Y,A",
                         [(tid, f, x, y, 310.0) for tid, f, x, y in trackpy_rows(TWO)])
    _check(read_tracks(utrack))
    icy = write_table(tmp_path / "icy.csv", "trackID,t,x,y,z",
                      [(float(tid), float(f), x, y, 0.0) for tid, f, x, y in trackpy_rows(TWO)])
    _check(read_tracks(icy))
    icy_t_seconds = write_table(tmp_path / "icy_s.csv", "Track #,t,x,y",
                                [(tid, f * 0.05, x, y) for tid, f, x, y in trackpy_rows(TWO)])
    with pytest.raises(TrackFileError) as e:  # t in seconds is no frame number
        read_tracks(icy_t_seconds)
    one_line(e, "icy_s.csv", "frame number", "columns={'track': 'Track #', 'frame': '...'")
    blocks = tmp_path / "track_processor_ICY.csv"  # Icy's Excel export saved as CSV: one block per track
    blocks.write_text(",,,,,\ntrack #,0.0,,,,\n,,t,x,y,z\n,,0.0,129.8,995.0,0.0\n,,1.0,129.8,995.1,0.0\n")
    with pytest.raises(TrackFileError) as e:
        read_tracks(blocks)
    one_line(e, "track_processor_ICY.csv", "Icy", "TrackID, t, x, y")


def test_thunderstorm_and_smap_in_nanometres(tmp_path):
    """Localisation tables in nm: ThunderSTORM (quoted header, floats) linked by trackpy, and SMAP's xnm/ynm."""
    header = ('"id","frame","x [nm]","y [nm]","sigma [nm]","intensity [photon]","offset [photon]",'
              '"bkgstd [photon]","uncertainty [nm]"')
    rows = [(float(k + 1), float(f), x * 107.0, y * 107.0, 130.0, 900.0, 4.0, 2.0, 20.0)
            for k, (tid, f, x, y) in enumerate(trackpy_rows(TWO))]
    linked = write_table(tmp_path / "ts_linked.csv", header + ',"particle"',
                         [r + (tid,) for r, (tid, *_) in zip(rows, trackpy_rows(TWO))])
    _check(read_tracks(linked, pixel_size=0.107))  # nm / 1000 / (µm per px)
    with pytest.raises(TrackFileError) as e:
        read_tracks(linked)
    one_line(e, "ts_linked.csv", "nm", "x [nm]", "pixel_size=")
    with pytest.raises(TrackFileError) as e:  # a unit that contradicts the header is refused
        read_tracks(linked, units="um", pixel_size=0.107)
    one_line(e, "ts_linked.csv", "units='um'", "x [nm]", "nm")
    _check(read_tracks(linked, units="nanometers", pixel_size=0.107))  # agreeing is fine
    unlinked = write_table(tmp_path / "ts.csv", header, rows)
    with pytest.raises(TrackFileError) as e:  # its id is one per localisation, not a track id
        read_tracks(unlinked, pixel_size=0.107)
    one_line(e, "ts.csv", "no track id column", "ink the localisations", "columns={'track': '...'")
    smap = write_table(tmp_path / "smap.csv", "ID,frame,xnm,ynm,znm,phot,bg,locprecnm,track_id",
                       [(k, f, x * 100.0, y * 100.0, 0, 1000, 5, 12, tid)
                        for k, (tid, f, x, y) in enumerate(trackpy_rows(TWO))])
    _check(read_tracks(smap, pixel_size=0.1))


def test_freetrace_is_tidy_and_3d_refused(tmp_path):
    """FreeTrace writes traj_idx,frame,x,y,z: read as a tidy table so that a varying z is refused."""
    rows = [(tid, f, x, y, 0.0) for tid, f, x, y in trackpy_rows(TWO)]
    p = write_table(tmp_path / "cell_traces.csv", "traj_idx,frame,x,y,z", rows)
    assert detect_format(p) == "tidy"
    _check(read_tracks(p))
    rows[30] = rows[30][:4] + (0.4,)
    p = write_table(tmp_path / "cell3d_traces.csv", "traj_idx,frame,x,y,z", rows)
    with pytest.raises(TrackFileError) as e:
        read_tracks(p)
    one_line(e, "cell3d_traces.csv", "3-D", "line 32")


def test_ambiguous_columns_decided_by_content_or_refused(tmp_path):
    rows = [(tid, f"Track_{tid}", f, x, y) for tid, f, x, y in trackpy_rows(TWO)]
    p = write_table(tmp_path / "two_ids.csv", "trajectory,track,frame,x,y", rows)
    _check(read_tracks(p))  # 'track' holds text labels: the whole-number 'trajectory' is the track id
    rows = [(tid, tid + 100, f, x, y) for tid, f, x, y in trackpy_rows(TWO)]
    p = write_table(tmp_path / "both.csv", "particle,track_id,frame,x,y", rows)
    with pytest.raises(TrackFileError) as e:
        read_tracks(p)
    one_line(e, "both.csv", "line 1", "'particle', 'track_id'", "track id", "columns={'track': 'particle'}")
    tr = read_tracks(p, columns="track=track_id")  # the fix, as a string (what --columns passes)
    assert tr.ids == ["103", "111"]


def test_columns_string_and_units_vocabulary(tmp_path):
    rows = [(f, f"cell{tid}", x * 160.0, y * 160.0) for tid, f, x, y in trackpy_rows(TWO)]
    p = write_table(tmp_path / "custom.tsv", "t\tcell\tpx\tpy", rows, sep="\t")
    tr = read_tracks(p, columns=" track = cell, frame=t ,x=px,y=py", units="nanometer", pixel_size=0.16)
    assert tr.ids == ["cell3", "cell11"] and tr.format == "tidy"
    np.testing.assert_allclose(_xy(tr, "cell11"), TWO[11][1], rtol=1e-9)
    for bad in ("track=cell,frame", "track=cell,time=t"):
        with pytest.raises(ValueError) as e:
            read_tracks(p, columns=bad)
        one_line(e, "columns", "columns={'track': 'particle'")
    with pytest.raises(ValueError) as e:
        read_tracks(p, columns="track=cell", units="furlong")
    one_line(e, "furlong", "px, nm or um")


def test_dataframe_columns_recognised():
    df = pd.DataFrame([(tid, f, x * 100.0, y * 100.0) for tid, f, x, y in trackpy_rows(TWO)],
                      columns=["trajectory", "frame", "x [nm]", "y [nm]"], index=np.arange(100, 147))
    _check(tracks_from_dataframe(df, pixel_size=0.1))
    with pytest.raises(TrackFileError) as e:
        tracks_from_dataframe(df)
    one_line(e, "<DataFrame>", "nm", "pixel_size=")


# ----------------------------------------------------------------------------- rows that are wrong
def _trackpy_file(tmp_path, edit=None, name="t.csv"):
    p = write_trackpy(tmp_path / name, trackpy_rows(TWO))
    if edit:
        lines = p.read_text().splitlines()
        edit(lines)
        p.write_text("\n".join(lines) + "\n")
    return p


@pytest.mark.parametrize("row, needles", [
    ("3,39,45.03,48.91,1,2,3", ["line 6", "7 fields", "header has 4", "extra values"]),
    ("3,4,45,03,48.91", ["line 6", "5 fields", "'45,03'", "decimal comma", "45.03"]),
    ("3,4,45.03", ["line 6", "3 fields", "header has 4", "missing"]),
    ("3;4;45.03;48.91", ["line 6", "1 fields", "';' instead"]),
    ("3,4,1e20,48.91", ["line 6", "track 3", "1e+20", "px", "units=", "pixel_size="]),
    ("3,4,1e300,48.91", ["line 6", "track 3", "1e+300", "units="]),
    ("3,1e20,45.03,48.91", ["line 6", "track 3", "frame is 1e+20", "2147483647", "columns="]),
    ("3,99999999999999999999999,45.03,48.91", ["line 6", "track 3", "frame is 1e+23"]),
], ids=["long", "decimal-comma", "short", "other-separator", "position-1e20", "position-1e300", "frame-1e20",
        "frame-int64-overflow"])
def test_bad_rows_one_line_error(tmp_path, row, needles):
    p = _trackpy_file(tmp_path, lambda ls: ls.__setitem__(5, row))
    with pytest.raises(TrackFileError) as e:
        read_tracks(p)
    one_line(e, "t.csv", *needles)


def test_bad_rows_in_other_layouts(tmp_path):
    p = _andi_lines(tmp_path, lambda ls: ls.__setitem__(9, "0.0,8.0,45,03,48.91"))[1]
    with pytest.raises(TrackFileError) as e:  # the AnDi reader checks rows too
        read_tracks(p)
    one_line(e, "line 10", "decimal comma")
    semi = tmp_path / "semi.csv"  # European spreadsheet: ';' between columns and ',' in numbers
    semi.write_text("particle;frame;x;y\n" + "\n".join(f"{t};{f};{x:.2f};{y:.2f}".replace(".", ",")
                                                        for t, f, x, y in trackpy_rows(TWO)) + "\n")
    with pytest.raises(TrackFileError) as e:
        read_tracks(semi)
    one_line(e, "semi.csv", "line 2", "decimal comma", "45.03")
    rows = [(k,) + r for k, r in enumerate(trackpy_rows(TWO))]  # an index column without a name
    p = write_trackpy(tmp_path / "rindex.csv", rows)
    with pytest.raises(TrackFileError) as e:
        read_tracks(p)
    one_line(e, "rindex.csv", "line 1", "every row has 5 fields", "header has 4", "index")


def test_clean_oddities_still_read(tmp_path):
    """Blank lines, CRLF endings, quoted text with commas, a BOM, lines above the header, and a separator
    ending every row (as some exporters write) are fine."""
    trailing = write_table(tmp_path / "trailing.csv", "particle,frame,x,y", [r + ("",) for r in trackpy_rows(TWO)])
    assert trailing.read_text().splitlines()[1].endswith(",")
    _check(read_tracks(trailing))
    body = "\r\n".join(f'{t},"Cell {t}, dish 2",{f},{x!r},{y!r}' for t, f, x, y in trackpy_rows(TWO))
    p = tmp_path / "odd.csv"
    p.write_bytes(("\ufeff\r\nparticle,label,frame,x,y\r\n" + body.replace("\r\n", "\r\n\r\n", 1) + "\r\n\r\n\r\n")
                  .encode("utf-8"))
    tr = read_tracks(p)
    _check(tr)
    p2 = _trackpy_file(tmp_path, lambda ls: ls.__setitem__(5, "3,4,abc,1.0"), name="t2.csv")
    with pytest.raises(TrackFileError) as e:  # line numbers still count the real lines
        read_tracks(p2)
    one_line(e, "line 6", "x is not a number ('abc')")
