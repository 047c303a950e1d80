"""Does pooling per experiment help on experiments unlike the benchmark's? Per experiment, α MAE and state F1
(official metrics) without pooling, with α pooled (:func:`andimamba.pooling.pool_alphas`) and with the states then
α pooled (:func:`andimamba.state_pooling.pool_states`, ``predict``'s default), on random experiments: every AnDi-2
model with parameters drawn from the challenge prior and from the broad prior (:func:`andimamba.tuning.tuning_set`'s
recipe, with seeds other than the tuning set's 777, so neither the calibration nor the benchmark's experiments),
several draws each.

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
from andimamba.state_pooling import pool_states
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
    print("| seed | experiment | tracks | α MAE not pooled | α pooled | states + α pooled | F1 not pooled | states + α pooled |\n"
          "|---|---|---:|---:|---:|---:|---:|---:|")
    cfg = pred.segmenter
    rows = []
    for seed in a.seeds:
        for name, fovs in tuning_set(a.n_fovs, seed):
            if name.startswith("recipe/"):
                continue  # the benchmark's own experiments: measured by andi2_benchmark.py
            arrays = experiment_arrays(fovs)
            if arrays is None or len(arrays[0]) < 5:
                continue
            truth, pos, lengths = arrays
            res = segment_batch(pred.frame_outputs(pos, lengths), lengths, cfg=cfg)
            variants = (res, pool_alphas(res, pred.pooling)[0],
                        pool_alphas(pool_states(res, pred.pooling, cfg)[0], pred.pooling)[0])
            sc = [single_trajectory_scores(truth, dict(enumerate(v))) for v in variants]
            rows.append((len(truth), *(x["alpha_mae"] for x in sc), sc[0]["state_f1"], sc[2]["state_f1"]))
            print(f"| {seed} | {name} | {len(truth)} | {sc[0]['alpha_mae']:.3f} | {sc[1]['alpha_mae']:.3f} | {sc[2]['alpha_mae']:.3f} | "
                  f"{sc[0]['state_f1']:.3f} | {sc[2]['state_f1']:.3f} |", flush=True)
    n, raw, pooled, both, f_raw, f_both = map(np.array, zip(*rows))
    avg = lambda v: np.average(v, weights=n)  # noqa: E731
    print(f"\nweighted by tracks: α MAE not pooled {avg(raw):.4f}, α pooled {avg(pooled):.4f}, states + α pooled {avg(both):.4f}; "
          f"state F1 not pooled {avg(f_raw):.4f}, states + α pooled {avg(f_both):.4f}")
    print(f"α (states + α pooled vs not pooled): worse by more than 0.005 in {int((both > raw + 0.005).sum())} of {len(rows)} "
          f"experiments, better by more than 0.005 in {int((both < raw - 0.005).sum())}; state F1: worse by more than 0.005 in "
          f"{int((f_both < f_raw - 0.005).sum())}, better by more than 0.005 in {int((f_both > f_raw + 0.005).sum())}")

if __name__ == "__main__":
    main()
