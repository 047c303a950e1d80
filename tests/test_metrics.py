"""Metrics: hand-computed cases, and number-for-number agreement with andi-datasets' scorer.

Official quirks reproduced on purpose (each exercised below):
- a line without T has its last CP read as T (that CP is not scored); lines of length 4n+2/4n+3
  are dropped and their tracks score as missing (placeholder pair α 2|0, K 1e5+1|1, state 10|0);
- a prediction without CP against a truth with CPs pairs its α with truth segment 0 or 1 (the
  *position* in ``row_ind``, not the segment index);
- invalid α (NaN, <0, >2) → truth + 2; NaN K → |truth| + 1e5; K in absolute value; states
  outside [0, 4] → 0, compared after ``astype(int)``; α MAE capped at 1.999, K MSLE at ≈190.9;
- FOV indices shifted by "last index + 1" separately for truth and predictions; an empty
  first prediction file discards the FOVs gathered so far;
- one missing prediction file fails the whole single task; any ensemble failure fails the task.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from andimamba.metrics import (
    ENSEMBLE_FAILURE,
    SINGLE_FAILURE,
    TrackLabels,
    ensemble_scores,
    parse_line,
    read_labels_file,
    score_directory,
    single_trajectory_scores,
)

KEYS = ["rmse_cp", "jsc_cp", "alpha_mae", "K_msle", "state_f1"]


# ----------------------------------------------------------------------------- random label lines
def _num(v) -> str:
    return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else repr(float(v))


def _line(idx, Ks, alphas, states, cps, T=None) -> str:
    vals = [idx]
    for i, (k, a, s) in enumerate(zip(Ks, alphas, states)):
        vals += [k, a, s] + ([cps[i]] if i < len(cps) else [])
    return ",".join(_num(v) for v in vals + ([T] if T is not None else []))


def _truth_track(rng, idx):
    T = int(rng.integers(20, 201))
    n = int(rng.choice([0, 0, 1, 1, 1, 2, 2, 3, 4]))
    cand = np.arange(3, T - 2)
    cps = np.sort(rng.choice(cand, size=min(n, len(cand)), replace=False))
    cps = cps[np.r_[True, np.diff(cps) >= 3]] if len(cps) else cps
    m = len(cps) + 1
    alphas = np.round(rng.uniform(0, 1.999, m), 3)
    Ks = np.round(10 ** rng.uniform(-3, 1, m), 5)
    states = rng.integers(0, 4, m).astype(float)
    trapped = rng.random(m) < 0.1
    alphas[trapped], Ks[trapped], states[trapped] = 0, 0, 0
    return dict(idx=idx, T=T, cps=list(cps), alphas=list(alphas), Ks=list(Ks), states=list(states))


def _pred_line(rng, t) -> str | None:
    """One prediction line for truth dict t, in a random mode (None = track not predicted)."""
    mode = rng.choice(["perfect", "near", "far", "mixed", "none", "random", "missing", "no_T", "no_field",
                       "bad_len", "T_diff", "garbage"],
                      p=[.1, .12, .08, .2, .1, .1, .05, .05, .03, .03, .07, .07])
    T, cps = t["T"], np.array(t["cps"], dtype=float)
    if mode == "missing":
        return None
    if mode == "no_field":
        return _line(t["idx"], [1.0], [0.5], [2.0], []) if rng.random() < .5 else str(t["idx"])
    if mode == "near":
        cps = cps + rng.integers(-9, 10, len(cps))
    elif mode == "far":
        cps = cps + rng.choice([-1, 1], len(cps)) * rng.integers(10, 30, len(cps))
    elif mode in ("mixed", "no_T", "bad_len", "T_diff"):
        cps = cps + rng.integers(-14, 15, len(cps))
        cps = cps[rng.random(len(cps)) > .2]
        cps = np.sort(np.r_[cps, rng.integers(1, T, rng.integers(0, 3))])
    elif mode == "none":
        cps = cps[:0]
    elif mode == "random":
        cps = np.sort(rng.integers(1, T, rng.integers(0, 6)))
    elif mode == "garbage":  # unsorted, duplicated, negative, beyond T, fractional
        cps = rng.choice([-5, 0, 1, T // 2, T // 2, T - 1, T + 5, 17.6, 2 * T], rng.integers(1, 5))
    if mode == "no_T":  # the last CP becomes T: keep it >= 1, or the official scorer crashes
        cps = np.clip(cps, 1, None)
    if mode == "T_diff":
        T = T + int(rng.choice([-1, 1]) * rng.integers(1, 15))
    m = len(cps) + 1
    alphas = np.clip(np.resize(t["alphas"], m) + rng.normal(0, .2, m), 0, 1.999)
    Ks = np.resize(t["Ks"], m) * np.exp(rng.normal(0, .5, m))
    states = np.resize(t["states"], m).copy()
    if mode != "perfect":
        states[rng.random(m) < .2] = rng.integers(0, 4)
        bad = rng.random(m)
        alphas[bad < .05] = np.nan
        alphas[(bad >= .05) & (bad < .08)] = rng.choice([-0.5, 2.5, 2.0, 0.0])
        bad = rng.random(m)
        Ks[bad < .05] = np.nan
        Ks[(bad >= .05) & (bad < .1)] = rng.choice([-1.0, 0.0, 1e-15, 1e7])
        bad = rng.random(m)
        states[bad < .05] = rng.choice([5.0, -1.0, 4.0, 2.5, 3.9])
    else:
        cps, alphas, Ks, states = np.array(t["cps"]), t["alphas"], t["Ks"], t["states"]
    line = _line(t["idx"], Ks, alphas, states, list(cps), None if mode == "no_T" else T)
    if mode == "bad_len":
        line = line.rsplit(",", int(rng.integers(2, 4)))[0]  # 4n - 1 or 4n - 2 values: dropped
    return line


def random_experiment(rng, n_tracks):
    """(truth lines, prediction lines) of one random experiment."""
    truths = [_truth_track(rng, i) for i in range(n_tracks)]
    t_lines = [_line(t["idx"], t["Ks"], t["alphas"], t["states"], t["cps"], t["T"]) for t in truths]
    p_lines = [p for p in (_pred_line(rng, t) for t in truths) if p is not None]
    order = rng.permutation(len(p_lines))
    return t_lines, [p_lines[i] for i in order]


def _write(path: Path, lines):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines))
    return path


def _assert_same(ours: dict, official, what=""):
    for k, v in zip(KEYS, official):
        assert np.isclose(ours[k], v, rtol=1e-9, atol=0), f"{what} {k}: ours {ours[k]!r} vs official {v!r}"


def _tl(T, cps, alphas=None, Ks=None, states=None, idx=0):
    m = len(cps) + 1
    return TrackLabels(idx, np.array(cps, dtype=np.int64), np.array(alphas if alphas is not None else [0.5] * m, float),
                       np.array(Ks if Ks is not None else [1.0] * m, float),
                       np.array(states if states is not None else [2.0] * m, float), T)


# ----------------------------------------------------------------------------- no reference needed
def test_parse_line_semantics():
    t = parse_line("3,0.1,0.5,2,40,1.0,1.2,3,100")
    assert t.traj_idx == 3 and t.T == 100 and t.cps.tolist() == [40]
    assert t.Ks.tolist() == [0.1, 1.0] and t.alphas.tolist() == [0.5, 1.2] and t.states.tolist() == [2, 3]
    no_t = parse_line("3,0.1,0.5,2,40,1.0,1.2,3")  # 4n values: the last CP is read as T
    assert no_t.T == 40 and no_t.cps.tolist() == [] and len(no_t.alphas) == 2
    assert parse_line("3,0.1,0.5,2").T is None and parse_line("3").T is None  # scored as missing
    assert parse_line("3,0.1,0.5,2,40,1") is None and parse_line("3,0.1") is None and parse_line("") is None
    assert parse_line("1,1,1,1,50.9,1,1,1,100").cps.tolist() == [50]  # astype(int) truncation
    with pytest.raises(ValueError, match="non-numeric"):
        parse_line("1,a,1,1,100")


def test_read_labels_file_warns(tmp_path):
    p = _write(tmp_path / "fov_0.txt", ["0,1,1,2,50", "1,1,1,2", "2,1,1", "0,1,1,2,60"])
    with pytest.warns(UserWarning, match="invalid length"):
        labs = read_labels_file(p)
    assert sorted(labs) == [0, 1] and labs[0].T == 50


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
    tp = _write(tmp_path / "t.txt", ["0,1,0.1,2,10,1,0.9,2,20,1,1.5,2,100"])
    pp = _write(tmp_path / "p.txt", ["0,1,1.5,2,100"])
    official = uc.error_SingleTraj_dataset(uc.load_file_to_df(str(pp)), uc.load_file_to_df(str(tp)),
                                           prints=False, disable_tqdm=True)
    assert np.isclose(official[2], 0.6)
    _assert_same(single_trajectory_scores(read_labels_file(tp), read_labels_file(pp)), official)


def test_ensemble_identical_is_zero_and_shift():
    m = np.array([[1.0, 0.5], [0.01, 0.02], [1.0, 0.05], [0.01, 0.0005], [0.7, 0.3]])
    assert ensemble_scores(m, m) == (0.0, 0.0)
    single = np.array([1.0, 0.001, 1.0, 0.001, 1.0])
    a, k = ensemble_scores(single, single + np.array([0.1, 0, 0, 0, 0]))
    assert np.isclose(a, 0.1, rtol=1e-3) and k == 0
    with pytest.raises(ValueError):
        ensemble_scores(m[:4], m)


# ----------------------------------------------------------------------------- against andi-datasets
@pytest.fixture(scope="module")
def uc():
    return pytest.importorskip("andi_datasets.utils_challenge")


def test_random_experiments_match_official(uc, tmp_path):
    rng = np.random.default_rng(2024)
    n_total = 0
    for rep in range(14):
        t_lines, p_lines = random_experiment(rng, int(rng.integers(5, 60)))
        tp, pp = _write(tmp_path / f"t{rep}.txt", t_lines), _write(tmp_path / f"p{rep}.txt", p_lines)
        official = uc.error_SingleTraj_dataset(uc.load_file_to_df(str(pp)), uc.load_file_to_df(str(tp)),
                                               prints=False, disable_tqdm=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours = single_trajectory_scores(read_labels_file(tp), read_labels_file(pp))
        _assert_same(ours, official, f"experiment {rep}")
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
    tp = _write(tmp_path / "truth.txt", truth)
    for name, lines in cases.items():
        pp = _write(tmp_path / f"{name}.txt", lines)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            official = uc.error_SingleTraj_dataset(uc.load_file_to_df(str(pp)), uc.load_file_to_df(str(tp)),
                                                   prints=False, disable_tqdm=True)
            _assert_same(single_trajectory_scores(read_labels_file(tp), read_labels_file(pp)), official, name)


def test_ensemble_matches_official(uc):
    rng = np.random.default_rng(7)
    for rep in range(3):
        k_t, k_p = rng.integers(1, 4, 2)
        mats = []
        for k in (k_t, k_p):
            m = np.vstack([rng.uniform(0, 2, k), rng.uniform(0, 0.05, k) * (rng.random(k) > .2),
                           10 ** rng.uniform(-2, 0.5, k), rng.uniform(0, 0.05, k), rng.integers(1, 60, k)])
            mats.append(m[:, 0] if k == 1 and rep % 2 else m)  # loadtxt gives a vector for one state
        official = uc.error_Ensemble_dataset(mats[0].copy(), mats[1].copy())
        ours = ensemble_scores(*mats)
        assert np.allclose(ours, official, rtol=1e-9, atol=0), (rep, ours, official)


def _random_reference(rng, root: Path, n_exp=3, n_fov=2):
    for e in range(n_exp):
        d = root / "ref" / "track_2" / f"exp_{e}"
        s = root / "res" / "track_2" / f"exp_{e}"
        for j in range(n_fov):
            t_lines, p_lines = random_experiment(rng, int(rng.integers(5, 25)))
            _write(d / f"traj_labs_fov_{j}.txt", t_lines)
            _write(s / f"fov_{j}.txt", p_lines)
        for dd, k in ((d, 2), (s, int(rng.integers(1, 3)))):
            m = np.vstack([rng.uniform(0.2, 1.8, k), np.full(k, 0.01), 10 ** rng.uniform(-2, 0, k),
                           np.full(k, 1e-4), rng.integers(5, 50, k)])
            rows = "".join(";".join(repr(float(v)) for v in row) + "\n" for row in m)
            (dd / "ensemble_labels.txt").write_text(f"model: multi_state; num_state: {k} \n" + rows)
    return root / "res", root / "ref"


def _official_dir(uc, res, ref, ensemble=True):
    exps = sorted(int(p.name.split("_")[1]) for p in (ref / "track_2").iterdir())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        single, df = uc.run_single_task(exps, 2, str(res), str(ref))
        ens = uc.run_ensemble_task(exps, 2, str(res), str(ref))[0] if ensemble else None
    return single, df, ens


def _ours_dir(res, ref, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return score_directory(res, ref, **kw)


def test_score_directory_matches_official(uc, tmp_path):
    res, ref = _random_reference(np.random.default_rng(11), tmp_path, n_exp=2, n_fov=3)
    # quirk: FOV 0 of exp 1 lacks its highest index → later FOVs shifted off their truth
    f = res / "track_2" / "exp_1" / "fov_0.txt"
    lines = f.read_text().splitlines()
    top = max(int(float(x.split(",")[0])) for x in lines)
    f.write_text("".join(x + "\n" for x in lines if int(float(x.split(",")[0])) != top))
    single, df, ens = _official_dir(uc, res, ref)
    per_exp, overall, ens_df = _ours_dir(res, ref)
    _assert_same(overall, single)
    assert per_exp["n_tracks"].tolist() == df["num_trajs"].tolist()
    for ours_col, off_col in zip(KEYS, ["RMSE CP", "JSC CP", "alpha", "K", "state"]):
        assert np.allclose(per_exp[ours_col], df[off_col].astype(float), rtol=1e-9, atol=0)
    assert np.allclose([overall["ensemble_alpha"], overall["ensemble_K"]], ens, rtol=1e-9, atol=0)
    assert len(ens_df) == 2
    # the offset quirk matters here, and turning it off changes exp 1 only
    aligned, _, _ = _ours_dir(res, ref, official_offsets=False)
    assert aligned.loc[1, "K_msle"] != per_exp.loc[1, "K_msle"]
    assert np.allclose(aligned.drop(index=1)["K_msle"], per_exp.drop(index=1)["K_msle"])


def test_score_directory_empty_first_prediction_file(uc, tmp_path):
    res, ref = _random_reference(np.random.default_rng(12), tmp_path, n_exp=1, n_fov=3)
    (res / "track_2" / "exp_0" / "fov_0.txt").write_text("")  # official: FOV 0 truth is discarded
    single, df, _ = _official_dir(uc, res, ref, ensemble=False)
    per_exp, overall, _ = _ours_dir(res, ref)
    _assert_same(overall, single)
    assert per_exp["n_tracks"].tolist() == df["num_trajs"].tolist()


def test_score_directory_failures(uc, tmp_path):
    res, ref = _random_reference(np.random.default_rng(13), tmp_path, n_exp=2, n_fov=2)
    (res / "track_2" / "exp_1" / "fov_1.txt").unlink()
    (res / "track_2" / "exp_0" / "ensemble_labels.txt").unlink()
    single, _, ens = _official_dir(uc, res, ref)
    with pytest.warns(UserWarning) as rec:
        per_exp, overall, ens_df = score_directory(res, ref)
    msgs = [str(w.message) for w in rec]
    assert any("exp_1/fov_1.txt" in m for m in msgs) and any("exp_0/ensemble_labels.txt" in m for m in msgs)
    _assert_same(overall, single)
    assert [overall[k] for k in KEYS] == list(SINGLE_FAILURE.values())
    assert (overall["ensemble_alpha"], overall["ensemble_K"]) == tuple(ens) == ENSEMBLE_FAILURE
    assert per_exp.isna().all().all() and ens_df.isna().all().all()


def test_score_directory_simulated_perfect(uc, tmp_path):
    """A realistic reference folder scored against itself (with one FOV's K perturbed)."""
    pytest.importorskip("andimamba.sim.experiment")
    from andimamba.sim.experiment import simulate_experiment
    from andimamba.sim.layout import write_experiment

    for e, model in enumerate(["confinement", "immobile_traps"]):
        params, fovs = simulate_experiment(model, n_fovs=2, seed=e, progress=False)
        write_experiment(tmp_path / "ref", e, params, fovs)
        src, dst = tmp_path / "ref" / "track_2" / f"exp_{e}", tmp_path / "res" / "track_2" / f"exp_{e}"
        dst.mkdir(parents=True)
        for j in range(2):
            shutil.copy(src / f"traj_labs_fov_{j}.txt", dst / f"fov_{j}.txt")
        shutil.copy(src / "ensemble_labels.txt", dst / "ensemble_labels.txt")
    per_exp, overall, _ = _ours_dir(tmp_path / "res", tmp_path / "ref")
    assert overall["jsc_cp"] == 1 and overall["rmse_cp"] == 0 and overall["alpha_mae"] == 0
    assert overall["state_f1"] == 1 and overall["ensemble_alpha"] == 0
    f = tmp_path / "res" / "track_2" / "exp_0" / "fov_1.txt"
    f.write_text("".join(",".join(v if i % 4 != 1 else repr(float(v) * 1.5) for i, v in enumerate(x.split(","))) + "\n"
                         for x in f.read_text().splitlines()))
    single, df, ens = _official_dir(uc, tmp_path / "res", tmp_path / "ref")
    per_exp, overall, _ = _ours_dir(tmp_path / "res", tmp_path / "ref")
    _assert_same(overall, single)
    assert np.allclose([overall["ensemble_alpha"], overall["ensemble_K"]], ens, rtol=1e-9, atol=0)
    assert overall["K_msle"] > 0


def test_score_directory_track1_vip(uc, tmp_path):
    """Track 1: only the VIP tracks are scored; a VIP set mismatch fails the single task."""
    rng = np.random.default_rng(14)
    ref, res = tmp_path / "ref" / "track_1" / "exp_0", tmp_path / "res" / "track_1" / "exp_0"
    for j in range(2):
        t_lines, p_lines = random_experiment(rng, 20)
        vip = sorted(rng.choice(20, 5, replace=False).tolist())
        _write(ref / f"traj_labs_fov_{j}.txt", t_lines)
        _write(ref / f"vip_idx_fov_{j}.txt", [str(i) for i in vip])
        p_lines = [x for x in p_lines if int(float(x.split(",")[0])) in vip and parse_line(x) is not None]
        p_ids = {int(float(x.split(",")[0])) for x in p_lines}
        p_lines += [f"{i},1,1,2,50" for i in vip if i not in p_ids]  # every VIP predicted
        _write(res / f"fov_{j}.txt", p_lines)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        single, df = uc.run_single_task([0], 1, str(tmp_path / "res"), str(tmp_path / "ref"))
        per_exp, overall, _ = score_directory(tmp_path / "res", tmp_path / "ref", track=1)
    _assert_same(overall, single)
    assert per_exp["n_tracks"].tolist() == df["num_trajs"].tolist() == [10]
    f = res / "fov_1.txt"
    f.write_text("".join(x + "\n" for x in f.read_text().splitlines()[1:]))
    with pytest.warns(UserWarning) as rec:
        _, overall, _ = score_directory(tmp_path / "res", tmp_path / "ref", track=1)
    assert any("VIP" in str(w.message) for w in rec)
    assert [overall[k] for k in KEYS] == list(SINGLE_FAILURE.values())
