"""``andimamba average RUN_A RUN_B ... --out DIR``: one network from the weighted mean of several checkpoints."""

from __future__ import annotations

import argparse
from pathlib import Path

from .args import add_out, add_overwrite


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``average`` subcommand."""
    p = subparsers.add_parser(
        "average",
        help="average the weights of checkpoints fine-tuned from one ancestor (a 'model soup')",
        description="Write a checkpoint whose parameters are the weighted mean of the given ones (same architecture, "
        "features and window), for runs continued from a common ancestor with --init-from. Its segmenter is untuned: "
        "run 'andimamba tune-segmenter' on it, then benchmark it like any other weights.",
    )
    p.add_argument("models", nargs="+", help="run folders or shipped model names (at least two)")
    add_out(p, "checkpoint folder to write")
    p.add_argument("--weights", type=float, nargs="+", help="one non-negative weight per model (default: equal)")
    add_overwrite(p, "replace the checkpoint in an existing --out")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Entry point of ``andimamba average``."""
    from andimamba.train.average import average_checkpoints

    out = average_checkpoints(args.models, args.out, args.weights, overwrite=args.overwrite)
    print(f"wrote {out} (mean of {len(args.models)} checkpoints); next: andimamba tune-segmenter {out}")
    return 0
