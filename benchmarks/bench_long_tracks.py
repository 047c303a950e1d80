"""Tracks longer than the training length: whole-track inference vs overlapping windows.

Simulates multi-state tracks of ``--T`` frames (two states (α, K) = (1.2, 1.0)/(0.7, 0.1),
switching probability 0.01 per frame, localisation noise 0.12 px), filters their labels as the
challenge does, and scores both modes with the official single-trajectory metrics.

Usage: ``python benchmarks/bench_long_tracks.py [--T 1000] [--n 300] [--model bimamba]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--T", type=int, default=1000)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--model", default="bimamba")
    ap.add_argument("--window", type=int, default=200)
    a = ap.parse_args()
    from andimamba.metrics import single_trajectory_scores
    from andimamba.predict import load_predictor
    from andimamba.result import SegmentResult, segments_from_labels
    from andimamba.sim.labels import label_filter
    from andimamba.sim.models import simulate
    from andimamba.sim.params import ExperimentParams

    p = ExperimentParams(model="multi_state", alphas=[[1.2, 0.01], [0.7, 0.01]], Ks=[[1.0, 0.01], [0.1, 0.001]],
                         M=[[0.99, 0.01], [0.01, 0.99]], N=a.n, T=a.T, L=1e5)
    sim = simulate(p, np.random.default_rng(0))
    xy = sim.positions + np.random.default_rng(1).normal(0, 0.12, sim.positions.shape)
    truth = {}
    for i in range(a.n):
        al, k, s = (label_filter(c[i]) for c in (sim.alpha, sim.K, sim.state))
        cps, sa, sk, ss = segments_from_labels(al, k, s)
        truth[i] = SegmentResult(i, a.T, cps, sa, sk, ss)
    pos = (xy - xy[:, :1]).astype(np.float32)
    lengths = np.full(a.n, a.T)
    print(f"{a.n} tracks of {a.T} frames, model {a.model}")
    print("\n| mode | CP RMSE (JSC) | α MAE | K MSLE | state F1 | seconds |\n|---|---:|---:|---:|---:|---:|")
    for mode, window in (("whole track", None), (f"windows of {a.window}, half overlap", a.window)):
        pred_obj = load_predictor(a.model, window=window)
        t = time.perf_counter()
        res = pred_obj.predict_batch(pos, lengths)
        dt = time.perf_counter() - t
        pred = dict(enumerate(res))
        sc = single_trajectory_scores(truth, pred)
        print(f"| {mode} | {sc['rmse_cp']:.2f} ({sc['jsc_cp']:.2f}) | {sc['alpha_mae']:.3f} | {sc['K_msle']:.4f} | {sc['state_f1']:.3f} | {dt:.1f} |")


if __name__ == "__main__":
    main()
