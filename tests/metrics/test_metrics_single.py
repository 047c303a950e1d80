"""metrics.single: hand-computed cases, and number-for-number agreement with andi-datasets' scorer.

Official quirks reproduced on purpose (each exercised here or in the random experiments):
- a line without T has its last CP read as T (that CP is not scored); lines of length 4n+2/4n+3
  are dropped and their tracks score as missing (placeholder pair α 2|0, K 1e5+1|1, state 10|0);
- a prediction without CP against a truth with CPs pairs its α with truth segment 0 or 1 (the
  *position* in ``row_ind``, not the segment index);
- invalid α (NaN, <0, >2) → truth + 2; NaN K → |truth| + 1e5; K in absolute value; states
  outside [0, 4] → 0, compared after ``astype(int)``; α MAE capped at 1.999, K MSLE at ≈190.9.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from random_labels import assert_same, random_experiment, write_lines

from andimamba.metrics import read_labels_file, single_trajectory_scores
from andimamba.result import SegmentResult


def _tl(T, cps, alphas=None, Ks=None, states=None, idx=0):
    m = len(cps) + 1
    return SegmentResult(idx, T, np.array(cps, dtype=np.int64), np.array(alphas if alphas is not None else [0.5] * m, float),
                         np.array(Ks if Ks is not None else [1.0] * m, float),
                         np.array(states if states is not None else [2.0] * m, float), check=False)


def test_hand_computed_changepoints():
    truth = {0: _tl(100, [50])}
    s = single_trajectory_scores(truth, {0: _tl(100, [53])})
    assert s["rmse_cp"] == 3 and s["jsc_cp"] == 1 and s["alpha_mae"] == 0 and s["K_msle"] == 0 and s["state_f1"] == 1
    s = single_trajectory_scores(truth, {0: _tl(100, [62])})  # off by 12: FP + FN
    assert s["rmse_cp"] == 0 and s["jsc_cp"] == 0  # alone, no TP at all: 0 / (0 + 1 + 1)
    two = {0: _tl(100, [50]), 1: _tl(80, [])}
    s = single_trajectory_scores(two, {0: _tl(100, [62]), 1: _tl(80, [])})
    assert s["jsc_cp"] == 1 / 3  # the empty-both track counts one TP: 1 / (1 + 1 + 1)
    s = single_trajectory_scores(two, {0: _tl(100, [45, 70]), 1: _tl(80, [])})  # TP(5) + FP, empty TP
    assert s["rmse_cp"] == 5 and s["jsc_cp"] == 2 / 3
    s = single_trajectory_scores({0: _tl(50, [])}, {0: _tl(50, [])})
    assert s["rmse_cp"] == 0 and s["jsc_cp"] == 1


def test_hand_computed_missing_and_invalid():
    truth = {0: _tl(100, [], alphas=[1.0], Ks=[1.0], states=[2])}
    s = single_trajectory_scores(truth, {})
    assert s["rmse_cp"] == 0 and s["jsc_cp"] == 0 and s["alpha_mae"] == 1.999  # 2, capped
    assert np.isclose(s["K_msle"], (np.log1p(1e5 + 1) - np.log(2)) ** 2) and s["state_f1"] == 0
    s = single_trajectory_scores(truth, {0: _tl(100, [], alphas=[np.nan], Ks=[np.nan], states=[7])})
    assert s["alpha_mae"] == 1.999 and np.isclose(s["K_msle"], (np.log(2) - np.log1p(1 + 1e5)) ** 2)
    assert s["state_f1"] == 0  # 7 → 0 ≠ 2
    s = single_trajectory_scores(truth, {0: _tl(100, [], alphas=[1.5], Ks=[-1.0], states=[2.7])})
    assert s["alpha_mae"] == 0.5 and s["K_msle"] == 0 and s["state_f1"] == 1  # |K|, int(2.7) == 2
    with pytest.raises(ValueError, match="inf"):
        single_trajectory_scores(truth, {0: _tl(100, [], Ks=[np.inf])})


def test_segment_pairing_by_overlap():
    truth = {0: _tl(100, [30], alphas=[0.2, 1.4])}
    s = single_trajectory_scores(truth, {0: _tl(100, [], alphas=[1.4])})  # whole track ↔ longer segment 1
    assert np.isclose(s["alpha_mae"], 0.0)
    s = single_trajectory_scores({0: _tl(100, [], alphas=[1.0])}, {0: _tl(100, [80], alphas=[1.0, 0.0])})
    assert s["alpha_mae"] == 0  # the truth's whole track ↔ the longer predicted segment


def test_prediction_without_cp_quirk():
    """Official: the α paired with an unsegmented prediction is the truth's segment at the *position*
    of column 0 in row_ind: here segment 2 (79 frames) matches best, yet segment 1's α is used."""
    truth = {0: _tl(100, [10, 20], alphas=[0.1, 0.9, 1.5])}
    s = single_trajectory_scores(truth, {0: _tl(100, [], alphas=[1.5])})
    assert np.isclose(s["alpha_mae"], 0.6)


def test_prediction_without_cp_quirk_official(uc, tmp_path):
    tp = write_lines(tmp_path / "t.txt", ["0,1,0.1,2,10,1,0.9,2,20,1,1.5,2,100"])
    pp = write_lines(tmp_path / "p.txt", ["0,1,1.5,2,100"])
    official = uc.error_SingleTraj_dataset(uc.load_file_to_df(str(pp)), uc.load_file_to_df(str(tp)),
                                           prints=False, disable_tqdm=True)
    assert np.isclose(official[2], 0.6)
    assert_same(single_trajectory_scores(read_labels_file(tp), read_labels_file(pp)), official)


def test_random_experiments_match_official(uc, tmp_path):
    rng = np.random.default_rng(2024)
    n_total = 0
    for rep in range(14):
        t_lines, p_lines = random_experiment(rng, int(rng.integers(5, 60)))
        tp, pp = write_lines(tmp_path / f"t{rep}.txt", t_lines), write_lines(tmp_path / f"p{rep}.txt", p_lines)
        official = uc.error_SingleTraj_dataset(uc.load_file_to_df(str(pp)), uc.load_file_to_df(str(tp)),
                                               prints=False, disable_tqdm=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours = single_trajectory_scores(read_labels_file(tp), read_labels_file(pp))
        assert_same(ours, official, f"experiment {rep}")
        n_total += len(t_lines)
    assert n_total > 300


def test_special_cases_match_official(uc, tmp_path):
    truth = ["0,1,0.5,2,100", "1,1,0.5,2,40,0.1,1.2,3,100", "2,1,0.5,2,30,0.1,1.2,3,60,1,1,1,100",
             "3,1,0.5,2,50", "4,0.1,1.9,3,20,1,0.3,1,100"]
    cases = {
        "perfect": truth,
        "empty": [],
        "no_cps": ["0,1,0.5,2,100", "1,1,0.5,2,100", "2,1,0.5,2,100", "3,1,0.5,2,50", "4,1,1,2,100"],
        "ties": ["0,1,0.1,2,49,1,1.9,3,100", "1,1,0.5,2,49,0.1,1.2,3,100", "2,1,0.5,2,100",
                 "3,1,0.5,2,24,1,1.5,1,50", "4,1,1,2,100"],
        "no_T": ["0,1,0.5,2,50,1,1,1", "1,1,0.5,2,40,0.1,1.2,3", "2,1,0.5,2", "3", "4,0.1,1.9,3,20,1,0.3,1"],
        "invalid": ["0,nan,nan,nan,100", "1,-1,3,5,40,nan,-1,-2,100", "2,0,0,0,30,0,2,4,60,1e9,1,1,100",
                    "3,1,0.5,2,50", "4,0.1,1.9,3,20,1,0.3,1,100"],
    }
    tp = write_lines(tmp_path / "truth.txt", truth)
    for name, lines in cases.items():
        pp = write_lines(tmp_path / f"{name}.txt", lines)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            official = uc.error_SingleTraj_dataset(uc.load_file_to_df(str(pp)), uc.load_file_to_df(str(tp)),
                                                   prints=False, disable_tqdm=True)
            assert_same(single_trajectory_scores(read_labels_file(tp), read_labels_file(pp)), official, name)
