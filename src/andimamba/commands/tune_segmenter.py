"""``andimamba tune-segmenter``: choose the per-frame → segments parameters of a trained model."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("tune-segmenter", help="tune change-point threshold etc. of a trained model on held-out simulations",
                       description="Rank segmenter settings by the mean rank of the five official metrics on a held-out simulated set "
                       "and record the best in MODEL_DIR/config.json (used by predict), with the errors of its segment alpha and K by "
                       "segment length on the same set (used by predict's per-experiment pooling of states and alpha). Candidates are scored on "
                       "their segments pooled per experiment, as predict answers (--no-pool: each segment from its own track).")
    p.add_argument("model_dir", type=Path)
    p.add_argument("--n-fovs", type=int, default=4, help="FOVs per tuning experiment (19 experiments: 10 from the challenge and broad priors, the 9 of the organisers' recipe)")
    p.add_argument("--seed", type=int, default=777)
    p.add_argument("--no-pool", action="store_true", help="score each candidate's segments from their own tracks only")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..tuning import tune_segmenter

    best, table = tune_segmenter(args.model_dir, n_fovs=args.n_fovs, seed=args.seed, pooled=not args.no_pool)
    print(table.head(8).to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"\nbest: {best} -> {args.model_dir / 'config.json'}")
    from ..checkpoint import load_checkpoint

    pc = load_checkpoint(args.model_dir).pooling
    print("segment errors by length (frames from): " + ", ".join(
        f"{e}: alpha {a:.3f} log10K {k:.3f}" for e, a, k in zip(pc.length_edges, pc.alpha_sd, pc.log10K_sd)))
    return 0
