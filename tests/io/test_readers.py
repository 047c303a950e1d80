"""Readers: every format through read_tracks, auto-detection, units, gaps (other tools' tables and bad input: test_readers_*.py)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from track_files import (
    RNG,
    _walk,
    one_line,
    trackmate_xml,
    trackpy_rows,
    write_andi,
    write_trackpy,
)

from andimamba.io import (
    TrackFileError,
    Tracks,
    detect_format,
    read_andi_folder,
    read_tracks,
    tracks_from_dataframe,
)


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


@pytest.mark.parametrize("order", ["sorted", "frames reversed", "tracks interleaved", "shuffled"])
def test_row_order_does_not_change_the_tracks(tmp_path, order):
    """Rows by track then frame take a path without sorting; any other order is sorted: same tracks either way,
    and ``source_rows`` still names each position's row in the file."""
    rng = np.random.default_rng(3)
    ids, frames = np.repeat([7, 2, 9], [30, 25, 40]), np.r_[np.arange(30), np.arange(5, 30), np.arange(40)]
    xy = rng.normal(size=(len(ids), 2)).cumsum(0)
    rows = np.arange(len(ids))
    if order == "frames reversed":
        rows = rows[::-1]
    elif order == "tracks interleaved":
        rows = np.argsort(np.r_[np.arange(30), np.arange(25), np.arange(40)], kind="stable")
    elif order == "shuffled":
        rows = rng.permutation(len(ids))
    df = pd.DataFrame({"traj_idx": ids[rows], "frame": frames[rows], "x": xy[rows, 0], "y": xy[rows, 1]})
    df.to_csv(tmp_path / "t.csv", index=False, float_format="%.17g")
    tr = read_tracks(tmp_path / "t.csv")
    first_seen = list(dict.fromkeys(ids[rows].astype(str)))
    assert tr.ids == first_seen and tr.lengths.tolist() == [{"7": 30, "2": 25, "9": 40}[i] for i in first_seen]
    for tid in first_seen:
        want = np.flatnonzero(ids == int(tid))  # this track's positions, frame order
        got = tr.data[tr.data.track_id == tid]
        np.testing.assert_array_equal(got.frame.to_numpy(), frames[want])
        np.testing.assert_allclose(got[["x", "y"]].to_numpy(), xy[want], rtol=1e-13)  # pandas parses to ~1 ulp
    # source_rows: the file row of every position
    np.testing.assert_array_equal(rows[tr.source_rows], np.concatenate([np.flatnonzero(ids == int(t)) for t in first_seen]))


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


@pytest.mark.parametrize("workers", [1, 3])
def test_andi_folder_read_on_threads_as_one_by_one(tmp_path, monkeypatch, workers):
    """The FOV files are read several at once: the same Tracks in the same order, and the first bad file in that
    order is the one an error names."""
    from andimamba import threads

    monkeypatch.setattr(threads, "io_threads", lambda: workers)
    for j in range(5):
        write_andi(tmp_path / "track_2" / "exp_0" / f"trajs_fov_{j}.csv", lengths=(25 + j, 30), first=(j, 0))
    out = read_andi_folder(tmp_path)
    assert [t.fov for t in out] == list(range(5))
    assert [t.lengths.tolist() for t in out] == [[25 + j, 30] for j in range(5)]
    for j in (3, 1):  # two bad files: FOV 1 comes first in the folder's order
        p = tmp_path / "track_2" / "exp_0" / f"trajs_fov_{j}.csv"
        p.write_text(p.read_text().replace("\n", "\n1,2,abc,4\n", 1))
    with pytest.raises(TrackFileError) as e:
        read_andi_folder(tmp_path)
    one_line(e, "trajs_fov_1.csv", "abc")


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


def test_trackmate_xml_model(tmp_path):
    a, b, c = _walk(25), _walk(22), _walk(30)
    p = tmp_path / "model.xml"
    p.write_text(trackmate_xml({0: (np.arange(25), a), 1: (np.arange(3, 25), b), 2: (np.arange(30), c)},
                                shown=[0, 1], unit="micron", roi_text=True))
    assert detect_format(p) == "trackmate_xml"
    tr = read_tracks(p)  # pixel size and frame interval from <ImageData>
    assert tr.ids == ["0", "1"] and tr.pixel_size == 0.107 and tr.frame_interval == 0.03
    np.testing.assert_allclose(tr.data.loc[tr.data.track_id == "1", ["x", "y"]].to_numpy(), b / 0.107)
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
    xml.write_text(trackmate_xml({0: (np.arange(20), _walk(20))}, shown=[0]))
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
