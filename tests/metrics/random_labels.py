"""Random AnDi-2 label files for the metrics tests and ``benchmarks/bench_metrics.py``.

Truth lines are valid tracks; prediction lines come in random modes (perfect, jittered CPs, far
CPs, missing, without T, of invalid length, with a different T, garbage CPs, invalid α/K/state),
so that every official quirk is exercised when compared with andi-datasets' scorer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

KEYS = ["rmse_cp", "jsc_cp", "alpha_mae", "K_msle", "state_f1"]


def num(v) -> str:
    """A value as a label file may spell it: integers without a decimal point."""
    return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else repr(float(v))


def label_text(idx, Ks, alphas, states, cps, T=None) -> str:
    """``idx,K1,a1,s1,CP1,...`` written independently of andimamba.andi2 (T omitted when None)."""
    vals = [idx]
    for i, (k, a, s) in enumerate(zip(Ks, alphas, states)):
        vals += [k, a, s] + ([cps[i]] if i < len(cps) else [])
    return ",".join(num(v) for v in vals + ([T] if T is not None else []))


def truth_track(rng, idx):
    """A random valid ground-truth track as a dict (idx, T, cps, alphas, Ks, states)."""
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


def pred_line(rng, t) -> str | None:
    """One prediction line for truth dict t, in a random mode (None = track not predicted)."""
    mode = rng.choice(["perfect", "near", "far", "mixed", "none", "random", "missing", "no_T", "no_field",
                       "bad_len", "T_diff", "garbage"],
                      p=[.1, .12, .08, .2, .1, .1, .05, .05, .03, .03, .07, .07])
    T, cps = t["T"], np.array(t["cps"], dtype=float)
    if mode == "missing":
        return None
    if mode == "no_field":
        return label_text(t["idx"], [1.0], [0.5], [2.0], []) if rng.random() < .5 else str(t["idx"])
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
    line = label_text(t["idx"], Ks, alphas, states, list(cps), None if mode == "no_T" else T)
    if mode == "bad_len":
        line = line.rsplit(",", int(rng.integers(2, 4)))[0]  # 4n - 1 or 4n - 2 values: dropped
    return line


def random_experiment(rng, n_tracks):
    """(truth lines, prediction lines) of one random experiment."""
    truths = [truth_track(rng, i) for i in range(n_tracks)]
    t_lines = [label_text(t["idx"], t["Ks"], t["alphas"], t["states"], t["cps"], t["T"]) for t in truths]
    p_lines = [p for p in (pred_line(rng, t) for t in truths) if p is not None]
    order = rng.permutation(len(p_lines))
    return t_lines, [p_lines[i] for i in order]


def write_lines(path: Path, lines):
    """Write lines (newline-terminated), creating the folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines))
    return path


def assert_same(ours: dict, official, what=""):
    """Our five single-trajectory metrics equal the official ones (rtol 1e-9)."""
    for k, v in zip(KEYS, official):
        assert np.isclose(ours[k], v, rtol=1e-9, atol=0), f"{what} {k}: ours {ours[k]!r} vs official {v!r}"


def random_reference(rng, root: Path, n_exp=3, n_fov=2):
    """Random ``root/ref`` and ``root/res`` folders (labels and ensembles); returns (res, ref)."""
    for e in range(n_exp):
        d = root / "ref" / "track_2" / f"exp_{e}"
        s = root / "res" / "track_2" / f"exp_{e}"
        for j in range(n_fov):
            t_lines, p_lines = random_experiment(rng, int(rng.integers(5, 25)))
            write_lines(d / f"traj_labs_fov_{j}.txt", t_lines)
            write_lines(s / f"fov_{j}.txt", p_lines)
        for dd, k in ((d, 2), (s, int(rng.integers(1, 3)))):
            m = np.vstack([rng.uniform(0.2, 1.8, k), np.full(k, 0.01), 10 ** rng.uniform(-2, 0, k),
                           np.full(k, 1e-4), rng.integers(5, 50, k)])
            rows = "".join(";".join(repr(float(v)) for v in row) + "\n" for row in m)
            (dd / "ensemble_labels.txt").write_text(f"model: multi_state; num_state: {k} \n" + rows)
    return root / "res", root / "ref"
