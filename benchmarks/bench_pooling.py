"""Does pooling α per experiment help on experiments unlike the benchmark's? Per experiment, α MAE (official metric)
with and without :func:`andimamba.pooling.pool_alphas`, on random experiments: every AnDi-2 model with parameters
drawn from the challenge prior and from the broad prior (:func:`andimamba.tuning.tuning_set`'s recipe, with seeds
other than the tuning set's 777, so neither the calibration nor the benchmark's experiments), several draws each.

Usage: ``python benchmarks/bench_pooling.py [--model bimamba] [--seeds 4242 4243 4244] [--n-fovs 4]``
"""

from __future__ import annotations

import argparse
import platform

import numpy as np

from andimamba.metrics import single_trajectory_scores
from andimamba.pooling import pool_alphas
from andimamba.predict import load_predictor
from andimamba.segments import segment_batch
from andimamba.tuning import experiment_arrays, tuning_set


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="bimamba")
    ap.add_argument("--seeds", type=int, nargs="+", default=[4242, 4243, 4244])
    ap.add_argument("--n-fovs", type=int, default=4)
    a = ap.parse_args()
    pred = load_predictor(a.model)
    if pred.pooling is None:
        raise SystemExit(f"{a.model} has no pooling calibration: run andimamba tune-segmenter on it")
    print(f"machine: {platform.machine()} | model {a.model} | seeds {a.seeds} | {a.n_fovs} FOVs per experiment\n")
    print("| seed | experiment | tracks | α MAE not pooled | α MAE pooled | gain |\n|---|---|---:|---:|---:|---:|")
    rows = []
    for seed in a.seeds:
        for name, fovs in tuning_set(a.n_fovs, seed):
            if name.startswith("recipe/"):
                continue  # the benchmark's own experiments: measured by andi2_benchmark.py
            arrays = experiment_arrays(fovs)
            if arrays is None or len(arrays[0]) < 5:
                continue
            truth, pos, lengths = arrays
            res = segment_batch(pred.frame_outputs(pos, lengths), lengths, cfg=pred.segmenter)
            raw = single_trajectory_scores(truth, dict(enumerate(res)))["alpha_mae"]
            pooled = single_trajectory_scores(truth, dict(enumerate(pool_alphas(res, pred.pooling)[0])))["alpha_mae"]
            rows.append((len(truth), raw, pooled))
            print(f"| {seed} | {name} | {len(truth)} | {raw:.3f} | {pooled:.3f} | {raw - pooled:+.3f} |", flush=True)
    n, raw, pooled = map(np.array, zip(*rows))
    worse = int((pooled > raw + 0.005).sum())
    print(f"\nweighted by tracks: not pooled {np.average(raw, weights=n):.4f}, pooled {np.average(pooled, weights=n):.4f}; "
          f"pooling worse by more than 0.005 in {worse} of {len(rows)} experiments, better by more than 0.005 in "
          f"{int((pooled < raw - 0.005).sum())}")


if __name__ == "__main__":
    main()
