"""End-to-end ``andimamba predict`` throughput: read CSV, features, model, segments, write tables.

Writes an AnDi-format CSV of ``--n`` simulated 200-frame tracks (multi-state), then times the
library pipeline that ``andimamba predict`` runs (:func:`andimamba.pipeline.predict_file` then
``Prediction.write``: reading, model loading, prediction, tables), with and without test-time
augmentation and the per-frame table. Python start-up is excluded.

Usage: ``python benchmarks/bench_predict.py [--n 5000] [--threads 2] [--models bimamba bilstm classical]``
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np


def make_csv(path: Path, n: int, T: int = 200) -> None:
    from andimamba.sim.models import simulate
    from andimamba.sim.params import challenge_params

    p = challenge_params("multi_state", np.random.default_rng(0), N=n, T=T)
    sim = simulate(p, np.random.default_rng(1))
    xy = sim.positions + np.random.default_rng(2).normal(0, 0.12, sim.positions.shape)
    idx = np.repeat(np.arange(n), T)
    fr = np.tile(np.arange(T), n)
    with open(path, "w") as f:
        f.write("traj_idx,frame,x,y\n")
        np.savetxt(f, np.column_stack([idx, fr, xy.reshape(-1, 2)]), fmt=["%d", "%d", "%.6f", "%.6f"], delimiter=",")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--models", nargs="+", default=["bimamba", "bilstm", "classical"])
    a = ap.parse_args()
    import torch

    from andimamba.pipeline import predict_file
    from andimamba.threads import set_threads

    tmp = Path(tempfile.mkdtemp())
    csv = tmp / "tracks.csv"
    make_csv(csv, a.n)
    print(f"machine: {platform.machine()} {platform.processor()} | cpus {os.cpu_count()} | threads {a.threads} | torch {torch.__version__} | "
          f"{a.n} tracks x 200 frames")
    print("\n| model | TTA | per-frame table | seconds | tracks/s |\n|---|---|---|---:|---:|")
    for m in a.models:
        for tta, frames in ((False, True), (False, False), (True, False)):
            if m == "classical" and tta:
                continue
            out = tmp / "out"
            shutil.rmtree(out, ignore_errors=True)
            set_threads(a.threads)
            t = time.perf_counter()
            predict_file(csv, model=m, tta=tta).write(out, frames=frames)  # what `andimamba predict` runs and writes
            dt = time.perf_counter() - t
            print(f"| {m} | {'yes' if tta else 'no'} | {'yes' if frames else 'no'} | {dt:.1f} | {a.n / dt:,.0f} |", flush=True)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
