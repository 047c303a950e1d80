"""Rank candidate checkpoints (e.g. training phases and their averages) by the rule used to choose shipped weights:
each with its own tuned segmenter (``andimamba tune-segmenter``), the five official metrics on the segmenter tuning
set (:func:`andimamba.tuning.tuning_set`: held-out, seed 777, not the benchmark's), and the mean of each candidate's
ranks over CP RMSE, CP JSC, α MAE, K MSLE and state F1 among the candidates (the AnDi-2 challenge's rule). Segments
are scored as tune-segmenter scores them (nothing pooled), or with ``--pooled`` as ``predict`` answers by default
(states, then α pooled per experiment with each candidate's own calibration).

Usage: ``python benchmarks/rank_candidates.py CKPT [CKPT ...] [--n-fovs 4] [--seed 777] [--pooled]``
"""

from __future__ import annotations

import argparse
import platform
from pathlib import Path

import numpy as np
import pandas as pd

from andimamba.metrics import single_trajectory_scores
from andimamba.pooling import pool_alphas
from andimamba.predict import load_predictor
from andimamba.segments import segment_batch
from andimamba.state_pooling import pool_states
from andimamba.tuning import experiment_arrays, tuning_set

METRICS = (("rmse_cp", True), ("jsc_cp", False), ("alpha_mae", True), ("K_msle", True), ("state_f1", False))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="+", help="checkpoint folders or shipped model names")
    ap.add_argument("--n-fovs", type=int, default=4)
    ap.add_argument("--seed", type=int, default=777)
    ap.add_argument("--pooled", action="store_true", help="score the segments pooled per experiment, as predict answers")
    a = ap.parse_args()
    exps = []
    for _, fovs in tuning_set(a.n_fovs, a.seed):
        if (arrays := experiment_arrays(fovs)) is not None:
            exps.append(arrays)
    n = sum(len(t) for t, _, _ in exps)
    rows = []
    for m in a.models:
        pred = load_predictor(m)
        if a.pooled and pred.pooling is None:
            raise SystemExit(f"{m} has no pooling calibration: run andimamba tune-segmenter on it")
        tot = np.zeros(len(METRICS))
        for truth, pos, lengths in exps:
            res = segment_batch(pred.frame_outputs(pos, lengths), lengths, cfg=pred.segmenter)
            if a.pooled:
                res = pool_alphas(pool_states(res, pred.pooling, pred.segmenter)[0], pred.pooling)[0]
            sc = single_trajectory_scores(truth, dict(enumerate(res)))
            tot += len(truth) * np.array([sc[k] for k, _ in METRICS])
        rows.append({"model": Path(m).name, "cp_threshold": pred.segmenter.cp_threshold, **dict(zip([k for k, _ in METRICS], tot / n))})
    table = pd.DataFrame(rows)
    table["mean_rank"] = pd.concat([table[k].rank(ascending=asc) for k, asc in METRICS], axis=1).mean(axis=1)
    print(f"machine: {platform.machine()} | tuning set: {len(exps)} experiments, {n} tracks, seed {a.seed}"
          f"{' | pooled (states, α)' if a.pooled else ''}\n")
    cols = list(table.columns)
    print("| " + " | ".join(cols) + " |\n|" + "---|" * len(cols))
    for _, r in table.iterrows():
        print("| " + " | ".join(f"{r[c]:.6f}" if isinstance(r[c], float) and c != "cp_threshold" else str(r[c]) for c in cols) + " |")


if __name__ == "__main__":
    main()
