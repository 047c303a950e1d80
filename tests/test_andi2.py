"""andi2: the AnDi-2 format — label lines written and parsed, ensemble files, folder layout, constants."""

from __future__ import annotations

import numpy as np
import pytest

from andimamba import andi2
from andimamba.result import SegmentResult


def test_label_line_round_trip():
    r = SegmentResult("12", 200, [3, 100, 197], [1.95, 0.8, 0.1, 1.0], [2.0, 0.5, 1e-9, 1 / 3], [3, 2, 1, 2])
    line = andi2.label_line(r)
    assert line.startswith("12,2.0,1.95,3,3,0.5,0.8,2,100,") and line.endswith(",2,200")
    back = andi2.parse_label_line(line)
    assert back.track_id == "12" and back.T == 200 and back.cps.tolist() == [3, 100, 197]
    for f in ("alphas", "Ks", "states"):
        np.testing.assert_array_equal(getattr(back, f), getattr(r, f))  # repr precision: exact
    assert andi2.label_line(SegmentResult(7, 30, [], [0.0], [0.0], [0])) == "7,0.0,0.0,0,30"


def test_label_line_refuses():
    with pytest.raises(ValueError, match="integer traj_idx"):
        andi2.label_line(SegmentResult("5.2", 20, [], [1.0], [1.0], [2]))
    with pytest.raises(ValueError, match="finite"):
        andi2.label_line(SegmentResult("5", 20, [], [1.0], [np.inf], [2]))


def test_parse_label_line_official_semantics():
    t = andi2.parse_label_line("3,0.1,0.5,2,40,1.0,1.2,3,100")
    assert t.track_id == "3" and t.T == 100 and t.cps.tolist() == [40]
    assert t.Ks.tolist() == [0.1, 1.0] and t.alphas.tolist() == [0.5, 1.2] and t.states.tolist() == [2, 3]
    no_t = andi2.parse_label_line("3,0.1,0.5,2,40,1.0,1.2,3")  # 4n values: the last CP is read as T
    assert no_t.T == 40 and no_t.cps.tolist() == [] and len(no_t.alphas) == 2
    assert andi2.parse_label_line("3,0.1,0.5,2").T is None and andi2.parse_label_line("3").T is None
    for dropped in ("3,0.1,0.5,2,40,1", "3,0.1", "", "  "):
        assert andi2.parse_label_line(dropped) is None
    assert andi2.parse_label_line("1,1,1,1,50.9,1,1,1,100").cps.tolist() == [50]  # astype(int) truncation
    assert andi2.parse_label_line("3.0,1,1,2.7,50").track_id == "3"
    assert andi2.parse_label_line("1,1,1,2.7,50").states.tolist() == [2.7]  # kept as written
    assert andi2.parse_label_line("1,1,1,1,nan,1,1,1,100").cps[0] == np.iinfo(np.int64).min
    with pytest.raises(ValueError, match="non-numeric"):
        andi2.parse_label_line("1,a,1,1,100")


def test_ensemble_text_and_read_back(tmp_path):
    mat = np.array([[1.0, 0.5], [0.01, 0.02], [1.0, 0.05], [0.01, 1e-4], [0.7, 0.3]])
    text = andi2.ensemble_text("multi_state", mat)
    assert text.splitlines()[0] == "model: multi_state; num_state: 2 "
    p = andi2.ensemble_file(tmp_path)
    p.write_text(text)
    np.testing.assert_array_equal(andi2.read_ensemble_matrix(p), mat)
    info = np.loadtxt(p, max_rows=1, dtype=str)  # how andi_datasets reads the header
    assert info[1][:-1] == "multi_state" and int(info[-1]) == 2
    one = andi2.ensemble_text("single_state", mat[:, 0])  # one state: a (5,) vector
    assert "num_state: 1" in one and len(one.splitlines()) == 6
    for bad, msg in ((mat[:4], "5, k"), (mat * np.nan, "finite")):
        with pytest.raises(ValueError, match=msg):
            andi2.ensemble_text("multi_state", bad)
    with pytest.raises(ValueError, match="one word"):
        andi2.ensemble_text("multi state", mat)


def test_layout(tmp_path):
    e = andi2.exp_dir(tmp_path, 3)
    assert e == tmp_path / "track_2" / "exp_3" and andi2.track_dir(tmp_path, 1) == tmp_path / "track_1"
    assert andi2.trajs_file(e, 0).name == "trajs_fov_0.csv" and andi2.truth_file(e, 1).name == "traj_labs_fov_1.txt"
    assert andi2.fov_file(e, 2).name == "fov_2.txt" and andi2.ensemble_file(e).name == "ensemble_labels.txt"
    assert andi2.vip_file(e, 0).name == "vip_idx_fov_0.txt"
    assert andi2.EXP_NAME.fullmatch("exp_12").group(1) == "12" and not andi2.EXP_NAME.fullmatch("exp_x")
    assert andi2.TRAJS_NAME.fullmatch("trajs_fov_4.csv").group(1) == "4"
    e.mkdir(parents=True)
    for j in range(3):
        andi2.truth_file(e, j).write_text("")
    andi2.fov_file(e, 0).write_text("")
    assert andi2.n_truth_fovs(e) == 3
    assert sorted(p.name for p in tmp_path.glob(f"track_2/{andi2.EXP_GLOB}/traj_labs_fov_*.txt")) == [
        "traj_labs_fov_0.txt", "traj_labs_fov_1.txt", "traj_labs_fov_2.txt"]


def test_states_and_bounds():
    assert andi2.STATE_NAMES == {0: "immobile", 1: "confined", 2: "free", 3: "directed"} and andi2.N_STATES == 4
    assert (andi2.IMMOBILE, andi2.CONFINED, andi2.FREE, andi2.DIRECTED) == (0, 1, 2, 3)
    assert andi2.ALPHA_BOUNDS == (0.0, 1.999) and andi2.K_BOUNDS == (1e-12, 1e6)


def test_constants_match_andi_datasets():
    mp = pytest.importorskip("andi_datasets.models_phenom").models_phenom()
    assert tuple(andi2.ALPHA_BOUNDS) == tuple(mp.bound_alpha) and tuple(andi2.K_BOUNDS) == tuple(mp.bound_D)
    assert andi2.ALPHA_DIRECTED == mp.alpha_directed
    assert [andi2.STATE_NAMES[c][0] for c in range(andi2.N_STATES)] == mp.lab_state  # i, c, f, d
