"""Training curves (paper Fig. 3): validation α MAE, K MSLE and state WCE against the epoch.

Reads run directories written by :func:`andimamba.train.train` (``metrics.csv`` and ``config.json``).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Sequence

import numpy as np

from .errors import InputNotFoundError, UserError

__all__ = ["PANELS", "read_metrics", "run_label", "plot_training_curves"]

# metrics.csv column -> panel title
PANELS = {"val_alpha_mae": "α MAE", "val_K_msle": "K MSLE", "val_wce": "state WCE"}


def read_metrics(run_dir: str | Path) -> dict[str, np.ndarray]:
    """Columns of ``RUN/metrics.csv`` as float arrays (empty arrays for a run with no completed epoch)."""
    path = Path(run_dir) / "metrics.csv"
    if not path.is_file():
        raise InputNotFoundError(f"{path} not found: {run_dir} is not a training run folder (give the --out of `andimamba train`)")
    with open(path, newline="") as f:
        header, *rows = list(csv.reader(f))
    return {c: np.array([float(r[i]) for r in rows]) for i, c in enumerate(header)}


def run_label(run_dir: str | Path) -> str:
    """The run's architecture from ``config.json`` (``"bimamba"``, ``"bilstm"``), else the directory name."""
    try:
        with open(Path(run_dir) / "config.json") as f:
            return str(json.load(f)["model"]["arch"])
    except (OSError, KeyError, ValueError):
        return Path(run_dir).name


def plot_training_curves(runs: Sequence[str | Path], axes: Sequence | None = None, labels: Sequence[str] | None = None):
    """Plot validation α MAE, K MSLE and WCE against the epoch, one panel each, one line per run.

    Parameters
    ----------
    runs : sequence of str or Path
        Run directories holding ``metrics.csv`` (and ``config.json`` for the labels).
    axes : sequence of 3 matplotlib Axes, optional
        Where to draw; a new 1×3 figure if None.
    labels : sequence of str, optional
        Line labels; default the architecture from each run's config, with the directory name appended
        when two runs share an architecture.

    Returns
    -------
    ndarray of matplotlib.axes.Axes, shape (3,)
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    if not runs:
        raise UserError("give at least one run directory")
    if axes is None:
        _, axes = plt.subplots(1, len(PANELS), figsize=(4 * len(PANELS), 3.2), constrained_layout=True)
    axes = np.asarray(axes).ravel()
    if axes.size != len(PANELS):
        raise ValueError(f"axes must hold {len(PANELS)} Axes, got {axes.size}")
    if labels is None:
        base = [run_label(r) for r in runs]
        labels = [f"{b} ({Path(r).name})" if base.count(b) > 1 else b for b, r in zip(base, runs)]
    if len(labels) != len(runs):
        raise UserError(f"{len(labels)} labels for {len(runs)} runs: give one label per run")
    for run, label in zip(runs, labels):
        m = read_metrics(run)
        for ax, col in zip(axes, PANELS):
            ax.plot(m["epoch"], m[col], marker="o", ms=3, label=label)
    for ax, (col, title) in zip(axes, PANELS.items()):
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(f"validation {title}")
        ax.set_title(title)
        ax.grid(alpha=0.3)
    axes[0].legend(frameon=False)
    return axes
