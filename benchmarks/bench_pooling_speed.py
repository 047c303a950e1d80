"""Cost of the per-experiment pooling (states, then α) on a realisation of the organisers' nine experiments.

The network runs once over every experiment (``--fovs`` FOVs each, the published recipe, seed ``--seed``); the
segments are then pooled per experiment as ``predict`` does (:func:`andimamba.state_pooling.pool_states`, then
:func:`andimamba.pooling.pool_alphas`), timed with the compiled mixture EM (:mod:`andimamba.mixture_em`, the
default) and with the same EM written with numpy arrays (the implementation before it, kept here as the
reference), alternated ``--repeats`` times, best of each. Also prints the largest difference between the two
answers' α and whether any state differs.

Usage: ``python benchmarks/bench_pooling_speed.py [--fovs 10] [--seed 5000] [--repeats 3] [--threads 1]``
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


def array_em(x, s2, w, k, iters=500, tol=1e-4):
    """The extreme-deconvolution EM with numpy arrays (``andimamba.pooling._xd_em`` before the kernel)."""
    from andimamba.pooling import _VAR_FLOOR, Mixture

    w = w / w.sum()
    parts = np.array_split(np.argsort(x[:, 1], kind="stable"), k)
    mu = np.array([np.average(x[p], axis=0, weights=w[p] + 1e-300) for p in parts])
    spread = np.average((x - np.average(x, axis=0, weights=w)) ** 2, axis=0, weights=w)
    tau2 = np.tile(np.maximum(spread / k, _VAR_FLOOR), (k, 1))
    pi = np.full(k, 1.0 / k)
    ll_old, ll = -np.inf, -np.inf
    for _ in range(iters):
        v = tau2[None] + s2[:, None]
        lp = (-0.5 * ((x[:, None] - mu[None]) ** 2 / v + np.log(2 * np.pi * v))).sum(-1) + np.log(pi)[None]
        m = lp.max(axis=1, keepdims=True)
        ll_i = m[:, 0] + np.log(np.exp(lp - m).sum(axis=1))
        r = np.exp(lp - ll_i[:, None]) * w[:, None]
        nk = r.sum(axis=0) + 1e-300
        pi = nk / nk.sum()
        b = (tau2[None] * x[:, None] + s2[:, None] * mu[None]) / v
        B = tau2[None] * s2[:, None] / v
        mu = (r[..., None] * b).sum(axis=0) / nk[:, None]
        tau2 = np.maximum((r[..., None] * ((b - mu[None]) ** 2 + B)).sum(axis=0) / nk[:, None], _VAR_FLOOR)
        ll = float((w * ll_i).sum())
        if ll - ll_old < tol:
            break
        ll_old = ll
    pi = np.maximum(pi, 1e-12)
    return Mixture(pi / pi.sum(), mu, tau2), ll


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fovs", type=int, default=10)
    ap.add_argument("--seed", type=int, default=5000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)

    from andimamba.threads import set_threads

    set_threads(args.threads)
    import andimamba.pooling as pooling
    from andimamba.predict import load_predictor
    from andimamba.segments import segment_batch
    from andimamba.state_pooling import pool_states
    from decision_levers import frame_outputs, realisation

    exps = realisation(args.seed, args.fovs)
    outs = frame_outputs("bimamba", exps)
    pred = load_predictor("bimamba")
    seg, cal = pred.segmenter, pred.pooling
    segs = [segment_batch(o, ex["L"], cfg=seg) for ex, o in zip(exps, outs)]
    n_tracks = sum(len(s) for s in segs)
    n_segments = sum(r.n_segments for s in segs for r in s)

    def run():
        return [pooling.pool_alphas(pool_states(s, cal, seg)[0], cal)[0] for s in segs]

    kernel = pooling._xd_em
    run()  # the kernel loaded (or compiled) before timing
    best = {"compiled EM (default)": np.inf, "numpy-array EM (before)": np.inf}
    answers = {}
    for _ in range(args.repeats):
        for name, em in (("compiled EM (default)", kernel), ("numpy-array EM (before)", array_em)):
            pooling._xd_em = em
            t = time.perf_counter()
            answers[name] = run()
            best[name] = min(best[name], time.perf_counter() - t)
    pooling._xd_em = kernel
    a, b = (np.concatenate([r.alphas for s in answers[k] for r in s]) for k in best)
    sa, sb = (np.concatenate([r.states for s in answers[k] for r in s]) for k in best)
    print(f"machine: {platform.machine()} | threads {args.threads} | published recipe, {args.fovs} FOVs per experiment, "
          f"seed {args.seed}: {n_tracks} tracks, {n_segments} segments, 9 experiments | best of {args.repeats}, alternated\n")
    print("| pooling (states, then α) | seconds | tracks/s | × numpy |")
    print("|---|---:|---:|---:|")
    ref = best["numpy-array EM (before)"]
    for name, t in best.items():
        print(f"| {name} | {t:.3f} | {n_tracks / t:,.0f} | {ref / t:.2f} |")
    print(f"\nmax |Δα| between the two: {np.abs(a - b).max():.1e}; segments whose state differs: {int((sa != sb).sum())}")


if __name__ == "__main__":
    main()
