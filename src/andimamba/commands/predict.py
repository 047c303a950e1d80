"""``andimamba predict``: segments, tables, plots and AnDi-2 submission files for user tracks."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from ..cli import UserError
from ..short_tracks import SHORT_MAX_LENGTH, SHORT_MIN_LENGTH

# what a predict run writes into --out (anything else there is the user's: --overwrite refuses to delete it)
RUN_FILE = "run.json"
OUTPUTS = ("segments.csv", "frames.csv", "skipped_tracks.csv", "plots", "track_2", RUN_FILE)


def register(sub) -> None:
    p = sub.add_parser(
        "predict",
        help="find change points and per-segment alpha, K, state in tracks",
        description="Run a model on tracks (one file, or a folder in the AnDi-2 challenge layout) and write per-segment and "
        "per-frame CSV tables, plots, and the official AnDi-2 submission files. Immobile segments are reported with "
        "alpha = K = 0 (the AnDi-2 label convention) in segments.csv, in frames.csv (every frame of the segment) and "
        "in the plots (a separate row of the alpha-log K map).",
    )
    p.add_argument("input", type=Path, help="track file (AnDi CSV, trackpy CSV, TrackMate CSV/XML) or an AnDi-2 folder (…/track_2/exp_*/trajs_fov_*.csv)")
    p.add_argument("--out", required=True, type=Path, help="output folder (created; must be empty unless --overwrite)")
    p.add_argument("--model", default="bimamba", help="shipped model name (bimamba, bilstm), 'classical', or a trained run folder")
    p.add_argument("--format", default="auto", help="input format (auto, andi, tidy (alias trackpy), trackmate_spots, trackmate_xml, "
                   "trackmate_tracks); auto recognises the track/frame/x/y columns of trackpy, quot, saspt, Spot-On, MOSAIC, "
                   "u-track, Icy, ThunderSTORM/SMAP (with a track column), FreeTrace and TrackMate exports")
    p.add_argument("--columns", help="your column names when they are not recognised, e.g. --columns track=TrackID,frame=Frame,x=X,y=Y")
    p.add_argument("--pixel-size", type=float, help="µm per pixel: K is then also reported in µm²/s^α (with --frame-interval)")
    p.add_argument("--frame-interval", type=float, help="seconds per frame")
    p.add_argument("--units", choices=("px", "nm", "um"), help="units of x, y when the file does not say (default: the header's "
                   "unit, e.g. 'x [nm]', else the format's, else px); nm and um need --pixel-size")
    p.add_argument("--min-length", type=int, default=SHORT_MIN_LENGTH, help=f"shorter tracks are reported and skipped (default "
                   f"{SHORT_MIN_LENGTH}). Tracks of {SHORT_MIN_LENGTH}-{SHORT_MAX_LENGTH} frames get one alpha and K per track "
                   f"(regime 'short', no change points; errors by length in docs/short_tracks.md); from 20 frames on, the "
                   "network finds change points (regime 'full'). --min-length 20 analyses only the latter")
    p.add_argument("--loc-noise", type=float, help="localisation precision (std per coordinate, in pixels) when known: "
                   "sharpens the short-track estimates")
    p.add_argument("--tta", action="store_true", help="average over the 8 rotations/reflections of each track (8x slower)")
    p.add_argument("--specialise", action="store_true", help="per experiment (each exp_* of an AnDi-2 folder, or the whole "
                   "file): fine-tune a copy of the network on simulations matching the first pass's ensemble answer, then "
                   "predict again (seeded; about a minute per experiment on 2 cores)")
    p.add_argument("--specialise-steps", type=int, default=None, help="fine-tuning steps per experiment (default 120)")
    p.add_argument("--plots", action="store_true", help="write PNG plots (alpha-log K map of all segments, one per "
                   "experiment in folder mode, and the first --max-plots tracks)")
    p.add_argument("--no-frames", action="store_true", help="skip the per-frame table frames.csv (its writing dominates run time on large inputs)")
    p.add_argument("--max-plots", type=int, default=20, help="tracks plotted individually (default 20)")
    p.add_argument("--window", type=int, default=200, help="tracks longer than this run in half-overlapping windows of this length (default 200, the training length; 0: whole tracks)")
    p.add_argument("--batch-size", type=int, default=512, help="tracks per forward pass (default 512)")
    p.add_argument("--threads", type=int, default=0, help="CPU threads (default: all cores)")
    p.add_argument("--overwrite", action="store_true", help="replace the previous run in --out (the whole folder is replaced)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run)


def _positive(name: str, value, integer: bool = False, zero_ok: bool = False) -> None:
    bad = value is None or not math.isfinite(value) or value < 0 or (value == 0 and not zero_ok)
    if bad:
        need = ("an integer" if integer else "a number") + (" >= 0" if zero_ok else " > 0")
        raise UserError(f"--{name} {value}: must be {need}")


def check_args(args: argparse.Namespace) -> None:
    """Every option checked before any work is done (one-line errors naming the flag)."""
    if not args.input.exists():
        raise FileNotFoundError(f"{args.input}: no such file or folder")
    for name in ("pixel_size", "frame_interval"):
        if getattr(args, name) is not None:
            _positive(name.replace("_", "-"), getattr(args, name))
    _positive("batch-size", args.batch_size, integer=True)
    _positive("threads", args.threads, integer=True, zero_ok=True)
    _positive("max-plots", args.max_plots, integer=True, zero_ok=True)
    if args.min_length < 3:
        raise UserError(f"--min-length {args.min_length}: must be at least 3 frames ({SHORT_MIN_LENGTH} or more is validated)")
    if args.loc_noise is not None:
        _positive("loc-noise", args.loc_noise)
    if args.window != 0 and args.window < 20:
        raise UserError(f"--window {args.window}: must be 0 (whole tracks) or at least 20 frames")
    if args.input.is_dir() and (args.format != "auto" or args.units is not None or args.columns is not None):
        raise UserError(f"{args.input} is an AnDi-2 folder (positions in pixels): leave out --format, --units and --columns")
    if args.columns is not None:
        from ..io import parse_columns

        parse_columns(args.columns)  # a malformed --columns fails before any work
    if args.model == "classical" and args.tta:
        raise UserError("--tta averages a network over rotations; the classical method has none: leave out --tta")
    if args.model == "classical" and args.specialise:
        raise UserError("--specialise fine-tunes a network; the classical method has none: leave out --specialise")
    if args.specialise_steps is not None:
        _positive("specialise-steps", args.specialise_steps, integer=True)
        if not args.specialise:
            raise UserError("--specialise-steps needs --specialise")


def _read(args):
    from ..io import read_andi_folder, read_tracks

    if args.input.is_dir():  # read_andi_folder knows the layouts and says what a folder lacks
        return read_andi_folder(args.input, min_length=args.min_length), True
    return [read_tracks(args.input, format=args.format, pixel_size=args.pixel_size, frame_interval=args.frame_interval,
                        min_length=args.min_length, columns=args.columns, units=args.units)], False


def _write(stage: Path, args, pred, groups, all_results, andi: bool, px, dt) -> list:
    import pandas as pd

    from ..ensemble import ensemble_from_segments
    from ..io import frames_table, segments_table, write_ensemble_labels, write_frames_csv, write_segments_csv, write_submission_fov

    seg_tables, frame_tables, skipped = [], [], []
    by_exp: dict = {}
    for g, res in zip(groups, all_results):
        st = segments_table(res, pixel_size=px, frame_interval=dt)
        ft = None if args.no_frames else frames_table(res, tracks=g, pixel_size=px, frame_interval=dt)
        if andi:
            for t in (st, ft):
                if t is not None:
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
    if args.plots:
        from ..plots import save_run_plots

        save_run_plots(stage / "plots", groups, all_results, args.max_plots, px)
    return skipped


def _specialised(pred, groups, first, args, progress: bool) -> list:
    """Second pass with a copy of the network fine-tuned per experiment (see andimamba.specialise)."""
    from ..predict import Predictor
    from ..specialise import SpecialiseConfig, specialise

    cfg = SpecialiseConfig(**({"steps": args.specialise_steps} if args.specialise_steps else {}))
    by_exp: dict = {}
    for i, g in enumerate(groups):
        by_exp.setdefault(g.experiment, []).append(i)
    out = list(first)
    for e, idx in by_exp.items():
        full = [r for i in idx for r in first[i] if r.regime == "full"]  # short tracks say nothing of change points
        if not full:
            continue
        model = specialise(pred.model, full, cfg, progress=progress, desc="specialise" + (f" exp {e}" if e is not None else ""))
        second = Predictor(model, segmenter=pred.segmenter, window=pred.window, batch_size=pred.batch_size, name=pred.name,
                           loc_noise=pred.loc_noise)
        for i in idx:
            out[i] = second.predict(groups[i], tta=args.tta, progress=False)
    return out


def run(args: argparse.Namespace) -> int:
    from .. import __version__
    from ..io.outdir import staged_output
    from ..predict import load_predictor
    from ..threads import set_threads

    t0 = time.perf_counter()
    check_args(args)
    with staged_output(args.out, overwrite=args.overwrite, owned=OUTPUTS) as stage:  # --out checked before any work
        set_threads(args.threads or None)
        pred = load_predictor(args.model, window=args.window or None, batch_size=args.batch_size, loc_noise=args.loc_noise)
        progress = not args.no_progress
        groups, andi = _read(args)  # errors here leave nothing behind
        px = args.pixel_size or groups[0].pixel_size
        dt = args.frame_interval or groups[0].frame_interval
        all_results = [pred.predict(g, tta=args.tta, progress=progress, desc=f"exp {g.experiment} fov {g.fov}" if andi else "tracks")
                       for g in groups]
        if args.specialise:
            all_results = _specialised(pred, groups, all_results, args, progress)
        skipped = _write(stage, args, pred, groups, all_results, andi, px, dt)
        n_tracks = sum(len(r) for r in all_results)
        n_short = sum(r.regime == "short" for res in all_results for r in res)
        n_seg = sum(len(r.alphas) for res in all_results for r in res)
        record = {"andimamba": __version__, "input": str(args.input), "model": pred.name, "tta": bool(args.tta),
                  "specialise": bool(args.specialise),
                  "pixel_size_um": px, "frame_interval_s": dt, "tracks": n_tracks, "tracks_full": n_tracks - n_short, "tracks_short": n_short, "segments": n_seg,
                  "skipped_short": len(skipped), "min_length": args.min_length,
                  "split_at_gaps": sum(g.n_split for g in groups), "branched_cut": sum(g.n_branched for g in groups),
                  "unlinked_spots": sum(g.n_unlinked_spots for g in groups), "argv": sys.argv[1:]}
        (stage / RUN_FILE).write_text(json.dumps(record, indent=1) + "\n")
    dt_s = time.perf_counter() - t0
    regimes = f" ({n_tracks - n_short} full with change points, {n_short} short)" if n_short else ""
    print(f"{n_tracks} tracks{regimes}, {n_seg} segments, model {pred.name}{' +TTA' if args.tta else ''}{' +specialised' if args.specialise else ''}: wrote {args.out} in {dt_s:.1f} s")
    if not andi:
        print(f"read {args.input}: {groups[0].summary()}", file=sys.stderr)
    if args.min_length < SHORT_MIN_LENGTH and n_short:
        print(f"warning: tracks of {args.min_length}-{SHORT_MIN_LENGTH - 1} frames are below the validated minimum of {SHORT_MIN_LENGTH} "
              "(docs/short_tracks.md gives the error by length)", file=sys.stderr)
    if skipped:
        print(f"skipped {len(skipped)} track(s) shorter than {args.min_length} frames (listed in {args.out / 'skipped_tracks.csv'})", file=sys.stderr)
    return 0
