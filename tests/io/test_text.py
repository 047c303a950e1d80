"""Raw CSV cells (:mod:`andimamba.io._text`): a large table parsed in parts on several threads gives exactly what the
one-piece parse gives — the same cells, line numbers and errors — and any file that could differ is parsed in one
piece."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from andimamba import threads
from andimamba.io import _text
from andimamba.io.errors import TrackFileError

ROWS = "".join(f"{i // 50},{i % 50},{0.5 * i:.6f},{-0.25 * i:.6f}\n" for i in range(400))

# file contents (header included) that the parts must read as the one-piece parse does
CASES = {
    "plain": "traj_idx,frame,x,y\n" + ROWS,
    "crlf": ("traj_idx,frame,x,y\n" + ROWS).replace("\n", "\r\n"),
    "blank lines": "\n\ntraj_idx,frame,x,y\n" + ROWS[:3000] + "\n\n" + ROWS[3000:],
    "no final newline": "traj_idx,frame,x,y\n" + ROWS.rstrip("\n"),
    "short row": "traj_idx,frame,x,y\n" + ROWS[:5000] + "3,4,1.5\n" + ROWS[5000:],
    "long row": "traj_idx,frame,x,y\n" + ROWS[:5000] + "3,4,1.5,2.5,9\n" + ROWS[5000:],
    "text cell late": "traj_idx,frame,x,y\n" + ROWS + "7,1,abc,2.0\n",
    "decimal comma late": "traj_idx,frame,x,y\n" + ROWS + "7,1,45,03,2.0\n",
    "quoted": 'traj_idx,frame,x,y\n' + ROWS + '"7",1,2.0,3.0\n',
    "semicolons, spaces": ("traj_idx; frame; x; y\n" + ROWS.replace(",", "; ")),
    "extra columns": "a,traj_idx,frame,x,y,z\n" + "".join(f"q,{r},1\n" for r in ROWS.splitlines()),
    "text ids": "traj_idx,frame,x,y\n" + "".join(f"cell_{r}\n" for r in ROWS.splitlines()),
    "text ids, one numeric": "traj_idx,frame,x,y\n" + "".join(f"{'' if i < 300 else 'c'}{r}\n"
                                                          for i, r in enumerate(ROWS.splitlines())),
    "empty cells": "traj_idx,frame,x,y\n" + ROWS[:4000] + "5,6,,1.0\n" + ROWS[4000:],
}


def _read(path, monkeypatch, workers):
    with monkeypatch.context() as m:
        m.setattr(_text, "PARALLEL_BYTES", 0 if workers > 1 else 1 << 60)
        m.setattr(threads, "io_threads", lambda: workers)
        try:
            return _text.read_columns(path, ["traj_idx", "frame", "x", "y"])
        except TrackFileError as exc:
            return str(exc)


@pytest.mark.parametrize("workers", [2, 3, 7])
@pytest.mark.parametrize("case", list(CASES))
def test_parts_read_as_the_one_piece_parse(tmp_path, monkeypatch, case, workers):
    p = tmp_path / "t.csv"
    p.write_bytes(CASES[case].encode())
    one, parts = _read(p, monkeypatch, 1), _read(p, monkeypatch, workers)
    if isinstance(one, str):  # an error: the same message, line number included
        assert parts == one
        return
    assert not isinstance(parts, str), parts
    pd.testing.assert_frame_equal(parts, one)


def test_parts_are_taken_only_where_they_cannot_differ(tmp_path, monkeypatch):
    monkeypatch.setattr(_text, "PARALLEL_BYTES", 0)
    p = tmp_path / "t.csv"
    p.write_bytes(CASES["plain"].encode())
    df = _text._parse_in_parts(p, ",", 4, [0, 1, 2, 3], 1, workers=2)
    assert df is not None and len(df) == 400 and df[0].dtype.kind == "i" and df[2].dtype.kind == "f"
    np.testing.assert_array_equal(df[1].to_numpy(), np.arange(400) % 50)  # file order across the cut
    assert _text._parse_in_parts(p, ",", 4, [0, 1, 2, 3], 1, workers=1) is None  # one thread: one piece
    p.write_bytes(CASES["text ids"].encode())  # text in every part: the parts' cells are the one-piece parse's
    df = _text._parse_in_parts(p, ",", 4, [0, 1, 2, 3], 1, workers=2)
    assert df is not None and df[0].iloc[0] == "cell_0" and df[0].iloc[-1] == "cell_7"
    for case in ("quoted", "text cell late", "text ids, one numeric"):  # quotes, numbers in one part and text in
        # another: left to the one-piece parse
        p.write_bytes(CASES[case].encode())
        assert _text._parse_in_parts(p, ",", 4, [0, 1, 2, 3], 1, workers=2) is None
    monkeypatch.setattr(_text, "PARALLEL_BYTES", 8 << 20)
    p.write_bytes(CASES["plain"].encode())
    assert _text._parse_in_parts(p, ",", 4, [0, 1, 2, 3], 1, workers=2) is None  # small file
