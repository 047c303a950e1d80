"""metrics.labels: label files read as the official reader reads them."""

from __future__ import annotations

import pytest
from random_labels import write_lines

from andimamba.metrics import read_labels_file, traj_idx


def test_read_labels_file_warns_and_keeps_first(tmp_path):
    p = write_lines(tmp_path / "fov_0.txt", ["0,1,1,2,50", "1,1,1,2", "2,1,1", "0,1,1,2,60", "", "4,1,1,2,30,1,1,1"])
    with pytest.warns(UserWarning) as rec:
        labs = read_labels_file(p)
    msg = str(rec[0].message)
    assert len(rec) == 1 and str(p) in msg
    assert "1 line(s) of invalid length dropped (lines [3]" in msg  # "2,1,1"; the blank line is skipped
    assert "do not end with T" in msg and "no CP/T field" in msg and "1 repeated traj_idx" in msg
    assert list(labs) == [0, 1, 4] and labs[0].T == 50  # file order, first line of a repeated index
    assert labs[1].T is None and labs[4].T == 30 and len(labs[4].alphas) == 2


def test_read_labels_file_quiet_and_numeric_keys(tmp_path):
    p = write_lines(tmp_path / "fov_0.txt", ["3.0,1,1,2,50", "2.5,1,1,2,40", "-1,1,1,2,20", "1,1,1"])
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        labs = read_labels_file(p, warn=False)
    assert list(labs) == [3, 2.5, -1] and isinstance(list(labs)[0], int)
    assert [traj_idx(r) for r in labs.values()] == [3, 2.5, -1]
    with pytest.raises(ValueError, match="non-numeric"):
        read_labels_file(write_lines(tmp_path / "bad.txt", ["0,1,x,2,50"]))
