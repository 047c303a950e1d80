"""TrackMate readers on the layouts labs have: branched tracks, calibration of v2.8-v7 files, unlinked spots.

The files are written the way TrackMate writes them (element order, attribute names, float32 calibration
of TrackMate 2-6, the 4-row header of TrackMate 7 tables, the one-row ImageJ tables of TrackMate 3-6).
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
from track_files import TRACKMATE_DT as DT
from track_files import TrackMateModel

from andimamba.io.errors import TrackFileError, spelling
from andimamba.io.trackmate import (
    read_trackmate_spots,
    read_trackmate_tracks,
    read_trackmate_xml,
)

RNG = np.random.default_rng(7)


def _walk(n: int, x0=5.0, y0=8.0) -> np.ndarray:
    return np.array([x0, y0]) + np.cumsum(RNG.normal(0, 0.05, (n, 2)), axis=0)  # (n, 2) µm


def _positions(tr, tid) -> np.ndarray:
    return tr.data.loc[tr.data.track_id == tid, ["x", "y"]].to_numpy()


def test_xml_branched_track_cut_into_linear_pieces(tmp_path, caplog):
    m = TrackMateModel()
    a, b, c, d = _walk(6), _walk(6, 9.0), _walk(6, 2.0), _walk(6, 5.5)
    ida = m.chain(0, range(6), a)
    idb = m.chain(0, range(6, 12), b, link_to=ida[-1])  # split at frame 5: two daughters
    c_frames = [6, 7, 8, 10, 11]  # the second daughter misses frame 9 (gap closing)
    idc = m.chain(0, c_frames, c[[0, 1, 2, 4, 5]], link_to=ida[-1])
    idd = m.chain(0, range(12, 18), d, link_to=idb[-1])  # merge at frame 12...
    m.edges[0].append((idd[0], idc[-1]))  # ...the second link written target first, as TrackMate may
    m.edges[0] = [(t, s) if i % 3 == 0 else (s, t) for i, (s, t) in enumerate(m.edges[0])]  # undirected graph
    one = _walk(8)
    m.chain(1, range(2, 10), one)
    m.chain(2, range(4), _walk(4))  # hidden by a track filter
    for f in (3, 4, 40):
        m.spot(f, 1.0, 1.0)  # never linked
    m.spot(5, 2.0, 2.0, visible=0)  # removed by a spot filter: not counted
    p = tmp_path / "branched.xml"
    p.write_text(m.xml(shown=[0, 1]), encoding="utf-8")

    with caplog.at_level(logging.INFO, logger="andimamba.io"):
        tr = read_trackmate_xml(p, min_length=3)
    assert tr.ids == ["0.b1", "0.b2", "0.b3.1", "0.b4", "1"]
    assert tr.first_frames.tolist() == [0, 6, 6, 12, 2] and tr.lengths.tolist() == [6, 6, 3, 6, 8]
    assert tr.skipped == [("0.b3.2", 2)]  # frames 10-11 of the second daughter, after its gap
    assert (tr.n_branched, tr.n_split, tr.n_unlinked_spots) == (1, 1, 3 + 4)
    for tid, xy in (("0.b1", a), ("0.b2", b), ("0.b3.1", c[:3]), ("0.b4", d), ("1", one)):
        np.testing.assert_allclose(_positions(tr, tid), xy / 0.107, rtol=1e-12)
    msgs = [r.getMessage() for r in caplog.records]
    assert any("1 track(s) branch" in s and "4 linear piece(s)" in s and "<TRACK_ID>.b<k>" in s for s in msgs)
    assert any("7 visible spot(s) belong to no visible track" in s for s in msgs)


F32 = {"pw": repr(float(np.float32(0.107))), "dt": repr(float(np.float32(DT)))}  # '0.10700000077486038'


@pytest.mark.parametrize("layout", ["v7", "v2.8", "settings-first", "pre-2.0", "nm"])
def test_xml_calibration_read_from_every_layout(tmp_path, layout):
    m = TrackMateModel()
    xy = _walk(12)
    unit, scale, pw, dt, where, version = "µm", 1.0, "0.107", "0.03", "after", "7.11.1"
    if layout == "v2.8":  # TrackMate 2-6 stored pixel size and interval as float32
        unit, pw, dt, version = "micron", F32["pw"], F32["dt"], "2.8.1"
    elif layout == "settings-first":
        where, version = "before", "3.4.2"
    elif layout == "pre-2.0":
        where, version = "root", "1.3.0"
    elif layout == "nm":
        unit, scale, pw = "nm", 1000.0, "107.0"
    m.chain(4, range(12), xy * scale)
    image = (f'<ImageData filename="cell.tif" folder="/data/" width="512" height="512" nslices="1" nframes="200" '
             f'pixelwidth="{pw}" pixelheight="{pw}" voxeldepth="1.0" timeinterval="{dt}"'
             + (f' spatialunits="{unit}" timeunits="sec" />' if layout == "pre-2.0" else " />"))
    p = tmp_path / f"{layout}.xml"
    p.write_text(m.xml(shown=[4], version=version, unit=unit, image=image, where=where), encoding="utf-8")
    tr = read_trackmate_xml(p, min_length=5)  # no option: the calibration is in the file
    assert tr.pixel_size == pytest.approx(0.107, rel=1e-12) and tr.frame_interval == pytest.approx(DT, rel=1e-12)
    if layout == "v2.8":
        assert (tr.pixel_size, tr.frame_interval) == (0.107, DT)  # as the user typed them, not float32 noise
    np.testing.assert_allclose(_positions(tr, "4"), xy / 0.107, rtol=1e-9)
    with pytest.raises(TrackFileError, match="contradicts the file"):  # one units policy: no silent override
        read_trackmate_xml(p, min_length=5, units="px")
    assert read_trackmate_xml(p, min_length=5, units="nm" if layout == "nm" else "um").pixel_size == pytest.approx(0.107)


PLACEHOLDER = ('<ImageData filename="" folder="" width="0" height="0" nslices="0" nframes="0" pixelwidth="1.0" '
               'pixelheight="1.0" voxeldepth="1.0" timeinterval="1.0" />')


@pytest.mark.parametrize("image, why", [
    (PLACEHOLDER, "placeholder for a session without an image"),
    (None, "no <ImageData>"),
    ('<ImageData filename="cell.tif" folder="" width="512" height="512" pixelwidth="" timeinterval="" />',
     "<ImageData pixelwidth=''> is not a pixel size"),
    ('<ImageData filename="cell.tif" folder="" width="512" height="512" pixelwidth="NaN" timeinterval="0.03" />',
     "<ImageData pixelwidth='NaN'> is not a pixel size"),
])
def test_xml_without_usable_calibration_asks_for_pixel_size(tmp_path, image, why):
    m = TrackMateModel()
    xy = _walk(10)
    m.chain(0, range(10), xy)
    p = tmp_path / "nocal.xml"
    p.write_text(m.xml(shown=[0], unit="micron", time="sec", image=image or "",
                       where="none" if image is None else "after"), encoding="utf-8")
    with pytest.raises(TrackFileError) as e:
        read_trackmate_xml(p, min_length=5)
    msg = str(e.value)
    assert "\n" not in msg and "nocal.xml" in msg and "positions are in micron" in msg and why in msg
    assert msg.endswith("with pixel_size=...")
    with spelling("cli"), pytest.raises(TrackFileError) as e:
        read_trackmate_xml(p, min_length=5)
    assert str(e.value).endswith("with --pixel-size ...")
    tr = read_trackmate_xml(p, pixel_size=0.1, min_length=5)
    np.testing.assert_allclose(_positions(tr, "0"), xy / 0.1, rtol=1e-12)
    assert tr.pixel_size == 0.1 and tr.frame_interval == pytest.approx(DT)  # from POSITION_T / FRAME, not the 1.0


def test_xml_user_pixel_size_wins_and_pixel_units(tmp_path, caplog):
    m = TrackMateModel()
    xy = _walk(10)
    m.chain(0, range(10), xy)
    p = tmp_path / "cal.xml"
    p.write_text(m.xml(shown=[0]), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="andimamba.io"):
        tr = read_trackmate_xml(p, pixel_size=0.2, min_length=5)
        close = read_trackmate_xml(p, pixel_size=0.1075, min_length=5)  # within 1 %: silent
    assert tr.pixel_size == 0.2 and close.pixel_size == 0.1075
    np.testing.assert_allclose(_positions(tr, "0"), xy / 0.2, rtol=1e-12)
    warned = [r.getMessage() for r in caplog.records if "pixel_size" in r.getMessage()]
    assert len(warned) == 1 and "0.2" in warned[0] and "0.107" in warned[0]

    px = tmp_path / "px.xml"  # an uncalibrated image: unit pixel, pixelwidth 1
    px.write_text(m.xml(shown=[0], unit="pixel", time="frame", image=(
        '<ImageData filename="cell.tif" folder="" width="512" height="512" nslices="1" nframes="200" '
        'pixelwidth="1.0" pixelheight="1.0" voxeldepth="1.0" timeinterval="1.0" />')), encoding="utf-8")
    tr = read_trackmate_xml(px, min_length=5)
    assert tr.pixel_size is None and tr.frame_interval is None
    np.testing.assert_allclose(_positions(tr, "0"), xy, rtol=1e-12)


# ----------------------------------------------------------------------------- spots table CSV
V7_HEADER = (
    "LABEL,ID,TRACK_ID,QUALITY,POSITION_X,POSITION_Y,POSITION_Z,POSITION_T,FRAME,RADIUS,VISIBILITY,"
    "MANUAL_SPOT_COLOR,MEAN_INTENSITY_CH1\n"
    "Label,Spot ID,Track ID,Quality,X,Y,Z,T,Frame,Radius,Visibility,Manual spot color,Mean intensity ch1\n"
    "Label,Spot ID,Track ID,Quality,X,Y,Z,T,Frame,R,Visibility,Spot color,Mean ch1\n"
    ",,,(quality),(micron),(micron),(micron),(sec),,(micron),,,(counts)\n"
)


def test_spots_csv_branched_track_cut_and_unlinked_spots(tmp_path, caplog):
    before, after, other = _walk(10), _walk(12, 7.0), _walk(20, 1.0)
    rows, sid = [], 500

    def row(tid, f, x, y):
        nonlocal sid
        sid += 1
        return f"ID{sid},{sid},{tid},31.2,{x!r},{y!r},0.0,{f * DT:.3f},{f},0.25,1,,180.5"

    rows += [row(7, f, x, y) for f, (x, y) in zip(range(10), before)]
    rows += [row(7, f, x + dx, 8.0) for f, x in zip(range(10, 14), _walk(4)[:, 0]) for dx in (0.0, 0.9)]  # 2 branches
    rows += [row(7, f, x, y) for f, (x, y) in zip(range(14, 26), after)]
    rows += [row(3, f, x, y) for f, (x, y) in zip(range(20), other)]
    rows += [f"ID{sid + 1},{sid + 1},,4.0,1.5,2.5,0.0,0.090,3,0.25,1,,30.0",  # TrackMate 7: no track -> empty
             f"ID{sid + 2},{sid + 2},,3.5,9.5,0.5,0.0,0.120,4,0.25,1,,28.0"]
    rows = [rows[i] for i in RNG.permutation(len(rows))]  # the table can be sorted by any column
    p = tmp_path / "spots.csv"
    p.write_text(V7_HEADER + "\n".join(rows) + "\n")

    with caplog.at_level(logging.INFO, logger="andimamba.io"):
        tr = read_trackmate_spots(p, pixel_size=0.1, min_length=5)
    assert sorted(tr.ids) == ["3", "7.b1", "7.b2"] and (tr.n_branched, tr.n_split, tr.n_unlinked_spots) == (1, 0, 2)
    for tid, f0, xy in (("7.b1", 0, before), ("7.b2", 14, after), ("3", 0, other)):
        assert tr.data.loc[tr.data.track_id == tid, "frame"].tolist() == list(range(f0, f0 + len(xy)))
        np.testing.assert_allclose(_positions(tr, tid), xy / 0.1, rtol=1e-12)
    assert tr.frame_interval == pytest.approx(DT)
    msgs = [r.getMessage() for r in caplog.records]
    assert any("1 track(s) have several spots in one frame" in s and "2 piece(s)" in s and "8 spot(s)" in s
               for s in msgs)
    assert any("2 spot(s) belong to no track" in s for s in msgs)


def test_spots_csv_trackmate3_results_table(tmp_path):
    """TrackMate 3-6: an ImageJ results table (row numbers, one header row, 'None' for no track, 3 decimals)."""
    xy = np.round(_walk(15), 3)
    lines = [" ,Label,ID,TRACK_ID,QUALITY,POSITION_X,POSITION_Y,POSITION_Z,POSITION_T,FRAME,RADIUS,VISIBILITY"]
    for i, (x, y) in enumerate(xy):
        lines.append(f"{i + 1},ID{200 + i},{200 + i},2,15.301,{x:.3f},{y:.3f},0.000,{i * DT:.3f},{i},0.250,1")
    lines.append(f"{len(xy) + 1},ID999,999,None,3.100,4.000,4.000,0.000,0.000,0,0.250,1")
    p = tmp_path / "All Spots statistics.csv"
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(TrackFileError) as e:
        read_trackmate_spots(p)
    assert "no units row" in str(e.value) and "units='px'" in str(e.value) and "pixel_size=..." in str(e.value)
    with spelling("cli"), pytest.raises(TrackFileError) as e:
        read_trackmate_spots(p)
    assert "--units px" in str(e.value) and "--units um" in str(e.value)
    tr = read_trackmate_spots(p, units="um", pixel_size=0.1, min_length=5)
    assert tr.ids == ["2"] and tr.n_unlinked_spots == 1 and tr.n_branched == 0
    np.testing.assert_allclose(_positions(tr, "2"), xy / 0.1, rtol=1e-12)


# ----------------------------------------------------------------------------- simple tracks XML
def _particle(frames, xy, n_spots=None) -> str:
    det = "\n".join(f'    <detection t="{f}" x="{x!r}" y="{y!r}" z="0.0" />' for f, (x, y) in zip(frames, xy))
    attr = f' nSpots="{len(xy) if n_spots is None else n_spots}"' if n_spots != "absent" else ""
    return f"  <particle{attr}>\n{det}\n  </particle>"


def _tracks_xml(parts) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Tracks nTracks="{len(parts)}" spaceUnits="pixel" frameInterval="0.03" '
            'timeUnits="sec" generationDateTime="Mon, 1 Jan 2024 10:00:00" from="TrackMate v7.11.1">\n'
             + "\n".join(parts) + "\n</Tracks>\n")


def test_simple_tracks_xml_flattened_and_duplicated_frames(tmp_path, caplog):
    flat, ok, dup = _walk(10), _walk(10), _walk(13)
    dup_frames = [*range(6), 5, *range(6, 12)]  # frame 5 twice (a file from another program)
    p = tmp_path / "cell_Tracks.xml"
    p.write_text(_tracks_xml([
        _particle(range(10), flat, n_spots=14),  # TrackMate kept one detection per time point of a branched track
        _particle(range(3, 13), ok),
        _particle(dup_frames, dup, n_spots="absent"),
    ]))
    with caplog.at_level(logging.WARNING, logger="andimamba.io"):
        tr = read_trackmate_tracks(p, min_length=3)
    assert tr.ids == ["1", "2.b1", "2.b2"] and tr.first_frames.tolist() == [3, 0, 6] and tr.n_branched == 2
    assert tr.frame_interval == 0.03 and tr.pixel_size is None
    np.testing.assert_allclose(_positions(tr, "1"), ok)
    np.testing.assert_allclose(_positions(tr, "2.b1"), dup[:5])
    np.testing.assert_allclose(_positions(tr, "2.b2"), dup[7:])
    msgs = [r.getMessage() for r in caplog.records]
    assert any("1 particle(s) were left out" in s and "nSpots=14 but 10 detections" in s for s in msgs)
    assert any("1 track(s) have several spots in one frame" in s for s in msgs)

    p.write_text(_tracks_xml([_particle(range(10), flat, n_spots=12)]))
    with pytest.raises(TrackFileError) as e:
        read_trackmate_tracks(p, min_length=3)
    assert "every particle" in str(e.value) and "TrackMate XML model file" in str(e.value)
