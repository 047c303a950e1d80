"""Simulator speed: andimamba vs andi-datasets, per model, in one run on one core.

Measures (1) raw model calls — andi ``models_phenom().<model>(N=…)`` vs our ``simulate`` over
several boxes of the same N in one call — in trajectories (of T=200 frames) per second, and
(2) the challenge pipeline as shipped — andi ``challenge_phenom_dataset`` (one simulation per
FOV) vs our ``simulate_experiment`` (per-FOV streams) and our batched FOVs
(``simulate_fovs_batched``, what training uses) — in output tracks per second. Parameters are the
challenge's (``challenge_params`` with a fixed seed), identical for both.

andi's raw calls are timed ``--andi-repeats`` times (different seeds) after a warm-up call (its
imports are not counted), interleaved with repeats of ours, and both sides report their best time, so
that both see the same load on a shared machine. numba's kernels are loaded first, so single_state
and multi_state use the compiled walk (as a training process does; ``andimamba simulate`` for those
two models walks in numpy, bit-identical, to skip loading numba).

Usage: ``OMP_NUM_THREADS=1 taskset -c 0 python benchmarks/bench_sim.py [--quick] [--models a,b] [--raw-only]``
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings

import numpy as np

import andimamba.sim._kernels  # noqa: F401  (the compiled walk for single_state and multi_state, see above)
from andimamba.sim.challenge import simulate_fovs_batched
from andimamba.sim.experiment import simulate_experiment
from andimamba.sim.models import simulate
from andimamba.sim.params import MODELS, challenge_params


def timed(fn, min_time=1.0):
    """Best-of repeated wall time of fn() (at least two runs, until min_time is spent)."""
    fn()  # warm-up (numba cache load, imports)
    best, spent, out = np.inf, 0.0, None
    while spent < min_time or best == np.inf:
        t = time.perf_counter()
        out = fn()
        dt = time.perf_counter() - t
        best, spent = min(best, dt), spent + dt
        if spent > 3 * min_time:
            break
    return best, out


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="smaller sizes (smoke test)")
    ap.add_argument("--no-andi", action="store_true")
    ap.add_argument("--models", default=",".join(MODELS), help="comma-separated models (default all five)")
    ap.add_argument("--raw-only", action="store_true", help="only the raw model calls (no pipeline columns)")
    ap.add_argument("--andi-repeats", type=int, default=3, help="andi raw calls per model (best reported)")
    args = ap.parse_args()
    models = [m for m in args.models.split(",") if m]
    N_andi, boxes = (50, 4) if args.quick else (100, 20)
    fovs_andi, fovs_ours = (2, 4) if args.quick else (4, 40)
    print(f"machine: {platform.machine()} {platform.processor() or ''} | cpus visible {len(os.sched_getaffinity(0))} | "
          f"python {platform.python_version()} | numpy {np.__version__}")
    rows = []
    for m in models:
        params = challenge_params(m, np.random.default_rng(1 + MODELS.index(m)))
        p_raw = challenge_params(m, np.random.default_rng(1 + MODELS.index(m)), N=N_andi)
        rng = np.random.default_rng(0)
        t_ours, _ = timed(lambda: simulate(p_raw, rng, n_boxes=boxes))
        ours_raw = boxes * N_andi / t_ours
        ours_pipe = ours_bat = andi_raw = andi_pipe = np.nan
        if not args.raw_only:
            t_pipe, (_, fv) = timed(lambda: simulate_experiment(params=params, n_fovs=fovs_ours, seed=0, progress=False))
            ours_pipe = sum(len(f.tracks) for f in fv) / t_pipe
            t_bat, fvb = timed(lambda: simulate_fovs_batched(params, fovs_ours, rng))
            ours_bat = sum(len(f.tracks) for f in fvb) / t_bat
        if not args.no_andi:
            from andimamba.sim.reference import andi_challenge_fovs, andi_model_call, seed_andi

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                seed_andi(0)
                andi_model_call(challenge_params(m, np.random.default_rng(0), N=5))  # warm-up (imports)
                times = []
                for k in range(args.andi_repeats):
                    seed_andi(k)
                    t0 = time.perf_counter()
                    andi_model_call(p_raw)
                    times.append(time.perf_counter() - t0)
                    # ours again between andi's calls: both bests come from the same spell of load
                    t_ours = min(t_ours, timed(lambda: simulate(p_raw, rng, n_boxes=boxes), min_time=0.3)[0])
                andi_raw = N_andi / min(times)
                ours_raw = boxes * N_andi / t_ours
                if not args.raw_only:
                    t0 = time.perf_counter()
                    fa, _, _ = andi_challenge_fovs(params, fovs_andi, seed=0)
                    andi_pipe = sum(len(f.tracks) for f in fa) / (time.perf_counter() - t0)
        rows.append((m, andi_raw, ours_raw, andi_pipe, ours_pipe, ours_bat))
        print(f"  done {m}", flush=True)
    print()
    print("| model | andi raw (traj/s) | ours raw (traj/s) | speed-up | andi pipeline (tracks/s) | ours pipeline, per-FOV streams | speed-up | ours pipeline, batched FOVs | speed-up |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for m, ar, orr, ap_, op, ob in rows:
        print(f"| {m} | {ar:,.0f} | {orr:,.0f} | {orr / ar:,.0f}x | {ap_:,.1f} | {op:,.0f} | {op / ap_:,.0f}x | {ob:,.0f} | {ob / ap_:,.0f}x |")


if __name__ == "__main__":
    main()
