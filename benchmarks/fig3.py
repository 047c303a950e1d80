"""Paper Fig. 3 for the shipped pair over all its training phases: the phases' metrics.csv, kept in
``docs/metrics_{bimamba,bilstm}.csv`` (one row per epoch, with its ``phase`` and ``prior``), numbered through and drawn
with ``andimamba plot-curves`` (:func:`andimamba.plots_training.plot_training_curves`) from temporary run folders.

Usage: ``python benchmarks/fig3.py [--out docs/fig3_training_curves.png]``
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pandas as pd

from andimamba.cli import main as cli

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "fig3_training_curves.png")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs = []
        for arch in ("bimamba", "bilstm"):
            run = Path(tmp) / arch
            run.mkdir()
            m = pd.read_csv(ROOT / "docs" / f"metrics_{arch}.csv")
            print(f"{arch}: {len(m)} epochs in phases {sorted(m.phase.unique())} ({', '.join(m.drop_duplicates('phase').prior)})")
            m.assign(epoch=range(1, len(m) + 1)).drop(columns=["phase", "prior"]).to_csv(run / "metrics.csv", index=False)
            (run / "config.json").write_text((ROOT / "src" / "andimamba" / "weights" / arch / "config.json").read_text())
            runs.append(str(run))
        cli(["plot-curves", *runs, "--out", str(a.out)])


if __name__ == "__main__":
    main()
