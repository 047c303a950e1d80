"""``andimamba make-shards``: stored training data (compact ``.npz`` shards)."""

from __future__ import annotations

import argparse
import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ..errors import UserError
from ..io.atomic import atomic_path, atomic_write_text
from ..sim.params import MODELS
from .args import add_out, add_progress


def register(sub) -> None:
    p = sub.add_parser(
        "make-shards",
        help="simulate training tracks into .npz shards",
        description="Simulate challenge-pipeline tracks from a mix of the AnDi-2 models into compact .npz shards "
        "(positions, lengths, per-frame alpha, K, state, cp) for `andimamba train --shards DIR`.",
    )
    add_out(p, "folder to write the shards into (must be new or empty)")
    p.add_argument("--n-shards", type=int, default=10)
    p.add_argument("--shard-size", type=int, default=4096, help="tracks per shard")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--prior", choices=("broad", "challenge"), default="broad")
    p.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    p.add_argument("--workers", type=int, default=1, help="processes (output identical for any value)")
    add_progress(p)
    p.set_defaults(func=run)


def _one(args) -> str:
    path, size, ss, prior, models = args
    from ..sim.dataset import TrainingStream, save_shard

    batch = next(TrainingStream(size, seed=ss, models=models, prior=prior))
    with atomic_path(path) as tmp:
        save_shard(batch, tmp)
    return path.name


def run(args: argparse.Namespace) -> int:
    if args.n_shards < 1 or args.shard_size < 1 or args.workers < 1:
        raise UserError("--n-shards, --shard-size and --workers must be integers >= 1")
    out = Path(args.out)
    if out.exists() and any(out.iterdir()):
        raise UserError(f"{out} is not empty: choose a new --out folder")
    out.mkdir(parents=True, exist_ok=True)
    streams = np.random.SeedSequence(args.seed).spawn(args.n_shards)
    jobs = [(out / f"shard_{i:05d}.npz", args.shard_size, ss, args.prior, args.models) for i, ss in enumerate(streams)]
    bar = dict(total=len(jobs), disable=args.no_progress, desc="shards", unit="shard")
    if args.workers == 1:
        for _ in tqdm(map(_one, jobs), **bar):
            pass
    else:
        with ProcessPoolExecutor(args.workers) as ex:
            for _ in tqdm(ex.map(_one, jobs), **bar):
                pass
    meta = dict(n_shards=args.n_shards, shard_size=args.shard_size, seed=args.seed, prior=args.prior, models=args.models)
    atomic_write_text(out / "shards.json", json.dumps(meta, indent=1) + "\n")
    print(f"wrote {args.n_shards} shards of {args.shard_size} tracks to {out}")
    return 0
