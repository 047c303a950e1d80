"""Short tracks (3–20 frames): per-track α and K error by length, estimator by estimator, and the
rule that sets ``andimamba.short_tracks.SHORT_MIN_LENGTH``.

Test sets (single-state fBm, one fresh track per row, the simulator's generator
``sim.fbm.fgn_2d · √(2K)`` as in ``sim.models`` single_state, no box: a short window of a long fBm
track has the same law; positions in px, K in px²/frame^α):

- ``uniform``: α ~ U(0.05, 1.95), K log-uniform on [10^-2.5, 10^0.7] (the training stream's
  broad range), localisation noise σ = 0.12 px (the challenge's);
- ``uniform, σ = 0.30 px``: the same at 2.5× the noise, for robustness;
- ``andi2``: the AnDi-2 challenge single_state prior (``sim.params.challenge_params``: α mean
  U(0.5, 1.5) per experiment of 50 tracks, per-track α, K from truncated normals, K ≈ 1), σ = 0.12 px;
- ``immobile``: σ = 0.12 px noise around a fixed point (labels α = 0, K = 0, as AnDi).

Estimators: ``prior`` the constant α = test-set mean, K = test-set median (an oracle constant);
``classical`` the classical method's TAMSD fit (``classical._tamsd_fit``, lags 1 … max(1, min(5, T//3)));
``tamsd+σ`` a fit of MSD(τ) = 4Kτ^α + 4σ² (α on a 0.02 grid, non-negative 4K and 4σ² by weighted
least squares on relative residuals, lags 1 … min(T−1, max(3, min(5, T−2))));
``bimamba`` the shipped network on the short track as is, per-track mean of per-frame α and K;
``ML`` the exact noisy-fBm maximum likelihood (grid: α 50 cells, log₁₀ σ²/2K ∈ [−5, 3] step 0.1);
``post`` ``estimate_short`` (chosen: posterior median α, σ unknown); ``post α~N(1,.4²)`` the same
with that prior on α; ``post σ known`` ``estimate_short(..., sigma=true σ)``; ``post+bimamba``
the mean of post's and bimamba's α and the geometric mean of their K.

Metrics: α MAE; K MSLE = mean (log(1+K̂) − log(1+K))² (AnDi-2); mean |log₁₀ K̂ − log₁₀ K|.
The prior range of σ²/2K and the grids were chosen on seeds 1, 7 and 11; the default seed is held out.

Rule for ``SHORT_MIN_LENGTH`` (on ``uniform``, σ = 0.12 px, estimator ``post``): the shortest
length L such that every length from L to 19 has α MAE + 1.96 SE ≤ 0.35, α MAE ≤ 0.8 × the
constant prior's, and log₁₀ K MAE + 1.96 SE ≤ 0.30.

Usage: ``python benchmarks/bench_short_tracks.py [--n 4000] [--seed 2025] [--no-nn]``
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_v, "1")  # one core: must precede the numpy import (BLAS pools start there)

import argparse
import time
from itertools import pairwise

import numpy as np

LENGTHS = tuple(range(3, 21))
SET_IDS = {"uniform": 0, "andi2": 1, "immobile": 2}  # part of each set's seed
ALPHA_MAX, LOGK_MAX, PRIOR_RATIO = 0.35, 0.30, 0.8  # the SHORT_MIN_LENGTH rule


def cpu_name() -> str:
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    import platform

    return platform.processor() or platform.machine()


# ---------------------------------------------------------------------------------------------- data
def draw_labels(kind: str, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Per-track (α, K), each (n,)."""
    from andimamba.andi2 import ALPHA_BOUNDS, K_BOUNDS
    from andimamba.sim.params import challenge_params, draw_truncated

    if kind == "uniform":
        return rng.uniform(0.05, 1.95, n), 10 ** rng.uniform(-2.5, 0.7, n)
    if kind == "andi2":  # experiments of 50 tracks, as the challenge's boxes
        exps = [challenge_params("single_state", rng) for _ in range(-(-n // 50))]
        a_par = np.repeat(np.stack([p.alphas[0] for p in exps]), 50, axis=0)[:n]  # (n, 2) [mean, var]
        k_par = np.repeat(np.stack([p.Ks[0] for p in exps]), 50, axis=0)[:n]
        a = draw_truncated(a_par, n, ALPHA_BOUNDS, rng)
        return np.clip(a, 1e-3, 1.999), draw_truncated(k_par, n, K_BOUNDS, rng)
    raise ValueError(kind)


def simulate(kind: str, T: int, n: int, sigma: float, rng: np.random.Generator):
    """positions (n, T, 2) px with noise σ, α (n,), K (n,)."""
    from andimamba.sim.fbm import fgn_2d

    if kind == "immobile":
        return sigma * rng.standard_normal((n, T, 2)), np.zeros(n), np.zeros(n)
    a, K = draw_labels(kind, n, rng)
    d = fgn_2d(a, T - 1, rng) * np.sqrt(2 * K)[:, None, None]  # (n, T − 1, 2)
    pos = np.concatenate([np.zeros((n, 1, 2)), np.cumsum(d, axis=1)], axis=1)  # (n, T, 2)
    return pos + sigma * rng.standard_normal(pos.shape), a, K


# ---------------------------------------------------------------------------------------- estimators
def est_classical(pos, T, sigma):
    from andimamba.classical import ClassicalConfig, _tamsd_fit

    cfg = ClassicalConfig()
    out = np.array([_tamsd_fit(p, cfg.max_lag) for p in pos])  # (n, 2)
    return np.clip(out[:, 0], *cfg.alpha_clip), out[:, 1]


def est_tamsd_offset(pos, T, sigma):
    lags = np.arange(1, min(T - 1, max(3, min(5, T - 2))) + 1)  # (nl,)
    y = np.stack([np.mean(np.sum((pos[:, l:] - pos[:, :-l]) ** 2, axis=2), axis=1) for l in lags], 1)  # (n, nl)
    y = np.maximum(y, 1e-12)
    w = (T - lags)[None, :] / y**2  # (n, nl): relative residuals, weighted by pair count
    grid = np.linspace(0, 2, 101)  # (na,)
    u = lags[None, :] ** grid[:, None]  # (na, nl)
    Suu = w @ (u**2).T  # (n, na)
    Su = w @ u.T
    Sw = w.sum(1, keepdims=True)  # (n, 1)
    Suy = (w * y) @ u.T
    Sy = (w * y).sum(1, keepdims=True)
    det = Suu * Sw - Su**2
    a4 = np.where(det > 0, (Suy * Sw - Su * Sy) / np.where(det > 0, det, 1), 0)  # 4K
    c4 = np.where(det > 0, (Suu * Sy - Su * Suy) / np.where(det > 0, det, 1), 0)  # 4σ²
    neg = (c4 < 0) | (det <= 0)
    a4 = np.where(neg, Suy / Suu, a4)
    c4 = np.where(neg, 0.0, c4)
    a4 = np.maximum(a4, 1e-12)
    resid = y[:, None, :] - a4[..., None] * u[None] - c4[..., None]  # (n, na, nl)
    j = np.argmin((w[:, None, :] * resid**2).sum(2), axis=1)
    r = np.arange(len(j))
    return grid[j], a4[r, j] / 4


_PRED = {}


def est_bimamba(pos, T, sigma):
    from andimamba.predict import load_predictor

    pred = _PRED.setdefault("p", load_predictor("bimamba"))
    n = len(pos)
    o = pred.frame_outputs((pos - pos[:, :1]).astype(np.float32), np.full(n, T))
    return o["alpha"].mean(1), np.exp(o["log_K"]).mean(1)


def est_post(pos, T, sigma):
    from andimamba.short_tracks import estimate_short

    return estimate_short(pos, np.full(len(pos), T))


def est_post_known(pos, T, sigma):
    from andimamba.short_tracks import estimate_short

    return estimate_short(pos, np.full(len(pos), T), sigma=sigma)


def _variant(pos, T, log10_r, alpha_prior=None, ml=False):
    from scipy.special import digamma

    from andimamba.short_tracks import ALPHA_CELLS, _median_alpha, _posterior

    d = np.diff(pos, axis=1)
    w, logk = _posterior(d, None, log10_r)  # (n, na, nr)
    if ml:
        j = w.reshape(len(w), -1).argmax(1)
        ia = j // len(log10_r)
        return ALPHA_CELLS[ia], np.exp(logk.reshape(len(w), -1)[np.arange(len(j)), j] + digamma(T - 1) - np.log(T - 1))
    w = w * alpha_prior[None, :, None]
    w /= w.sum(axis=(1, 2), keepdims=True)
    return _median_alpha(w.sum(2)), np.exp((w * logk).sum((1, 2)))


def est_ml(pos, T, sigma):
    return _variant(pos, T, np.round(np.arange(-5, 3.001, 0.1), 6), ml=True)


def est_post_alpha_prior(pos, T, sigma):
    from andimamba.short_tracks import ALPHA_CELLS, LOG10_R_GRID

    return _variant(pos, T, LOG10_R_GRID, alpha_prior=np.exp(-0.5 * ((ALPHA_CELLS - 1) / 0.4) ** 2))


ESTIMATORS = {
    "classical": est_classical,
    "tamsd+σ": est_tamsd_offset,
    "bimamba": est_bimamba,
    "ML": est_ml,
    "post": est_post,
    "post α~N(1,.4²)": est_post_alpha_prior,
    "post σ known": est_post_known,
}


# ------------------------------------------------------------------------------------------- scoring
def scores(a_hat, k_hat, a, K) -> dict:
    ea = np.abs(a_hat - a)
    out = {"a": ea.mean(), "a_se": ea.std() / np.sqrt(len(ea)),
           "msle": np.mean((np.log1p(np.maximum(k_hat, 0)) - np.log1p(K)) ** 2)}
    if np.all(K > 0):
        el = np.abs(np.log10(np.maximum(k_hat, 1e-300)) - np.log10(K))
        out.update(lk=el.mean(), lk_se=el.std() / np.sqrt(len(el)))
    else:
        out.update(lk=np.nan, lk_se=np.nan, k_med=np.median(k_hat))
    return out


ALPHA_BINS = (0.0, 0.5, 1.0, 1.5, 2.0)
BIAS_LENGTHS = (6, 10, 19)
BIAS_NAMES = ("bimamba", "post", "post σ known")


def run_set(kind: str, sigma: float, lengths, n: int, seed: int, names: list[str], bias: dict | None = None) -> dict:
    """Scores by length and estimator; with ``bias`` given, also fills bias[T][name] = mean α̂ − α and
    mean log₁₀ K̂/K per bin of true α (ALPHA_BINS), for T in BIAS_LENGTHS."""
    res = {}
    for T in lengths:
        rng = np.random.default_rng([seed, T, int(sigma * 1000), SET_IDS[kind]])
        pos, a, K = simulate(kind, T, n, sigma, rng)
        out = {}
        const = (np.full(n, a.mean()), np.full(n, np.median(K)))
        out["prior"] = scores(*const, a, K)
        preds = {}
        for name in names:
            preds[name] = ESTIMATORS[name](pos, T, sigma)
            out[name] = scores(*preds[name], a, K)
        if "bimamba" in preds:
            (a1, k1), (a2, k2) = preds["post"], preds["bimamba"]
            out["post+bimamba"] = scores((a1 + a2) / 2, np.sqrt(np.maximum(k1, 0) * np.maximum(k2, 0)), a, K)
        res[T] = out
        if bias is not None and T in BIAS_LENGTHS:
            b = np.digitize(a, ALPHA_BINS[1:-1])  # (n,) bin of true α
            bias[T] = {name: [(np.mean(preds[name][0][b == i] - a[b == i]), np.mean(np.log10(preds[name][1][b == i] / K[b == i])))
                              for i in range(len(ALPHA_BINS) - 1)] for name in BIAS_NAMES if name in preds}
    return res


def print_tables(title: str, res: dict) -> None:
    cols = list(next(iter(res.values())))
    metrics = [("α MAE", "a", "{:.3f}"), ("log₁₀ K MAE", "lk", "{:.3f}"), ("K MSLE", "msle", "{:.4f}")]
    if np.isnan(next(iter(res.values()))["prior"]["lk"]):
        metrics = [("α MAE (truth 0)", "a", "{:.3f}"), ("K MSLE (truth 0)", "msle", "{:.5f}"), ("median K̂ (px²/frame^α)", "k_med", "{:.4f}")]
    for label, key, fmt in metrics:
        print(f"\n{title} — {label}\n")
        print("| T | " + " | ".join(cols) + " |")
        print("|---:|" + "---:|" * len(cols))
        for T, out in res.items():
            print(f"| {T} | " + " | ".join(fmt.format(out[c][key]) if key in out[c] else "–" for c in cols) + " |")


def print_bias(title: str, bias: dict) -> None:
    bins = [f"α ∈ [{lo}, {hi})" for lo, hi in pairwise(ALPHA_BINS)]
    print(f"\n{title} — bias by true α: mean α̂ − α / mean log₁₀(K̂/K)\n")
    print("| T | estimator | " + " | ".join(bins) + " |")
    print("|---:|---|" + "---:|" * len(bins))
    for T, per in bias.items():
        for name, vals in per.items():
            print(f"| {T} | {name} | " + " | ".join(f"{da:+.3f} / {dk:+.2f}" for da, dk in vals) + " |")


def min_length_rule(res: dict) -> int | None:
    """Shortest L with every length L … 19 passing the rule (module docstring); prints the checks."""
    ok = {}
    print("\nrule for SHORT_MIN_LENGTH (estimator post, this set)\n")
    print(f"| T | α MAE + 1.96 SE (≤ {ALPHA_MAX}) | α MAE / prior's (≤ {PRIOR_RATIO}) | log₁₀ K MAE + 1.96 SE (≤ {LOGK_MAX}) | pass |")
    print("|---:|---:|---:|---:|---|")
    for T, out in res.items():
        p, c = out["post"], out["prior"]
        ua, ratio, uk = p["a"] + 1.96 * p["a_se"], p["a"] / c["a"], p["lk"] + 1.96 * p["lk_se"]
        ok[T] = ua <= ALPHA_MAX and ratio <= PRIOR_RATIO and uk <= LOGK_MAX
        print(f"| {T} | {ua:.3f} | {ratio:.2f} | {uk:.3f} | {'yes' if ok[T] else 'no'} |")
    best = None
    for T in sorted((t for t in ok if t <= 19), reverse=True):
        if not ok[T]:
            break
        best = T
    return best


def throughput(n: int) -> None:
    from andimamba.short_tracks import estimate_short

    rng = np.random.default_rng(0)
    pos10 = np.cumsum(rng.standard_normal((n, 10, 2)), axis=1)
    lens = rng.integers(5, 20, n)
    pos_mix = np.cumsum(rng.standard_normal((n, 19, 2)), axis=1)
    estimate_short(pos10[:8], np.full(8, 10))
    estimate_short(pos_mix, lens)  # warm the per-length caches
    print("\n| input | tracks/s (best of 3, one core) |\n|---|---:|")
    for label, pos, ln in (("T = 10", pos10, np.full(n, 10)), ("mixed T = 5 … 19", pos_mix, lens)):
        best = min(_timed(estimate_short, pos, ln) for _ in range(3))
        print(f"| estimate_short, {label} | {n / best:,.0f} |")
    if "p" in _PRED:
        best = min(_timed(_PRED["p"].frame_outputs, pos10.astype(np.float32), np.full(n, 10)) for _ in range(3))
        print(f"| bimamba frame_outputs, T = 10 | {n / best:,.0f} |")


def _timed(f, *args) -> float:
    t = time.perf_counter()
    f(*args)
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=4000, help="tracks per length and test set")
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--no-nn", action="store_true", help="skip the Bi-Mamba columns")
    a = ap.parse_args()
    from andimamba.short_tracks import SHORT_MIN_LENGTH
    from andimamba.threads import set_threads

    set_threads(1)
    names = [k for k in ESTIMATORS if not (a.no_nn and k == "bimamba")]
    t0 = time.perf_counter()
    print(f"machine: {cpu_name()} | one thread | {a.n} tracks per length and set | seed {a.seed}")
    bias: dict = {}
    main_res = run_set("uniform", 0.12, LENGTHS, a.n, a.seed, names, bias)
    print_tables("uniform α, log-uniform K, σ = 0.12 px", main_res)
    print_bias("uniform α, log-uniform K, σ = 0.12 px", bias)
    L = min_length_rule(main_res)
    print(f"\nrule (α MAE + 1.96 SE ≤ {ALPHA_MAX}, α MAE ≤ {PRIOR_RATIO} × prior, log₁₀ K MAE + 1.96 SE ≤ {LOGK_MAX}, "
          f"for every length up to 19): shortest length = {L}; SHORT_MIN_LENGTH = {SHORT_MIN_LENGTH}"
          + ("" if L == SHORT_MIN_LENGTH else "  <-- MISMATCH: update SHORT_MIN_LENGTH"))
    print_tables("uniform α, log-uniform K, σ = 0.30 px", run_set("uniform", 0.30, LENGTHS[2:], a.n, a.seed, names))
    print_tables("AnDi-2 challenge single_state prior, σ = 0.12 px", run_set("andi2", 0.12, LENGTHS[2:], a.n, a.seed, names))
    imm_names = [k for k in names if k in ("bimamba", "post")]
    print_tables("immobile (noise only), σ = 0.12 px", run_set("immobile", 0.12, (5, 10, 19), a.n, a.seed, imm_names))
    throughput(20000)
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
