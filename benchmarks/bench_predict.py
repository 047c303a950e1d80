"""End-to-end ``andimamba predict`` throughput: read CSV, features, model, segments, write tables.

Writes an AnDi-format CSV of ``--n`` simulated 200-frame tracks (multi-state), then times the
library pipeline that ``andimamba predict`` runs (:func:`andimamba.pipeline.predict_file` then
``Prediction.write``: reading, model loading, prediction, tables), with and without test-time
augmentation, the per-frame table and the per-experiment pooling of α (on by default). Python start-up is excluded. With ``--fovs F`` > 0 it also writes
the same tracks as an AnDi-2 folder of F fields of view and times the folder path
(:func:`andimamba.pipeline.predict_folder`, submission files included) against the single file, the two
runs alternated ``--repeats`` times (best of each), for the first model.

``--cli`` times the command line instead, as a user runs it: ``andimamba predict FILE --out DIR`` in a fresh
process (Python start-up, imports, model and kernel loading and the interpreter's exit included; default
threads), ``--repeats`` rounds. Each ``--src`` is a source tree (``<checkout>/src``) run in turn in every round, so
that an older checkout (a git worktree) and the current one are compared side by side; without it, the installed
package. ``--teardown`` also runs trees whose console script skips the interpreter's teardown
(``andimamba.cli.entry``) through ``andimamba.cli.main`` and a normal exit. ``--batch-sizes`` times the default
row (per-frame table, pooled) at each number of tracks per forward pass instead, in turns, ``--repeats`` rounds.

Usage: ``python benchmarks/bench_predict.py [--n 5000] [--threads 2] [--models bimamba bilstm classical] [--fovs 30]``
       ``python benchmarks/bench_predict.py --cli [--src OLD/src NEW/src] [--teardown] [--repeats 5]``
       ``python benchmarks/bench_predict.py --batch-sizes 128 256 512 [--models bilstm] [--repeats 5]``
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


def make_folder(root: Path, csv: Path, n_fovs: int) -> None:
    """The tracks of ``csv`` as an AnDi-2 folder, track_2/exp_0/trajs_fov_J.csv, dealt round-robin into FOVs."""
    import pandas as pd

    from andimamba import andi2

    df = pd.read_csv(csv)
    exp = andi2.exp_dir(root, 0)
    exp.mkdir(parents=True)
    for j in range(n_fovs):
        part = df[df.traj_idx % n_fovs == j].copy()
        part["traj_idx"] //= n_fovs
        part.to_csv(andi2.trajs_file(exp, j), index=False)


def folder_vs_file(tmp: Path, csv: Path, model: str, n_fovs: int, repeats: int) -> None:
    from andimamba.pipeline import predict_file, predict_folder

    root = tmp / "andi"
    make_folder(root, csv, n_fovs)
    best = {"file": float("inf"), "folder": float("inf")}
    for _ in range(repeats):
        for kind in best:
            out = tmp / f"out_{kind}"
            shutil.rmtree(out, ignore_errors=True)
            t = time.perf_counter()
            if kind == "file":
                predict_file(csv, model=model).write(out)
            else:
                predict_folder(root, model=model).write(out)  # tables and the AnDi-2 submission
            best[kind] = min(best[kind], time.perf_counter() - t)
    print(f"\n{model}, the same tracks as one file and as an AnDi-2 folder of {n_fovs} FOVs (per-frame table on, best of {repeats}, alternated):\n")
    print("| input | seconds | tracks/s | × file |\n|---|---:|---:|---:|")
    for kind, dt in best.items():
        print(f"| {kind} | {dt:.2f} | {N_TRACKS[0] / dt:,.0f} | {dt / best['file']:.2f} |")


def cli_rounds(tmp: Path, csv: Path, srcs: list[str], repeats: int, teardown: bool) -> None:
    """``andimamba predict`` in fresh processes, each variant in turn per round (first turn alternating).

    A variant is a source tree run through its console-script function: ``andimamba.cli.entry`` where the tree
    has it, else ``main`` (then ``sys.exit``: the interpreter's teardown included); with ``teardown``, trees that
    have ``entry`` also run through ``main``."""
    import statistics
    import subprocess
    import sys

    variants = []
    for tree in srcs or [""]:
        cli = Path(tree) / "andimamba" / "cli.py" if tree else Path(__import__("andimamba.cli").cli.__file__)
        has_entry = "def entry(" in cli.read_text()
        variants.append((tree, "entry" if has_entry else "main"))
        if has_entry and teardown:
            variants.append((tree, "main"))
    times: dict[tuple, list[float]] = {v: [] for v in variants}
    for r in range(-1, repeats):  # round -1: untimed, so that every tree has its kernels compiled and cached
        for tree, fn in (variants if r % 2 == 0 else variants[::-1]):
            out = tmp / "out_cli"
            shutil.rmtree(out, ignore_errors=True)
            env = dict(os.environ)
            if tree:
                env["PYTHONPATH"] = str(Path(tree).resolve())
            call = "entry()" if fn == "entry" else "sys.exit(main())"
            cmd = [sys.executable, "-c", f"import sys; from andimamba.cli import {fn}; {call}",
                   "predict", str(csv), "--out", str(out), "--no-progress"]
            t = time.perf_counter()
            subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if r >= 0:
                times[(tree, fn)].append(time.perf_counter() - t)
    print(f"\n`andimamba predict` (fresh process, start-up included, per-frame table on, default threads), {repeats} rounds:\n")
    print("| source | console script | median s | best s | tracks/s (median) | tracks/s (best) | × first (median) |\n"
          "|---|---|---:|---:|---:|---:|---:|")
    ref = statistics.median(times[variants[0]])
    for (tree, fn), v in times.items():
        med = statistics.median(v)
        print(f"| {tree or 'installed'} | {fn} | {med:.2f} | {min(v):.2f} | {N_TRACKS[0] / med:,.0f} | {N_TRACKS[0] / min(v):,.0f} | "
              f"{med / ref:.2f} |")


def batch_rounds(tmp: Path, csv: Path, model: str, sizes: list[int], repeats: int) -> None:
    """The default row (per-frame table, pooled) at each ``--batch-size``, in turns per round (first turn alternating)."""
    import statistics

    from andimamba.pipeline import predict_file

    times: dict[int, list[float]] = {b: [] for b in sizes}
    for r in range(-1, repeats):  # round -1 untimed (first calls)
        for b in (sizes if r % 2 == 0 else sizes[::-1]):
            out = tmp / "out_bs"
            shutil.rmtree(out, ignore_errors=True)
            t = time.perf_counter()
            predict_file(csv, model=model, batch_size=b).write(out)
            if r >= 0:
                times[b].append(time.perf_counter() - t)
    print(f"\n{model}, per-frame table on, pooled, by tracks per forward pass ({repeats} rounds, in turns):\n")
    print("| batch size | median s | best s | tracks/s (median) | tracks/s (best) | × first (median) |\n|---:|---:|---:|---:|---:|---:|")
    ref = statistics.median(times[sizes[0]])
    for b, v in times.items():
        med = statistics.median(v)
        print(f"| {b} | {med:.2f} | {min(v):.2f} | {N_TRACKS[0] / med:,.0f} | {N_TRACKS[0] / min(v):,.0f} | {med / ref:.2f} |")


N_TRACKS = [0]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--models", nargs="+", default=["bimamba", "bilstm", "classical"])
    ap.add_argument("--fovs", type=int, default=0, help="also time an AnDi-2 folder of this many FOVs against the file")
    ap.add_argument("--repeats", type=int, default=3, help="alternated runs of the folder-vs-file comparison")
    ap.add_argument("--only-folder", action="store_true", help="skip the per-model table")
    ap.add_argument("--table-repeats", type=int, default=2, help="rounds of the per-model table (best of each row)")
    ap.add_argument("--batch-sizes", type=int, nargs="*", default=[], help="time the default row at these batch sizes instead")
    ap.add_argument("--cli", action="store_true", help="time the command line in fresh processes instead (see above)")
    ap.add_argument("--src", nargs="*", default=[], help="with --cli: source trees to run in turn (default: the installed package)")
    ap.add_argument("--teardown", action="store_true", help="with --cli: also run trees that have cli.entry through cli.main")
    a = ap.parse_args()
    N_TRACKS[0] = a.n
    import torch

    from andimamba.pipeline import predict_file
    from andimamba.threads import set_threads

    tmp = Path(tempfile.mkdtemp())
    csv = tmp / "tracks.csv"
    make_csv(csv, a.n)
    print(f"machine: {platform.machine()} {platform.processor()} | cpus {os.cpu_count()} | threads {a.threads} | torch {torch.__version__} | "
          f"{a.n} tracks x 200 frames")
    if a.cli or a.batch_sizes:
        if a.cli:
            cli_rounds(tmp, csv, a.src, a.repeats, a.teardown)
        else:
            batch_rounds(tmp, csv, a.models[0], a.batch_sizes, a.repeats)
        shutil.rmtree(tmp, ignore_errors=True)
        return
    set_threads(a.threads)
    if a.fovs:
        folder_vs_file(tmp, csv, a.models[0], a.fovs, a.repeats)
    rows = [(m, tta, frames, pool) for m in ([] if a.only_folder else a.models)
            for tta, frames, pool in ((False, True, True), (False, True, False), (False, False, True), (True, False, True))
            if not (m == "classical" and (tta or not pool))]  # the classical method: no network, so no TTA, nothing to pool
    best, pooled = {}, {}
    for _ in range(a.table_repeats):  # rounds of every row, so that a load change hits them alike
        for row in rows:
            m, tta, frames, pool = row
            out = tmp / "out"
            shutil.rmtree(out, ignore_errors=True)
            set_threads(a.threads)
            t = time.perf_counter()
            run = predict_file(csv, model=m, tta=tta, pool=pool)
            run.write(out, frames=frames)  # what `andimamba predict` runs and writes
            best[row] = min(best.get(row, float("inf")), time.perf_counter() - t)
            pooled[row] = bool(run.pooled)
    print(f"\n(best of {a.table_repeats} rounds)\n\n| model | TTA | per-frame table | pooled (states, α) | seconds | tracks/s |\n|---|---|---|---|---:|---:|")
    for row in rows:
        m, tta, frames, _ = row
        print(f"| {m} | {'yes' if tta else 'no'} | {'yes' if frames else 'no'} | {'yes' if pooled[row] else 'no'} | {best[row]:.2f} | "
              f"{a.n / best[row]:,.0f} |")
    nets = [m for m in a.models if m != "classical"]
    if nets:  # the pooling step alone, on the first network's unpooled segments of the same tracks
        from andimamba.pipeline import _pooled
        from andimamba.predict import load_predictor

        loaded = load_predictor(nets[0])
        run = predict_file(csv, model=nets[0], pool=False)
        times = []
        for _ in range(3):
            t = time.perf_counter()
            _pooled(run.groups, run.results, loaded.pooling, loaded.segmenter)
            times.append(time.perf_counter() - t)
        print(f"\npooling alone, states and α ({nets[0]}, {a.n} tracks, best of 3): {min(times):.3f} s")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
