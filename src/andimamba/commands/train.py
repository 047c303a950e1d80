"""``andimamba train``: train an AnDiNet on simulated tracks (or shards), resumable, DDP under torchrun.

Examples::

    andimamba train --arch bimamba --out runs/bimamba --config paper --epochs 20
    andimamba train --out runs/bimamba --resume                  # after a crash or a kill
    torchrun --nproc_per_node=2 -m andimamba.cli train --arch bilstm --out runs/bilstm
"""

from __future__ import annotations

import argparse
import logging
import math
import os

from andimamba.commands.args import add_out, add_progress, add_threads
from andimamba.errors import UserError

# CLI option -> TrainConfig field (for options that map one to one)
_FIELDS = {
    "epochs": "epochs", "steps_per_epoch": "steps_per_epoch", "batch_size": "batch_size", "lr": "lr",
    "n_val": "n_val", "seed": "seed", "val_seed": "val_seed", "prior": "prior", "shards": "shards",
    "threads": "num_threads", "device": "device", "checkpoint_every": "checkpoint_every", "log_every": "log_every",
    "grad_clip": "grad_clip", "init_from": "init_from", "lr_schedule": "lr_schedule", "sim_workers": "sim_workers",
    "max_minutes": "max_minutes",
}  # fmt: skip


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train`` subcommand."""
    p = subparsers.add_parser(
        "train",
        help="train a model (on-the-fly simulated data or shards)",
        description="Train an AnDiNet. Writes config.json, model.safetensors, metrics.csv and a resume "
        "checkpoint to --out. Options left out take the --config preset's (or, with --resume, the run's) values.",
    )
    add_out(p, "run directory (must be empty unless --resume)")
    p.add_argument("--arch", choices=("bimamba", "bilstm"), help="network blocks (default bimamba)")
    p.add_argument("--config", choices=("tiny", "paper"), help="model size preset (default paper)")
    p.add_argument("--d-model", type=int, help="width of the network (overrides the preset's; paper: 12)")
    p.add_argument("--seg-layers", type=int, help="blocks of the segmentation stage (overrides the preset's; paper: 2)")
    p.add_argument("--scan-impl", choices=("auto", "reference", "fused", "chunked"), help="Mamba selective-scan kernel")
    p.add_argument("--epochs", type=int)
    p.add_argument("--steps-per-epoch", type=int, help="optimizer steps per epoch (0 with --shards: one pass)")
    p.add_argument("--batch-size", type=int, help="tracks per step and per process")
    p.add_argument("--lr", type=float, help="Adam learning rate")
    p.add_argument("--n-val", type=int, help="tracks in the fixed validation set (default 10000)")
    p.add_argument("--seed", type=int, help="seed of the model init and the training data")
    p.add_argument("--val-seed", type=int, help="seed of the validation set")
    p.add_argument("--prior", choices=("broad", "broadk", "challenge", "wide", "widek", "widekfast"), help="experiment prior of the simulator (default broad; "
                   "broadk is broad with K spreads up to the benchmark's (relative variance 100); wide spans the organisers' benchmark families: fast switching and binding, dense dimers, broad spreads; widek is wide with broadk's K spreads; widekfast is widek with K means up to 20 px^2/frame^alpha instead of 5)")
    p.add_argument("--models", help="comma-separated AnDi-2 models to mix (default all five)")
    p.add_argument("--shards", help="directory of .npz shards to train on instead of simulating")
    add_threads(p, default=None, what="CPU threads per process (default: torch's)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), help="default auto (CUDA when available)")
    p.add_argument("--checkpoint-every", type=int, help="also checkpoint every N steps (default: each epoch)")
    p.add_argument("--log-every", type=int, help="steps between loss updates on the progress bar")
    p.add_argument("--grad-clip", type=float, help="max gradient norm (0: off)")
    p.add_argument("--init-from", help="shipped model name or run folder whose weights start this run "
                   "(same architecture; the optimizer and schedule start afresh)")
    p.add_argument("--lr-schedule", choices=("constant", "cosine"), help="learning rate over the run (default constant)")
    p.add_argument("--sim-workers", type=int, help="processes simulating the training data ahead of the training loop "
                   "(default 0: in the training process; use them to feed a GPU)")
    p.add_argument("--max-minutes", type=float, help="stop after this many minutes (the epoch in progress ends, is evaluated "
                   "and checkpointed; --resume continues)")
    p.add_argument("--cp-sigma", type=float, help="spread each change-point target over neighbouring frames, "
                   "exp(-d^2/2 sigma^2) (frames; default 0: the CP frame only)")
    p.add_argument("--cp-ignore", type=int, help="leave the frames within this many of a change point (not the "
                   "change point) out of the change-point loss (default 0)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    add_progress(p)
    p.set_defaults(func=run)


def build_config(args: argparse.Namespace):
    """The :class:`~andimamba.train.TrainConfig` described by the parsed arguments."""
    from andimamba.checkpoint import CONFIG
    from andimamba.nn.model import paper, tiny
    from andimamba.train import TrainConfig, read_train_config

    overrides = {f: getattr(args, a) for a, f in _FIELDS.items() if getattr(args, a) is not None}
    if args.models is not None:
        overrides["models"] = tuple(m.strip() for m in args.models.split(",") if m.strip())
    if args.resume:
        if not (args.out / CONFIG).is_file():
            raise UserError(f"--resume: {args.out} holds no run (no {CONFIG})")
        cfg = read_train_config(args.out, args.shards, args.init_from)  # folders: only where not recorded here
        model = cfg.model
        if args.config or args.arch:  # rebuilt only to be compared with the stored one by train()
            model = {"tiny": tiny, "paper": paper}[args.config or "paper"](args.arch or model.arch)
    else:
        cfg = TrainConfig()
        model = {"tiny": tiny, "paper": paper}[args.config or "paper"](args.arch or "bimamba")
    sizes = {k: getattr(args, k) for k in ("scan_impl", "d_model", "seg_layers") if getattr(args, k) is not None}
    if sizes:
        model = type(model).from_dict({**model.to_dict(), **sizes})
    d = {**cfg.to_dict(), **overrides, "model": model.to_dict()}
    if args.cp_sigma is not None:
        if not (args.cp_sigma >= 0 and math.isfinite(args.cp_sigma)):
            raise UserError(f"--cp-sigma must be a number >= 0 (frames), got {args.cp_sigma}")
        d["loss"] = {**d["loss"], "cp_sigma": args.cp_sigma}
    if args.cp_ignore is not None:
        if args.cp_ignore < 0:
            raise UserError(f"--cp-ignore must be a whole number of frames >= 0, got {args.cp_ignore}")
        d["loss"] = {**d["loss"], "cp_ignore": args.cp_ignore}
    return TrainConfig.from_dict(d)


def run(args: argparse.Namespace) -> int:
    """Entry point of ``andimamba train``."""
    from andimamba.train import train

    if int(os.environ.get("RANK", "0")) == 0:
        logging.basicConfig(level=logging.INFO, format="%(message)s")
    cfg = build_config(args)
    train(cfg, args.out, resume=args.resume, progress=not args.no_progress)
    return 0
