"""``andimamba predict``: segments, tables, plots and AnDi-2 submission files for user tracks."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm


def register(sub) -> None:
    p = sub.add_parser(
        "predict",
        help="find change points and per-segment alpha, K, state in tracks",
        description="Run a model on tracks (one file, or a folder in the AnDi-2 challenge layout) and write per-segment and "
        "per-frame CSV tables, plots, and the official AnDi-2 submission files.",
    )
    p.add_argument("input", type=Path, help="track file (AnDi CSV, trackpy CSV, TrackMate CSV/XML) or an AnDi-2 folder (…/track_2/exp_*/trajs_fov_*.csv)")
    p.add_argument("--out", required=True, type=Path, help="output folder (created; must be empty unless --overwrite)")
    p.add_argument("--model", default="bimamba", help="shipped model name (bimamba, bilstm), 'classical', or a trained run folder")
    p.add_argument("--format", default="auto", help="input format (auto, andi, trackpy, trackmate_csv, trackmate_xml, trackmate_tracks)")
    p.add_argument("--pixel-size", type=float, help="µm per pixel: K is then also reported in µm²/s^α (with --frame-interval)")
    p.add_argument("--frame-interval", type=float, help="seconds per frame")
    p.add_argument("--units", choices=("px", "um"), default="px", help="units of x, y in CSV input (um needs --pixel-size)")
    p.add_argument("--min-length", type=int, default=20, help="shorter tracks are reported and skipped (default 20)")
    p.add_argument("--tta", action="store_true", help="average over the 8 rotations/reflections of each track (8x slower)")
    p.add_argument("--plots", action="store_true", help="write PNG plots")
    p.add_argument("--no-frames", action="store_true", help="skip the per-frame table frames.csv (its writing dominates run time on large inputs)")
    p.add_argument("--max-plots", type=int, default=20, help="tracks plotted individually (default 20)")
    p.add_argument("--window", type=int, default=200, help="tracks longer than this run in half-overlapping windows of this length (default 200, the training length; 0: whole tracks)")
    p.add_argument("--batch-size", type=int, default=512)
    p.add_argument("--threads", type=int, default=0, help="CPU threads (default: all cores)")
    p.add_argument("--overwrite", action="store_true", help="allow a non-empty --out folder (files are replaced)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run)


def _predict_tracks(pred, tracks, tta: bool, progress: bool, desc: str):
    batch, ids = tracks.to_batch()
    order = np.argsort(batch.lengths)  # similar lengths together: less padding
    results = [None] * len(ids)
    bs = pred.batch_size
    for s in tqdm(range(0, len(ids), bs), disable=not progress, desc=desc, unit="batch"):
        rows = order[s : s + bs]
        l = int(batch.lengths[rows].max())
        res = pred.predict_batch(batch.positions[rows, :l], batch.lengths[rows], [ids[i] for i in rows], tracks.first_frames[rows], tta=tta)
        for i, r in zip(rows, res):
            results[i] = r
    return results


def _write_plots(stage: Path, tracks, results, max_plots: int, pixel_size) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plots import plot_alpha_logK_map, plot_track, plot_traces

    pdir = stage / "plots"
    pdir.mkdir(exist_ok=True)
    fig, ax = plt.subplots(figsize=(5, 4))
    plot_alpha_logK_map(results, ax=ax)
    fig.tight_layout()
    fig.savefig(pdir / "alpha_logK_map.png", dpi=120)
    plt.close(fig)
    xy_by_id = {tid: xy for tid, _, xy in tracks}
    for r in results[:max_plots]:
        fig = plt.figure(figsize=(10, 4))
        ax0 = fig.add_subplot(1, 2, 1)
        plot_track(xy_by_id[r.track_id], r, ax=ax0, pixel_size=pixel_size)
        ax1 = fig.add_subplot(2, 2, 2)
        ax2 = fig.add_subplot(2, 2, 4, sharex=ax1)
        plot_traces(r, axes=[ax1, ax2])
        fig.tight_layout()
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in r.track_id)
        fig.savefig(pdir / f"track_{safe}.png", dpi=100)
        plt.close(fig)


def run(args: argparse.Namespace) -> int:
    from ..ensemble import ensemble_from_segments
    from ..io import read_andi_folder, read_tracks, segments_table, frames_table, write_ensemble_labels, write_frames_csv, write_segments_csv, write_submission_fov
    from ..predict import load_predictor
    import pandas as pd
    import torch

    t0 = time.perf_counter()
    out = Path(args.out)
    if not args.input.exists():
        raise FileNotFoundError(f"{args.input}: no such file or folder")
    if out.exists() and any(out.iterdir()) and not args.overwrite:
        raise FileExistsError(f"{out} is not empty: choose a new --out folder or pass --overwrite")
    if args.units == "um" and not args.pixel_size:
        raise ValueError("--units um needs --pixel-size (µm per pixel) to convert positions to pixels")
    torch.set_num_threads(args.threads or os.cpu_count() or 1)
    pred = load_predictor(args.model, window=args.window or None, batch_size=args.batch_size)
    progress = not args.no_progress

    # 1. read everything (errors here leave nothing behind)
    if args.input.is_dir():  # read_andi_folder knows the layouts and says what a folder lacks
        groups = read_andi_folder(args.input, min_length=args.min_length)
        andi = True
    else:
        groups = [read_tracks(args.input, format=args.format, pixel_size=args.pixel_size, frame_interval=args.frame_interval,
                              min_length=args.min_length, **({"units": args.units} if args.units != "px" else {}))]
        andi = False
    px = args.pixel_size or groups[0].pixel_size
    dt = args.frame_interval or groups[0].frame_interval

    # 2. predict
    all_results = []
    for g in groups:
        desc = f"exp {g.experiment} fov {g.fov}" if andi else "tracks"
        all_results.append(_predict_tracks(pred, g, args.tta, progress, desc))

    # 3. write into a staging folder, then move into place
    out.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".predict.", dir=out))
    try:
        seg_tables, frame_tables, skipped = [], [], []
        by_exp: dict = {}
        for g, res in zip(groups, all_results):
            st = segments_table(res, pixel_size=px, frame_interval=dt)
            ft = None if args.no_frames else frames_table(res, tracks=g)
            if andi:
                for t in (st, ft):
                    if t is None:
                        continue
                    t.insert(0, "fov", g.fov)
                    t.insert(0, "experiment", g.experiment)
                write_submission_fov(stage / "track_2" / f"exp_{g.experiment}" / f"fov_{g.fov}.txt", res)
                by_exp.setdefault(g.experiment, []).extend(res)
            seg_tables.append(st)
            frame_tables.append(ft)
            skipped += [(g.source, tid, n) for tid, n in g.skipped]
        for e, res in by_exp.items():
            a = np.concatenate([r.alphas for r in res])
            k = np.concatenate([r.Ks for r in res])
            n = np.concatenate([np.diff(np.concatenate([[0], r.cps, [r.T]])) for r in res])
            write_ensemble_labels(stage / "track_2" / f"exp_{e}" / "ensemble_labels.txt", f"andimamba-{pred.name}", ensemble_from_segments(a, k, n))
        write_segments_csv(stage / "segments.csv", pd.concat(seg_tables, ignore_index=True))
        if not args.no_frames:
            write_frames_csv(stage / "frames.csv", pd.concat(frame_tables, ignore_index=True))
        if skipped:
            pd.DataFrame(skipped, columns=["file", "track_id", "n_frames"]).to_csv(stage / "skipped_tracks.csv", index=False)
        if args.plots:  # the first file / FOV
            _write_plots(stage, groups[0], all_results[0], args.max_plots, px)
        for item in stage.iterdir():
            dest = out / item.name
            if dest.is_dir():
                shutil.copytree(item, dest, dirs_exist_ok=True)
                shutil.rmtree(item)
            else:
                os.replace(item, dest)
    finally:
        shutil.rmtree(stage, ignore_errors=True)

    n_tracks = sum(len(r) for r in all_results)
    n_seg = sum(len(r.alphas) for res in all_results for r in res)
    dt_s = time.perf_counter() - t0
    print(f"{n_tracks} tracks, {n_seg} segments, model {pred.name}{' +TTA' if args.tta else ''}: wrote {out} in {dt_s:.1f} s")
    if skipped:
        print(f"skipped {len(skipped)} track(s) shorter than {args.min_length} frames (listed in {out / 'skipped_tracks.csv'})", file=sys.stderr)
    return 0
