"""``andimamba predict``: segments, tables, plots and AnDi-2 submission files for user tracks."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ..errors import UserError
from ..short_tracks import SHORT_MAX_LENGTH, SHORT_MIN_LENGTH
from .args import add_model, add_out, add_overwrite, add_progress, add_threads, check_exists, check_number

RUN_FILE = "run.json"  # what was read and done; beside the files of andimamba.pipeline.RUN_OUTPUTS
# --format values as the help lists them (tests/test_cli_predict.py checks that read_tracks accepts each)
FORMAT_NAMES = ("auto", "andi", "tidy", "trackpy", "trackmate_spots", "trackmate_csv", "trackmate_xml", "trackmate_tracks")


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
    add_out(p, "output folder (created; must be empty unless --overwrite)")
    add_model(p)
    p.add_argument("--format", default="auto", help="input format (auto, andi, tidy (alias trackpy), trackmate_spots (alias "
                   "trackmate_csv), trackmate_xml, trackmate_tracks); auto recognises the track/frame/x/y columns of trackpy, quot, saspt, Spot-On, MOSAIC, "
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
                   "re-estimate alpha, K and states of the first pass's segments, its change points kept (seeded; about "
                   "half a minute per experiment on one core)")
    p.add_argument("--no-pool", action="store_true", help="each segment's state and alpha from its own track only (default: "
                   "pooled per experiment - each exp_* of an AnDi-2 folder, or the whole file - each segment's state decided "
                   "with the state mix of its population of similar segments, and the network's alpha of a short segment moved "
                   "toward its experiment's population by how uncertain it is; docs/results.md)")
    p.add_argument("--specialise-steps", type=int, default=None, help="fine-tuning steps per experiment (default 120)")
    p.add_argument("--plots", action="store_true", help="write PNG plots (alpha-log K map of all segments, one per "
                   "experiment in folder mode, and the first --max-plots tracks)")
    p.add_argument("--no-frames", action="store_true", help="skip the per-frame table frames.csv (its writing dominates run time on large inputs)")
    p.add_argument("--max-plots", type=int, default=20, help="tracks plotted individually (default 20)")
    p.add_argument("--window", type=int, default=None, help="tracks longer than this run in half-overlapping windows of this "
                   "length (default: the model's training length, 200 frames for the shipped models; 0: whole tracks)")
    p.add_argument("--batch-size", type=int, default=512, help="tracks per forward pass (default 512)")
    add_threads(p)
    add_overwrite(p, "replace the previous run in --out (the whole folder is replaced)")
    add_progress(p)
    p.set_defaults(func=run)


def check_args(args: argparse.Namespace) -> None:
    """Every option checked before any work is done (one-line errors naming the flag)."""
    check_exists(args.input)
    for flag in ("pixel_size", "frame_interval"):
        if getattr(args, flag) is not None:
            check_number("--" + flag.replace("_", "-"), getattr(args, flag))
    check_number("--batch-size", args.batch_size, integer=True)
    check_number("--threads", args.threads, integer=True, zero_ok=True)
    check_number("--max-plots", args.max_plots, integer=True, zero_ok=True)
    if args.min_length < 3:
        raise UserError(f"--min-length {args.min_length}: must be at least 3 frames ({SHORT_MIN_LENGTH} or more is validated)")
    if args.loc_noise is not None:
        check_number("--loc-noise", args.loc_noise)
    if args.window is not None and args.window != 0 and args.window < 20:
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
        check_number("--specialise-steps", args.specialise_steps, integer=True)
        if not args.specialise:
            raise UserError("--specialise-steps needs --specialise")


def _read(args):
    from ..io import read_andi_folder, read_tracks

    if args.input.is_dir():  # read_andi_folder knows the layouts and says what a folder lacks
        return read_andi_folder(args.input, min_length=args.min_length), True
    return [read_tracks(args.input, format=args.format, pixel_size=args.pixel_size, frame_interval=args.frame_interval,
                        columns=args.columns, units=args.units, min_length=args.min_length)], False


def run(args: argparse.Namespace) -> int:
    from ..io.atomic import atomic_write_text
    from ..io.outdir import staged_output
    from ..pipeline import RUN_OUTPUTS, as_predictor, run_predictor
    from ..threads import set_threads

    t0 = time.perf_counter()
    check_args(args)
    with staged_output(args.out, overwrite=args.overwrite, owned=RUN_OUTPUTS + (RUN_FILE,)) as stage:  # --out checked before any work
        set_threads(args.threads or None)
        window = "model" if args.window is None else args.window or None
        pred = as_predictor(args.model, window=window, batch_size=args.batch_size, loc_noise=args.loc_noise)  # + kernels preloading
        groups, andi = _read(args)  # errors here leave nothing behind
        run = run_predictor(groups, pred, tta=args.tta, specialise=args.specialise, specialise_steps=args.specialise_steps,
                            andi=andi, pixel_size=args.pixel_size, frame_interval=args.frame_interval,
                            progress=not args.no_progress, pool=not args.no_pool)
        run.write(stage, frames=not args.no_frames, plots=args.plots, max_plots=args.max_plots)
        record = {**run.record(), "input": str(args.input), "min_length": args.min_length, "argv": sys.argv[1:]}
        atomic_write_text(stage / RUN_FILE, json.dumps(record, indent=1) + "\n")
    dt_s = time.perf_counter() - t0
    n_tracks, n_short = run.n_tracks, run.n_short
    regimes = f" ({n_tracks - n_short} full with change points, {n_short} short)" if n_short else ""
    print(f"{n_tracks} tracks{regimes}, {run.n_segments} segments, model {pred.name}{' +TTA' if args.tta else ''}"
          f"{' +specialised' if args.specialise else ''}{' +pooled' if run.pooled else ''}: wrote {args.out} in {dt_s:.1f} s")
    if not andi:
        print(f"read {args.input}: {groups[0].summary()}", file=sys.stderr)
    if args.min_length < SHORT_MIN_LENGTH and n_short:
        print(f"warning: tracks of {args.min_length}-{SHORT_MIN_LENGTH - 1} frames are below the validated minimum of {SHORT_MIN_LENGTH} "
              "(docs/short_tracks.md gives the error by length)", file=sys.stderr)
    if run.skipped:
        print(f"skipped {len(run.skipped)} track(s) shorter than {args.min_length} frames (listed in {args.out / 'skipped_tracks.csv'})",
              file=sys.stderr)
    return 0
