"""Readers: one test per kind of bad input, each a one-line TrackFileError naming file, line and fix."""

from __future__ import annotations

import numpy as np
import pytest
from track_files import (
    TWO,
    _check,
    _trackpy_file,
    _walk,
    one_line,
    trackmate_xml,
    trackpy_rows,
    write_andi,
    write_table,
    write_trackpy,
)

from andimamba.io import (
    TrackFileError,
    read_tracks,
)


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
    full = trackmate_xml({0: (np.arange(20), _walk(20))}, shown=[0])
    p.write_text(full[: len(full) // 2])  # truncated download / crashed save
    with pytest.raises(TrackFileError) as e:
        read_tracks(p)
    one_line(e, "cut.xml", "not valid XML", "line ")
    p.write_text(full.replace('<Spot ID="1028" ', '<Spot ID="5000" '))  # the 5th spot (IDs 1000 + 7k)
    with pytest.raises(TrackFileError) as e:
        read_tracks(p)
    one_line(e, "cut.xml", "spot ID=1028", "track 0", "<AllSpots>")
    p.write_text(full.replace('FRAME="7"', 'FRAME="seven"'))
    with pytest.raises(TrackFileError) as e:
        read_tracks(p)
    one_line(e, "cut.xml", "spot ID=1049", "track 0", "FRAME is not a number")




# ----------------------------------------------------------------------------- rows that are wrong

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
