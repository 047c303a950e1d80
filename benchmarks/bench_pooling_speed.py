"""Cost of the per-experiment pooling (states, then α) on a realisation of the organisers' nine experiments.

The network runs once over every experiment (``--fovs`` FOVs each, the published recipe, seed ``--seed``); the
segments are then pooled per experiment as ``predict`` does (:func:`andimamba.state_pooling.pool_states`, then
:func:`andimamba.pooling.pool_alphas`), timed with the compiled mixture EM (:func:`andimamba.mixture_em.xd_em`, the
default) and with the same EM written with numpy arrays (:func:`andimamba.mixture_em.xd_em_arrays`, the
implementation before it, kept as the reference), alternated ``--repeats`` times, best of each. Also prints the largest difference between the two
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

    import andimamba.mixture_em as em

    kernel = em.xd_em
    run()  # the kernel loaded (or compiled) before timing
    best = {"compiled EM (default)": np.inf, "numpy-array EM (before)": np.inf}
    answers = {}
    for _ in range(args.repeats):
        for name, fn in (("compiled EM (default)", kernel), ("numpy-array EM (before)", em.xd_em_arrays)):
            em.xd_em = fn  # pooling._xd_em looks it up at each call
            t = time.perf_counter()
            answers[name] = run()
            best[name] = min(best[name], time.perf_counter() - t)
    em.xd_em = kernel
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
