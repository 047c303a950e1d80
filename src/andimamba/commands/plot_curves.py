"""``andimamba plot-curves RUN_A RUN_B ... --out fig.png``: validation curves of training runs (paper Fig. 3)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .args import add_out


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``plot-curves`` subcommand."""
    p = subparsers.add_parser(
        "plot-curves",
        help="plot validation α MAE, K MSLE and WCE against the epoch for training runs",
        description="One panel per quantity, one line per run, labelled by the run's architecture.",
    )
    p.add_argument("runs", nargs="+", type=Path, help="run directories written by 'andimamba train'")
    add_out(p, "image file to write (.png, .pdf, .svg)")
    p.add_argument("--labels", help="comma-separated line labels (default: the architecture of each run)")
    p.add_argument("--dpi", type=int, default=150)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Entry point of ``andimamba plot-curves``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from andimamba.plots_training import plot_training_curves

    labels = [s.strip() for s in args.labels.split(",")] if args.labels else None
    axes = plot_training_curves(args.runs, labels=labels)
    axes[0].figure.savefig(args.out, dpi=args.dpi)
    plt.close(axes[0].figure)
    return 0
