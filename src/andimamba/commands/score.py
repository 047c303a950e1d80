"""``andimamba score``: official AnDi-2 metrics of a submission folder against a reference folder."""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser(
        "score",
        help="score a submission folder with the official AnDi-2 metrics",
        description="Print the five single-trajectory metrics (CP RMSE with its JSC, alpha MAE, K MSLE, state F1) per experiment "
        "and overall (weighted by tracks), and the ensemble metrics, exactly as andi-datasets' scorer computes them.",
    )
    p.add_argument("pred_dir", type=Path, help="submission root (holds track_2/exp_E/fov_J.txt)")
    p.add_argument("ref_dir", type=Path, help="reference root (holds track_2/exp_E/traj_labs_fov_J.txt)")
    p.add_argument("--track", type=int, default=2, choices=(1, 2))
    p.add_argument("--csv", type=Path, help="also write the per-experiment table to this CSV")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..andi2 import track_dir
    from ..errors import InputNotFoundError
    from ..io.atomic import atomic_open
    from ..metrics import score_directory

    for d, what in ((args.pred_dir, "submission"), (args.ref_dir, "reference")):
        if not track_dir(d, args.track).is_dir():
            raise InputNotFoundError(f"{d}: no track_{args.track}/ folder — give the {what} root that contains "
                                     f"track_{args.track}/exp_*/")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        per_exp, overall, ens = score_directory(args.pred_dir, args.ref_dir, track=args.track)
    for w in caught:
        print(f"warning: {w.message}")
    merged = per_exp.merge(ens, on="exp", how="left") if len(ens) and "exp" in ens else per_exp
    print(merged.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print()
    print(f"overall ({overall['n_tracks']} tracks): CP RMSE {overall['rmse_cp']:.3f} (JSC {overall['jsc_cp']:.3f}) | "
          f"alpha MAE {overall['alpha_mae']:.4f} | K MSLE {overall['K_msle']:.4f} | state F1 {overall['state_f1']:.4f} | "
          f"ensemble W1 alpha {overall['ensemble_alpha']:.4f}, K {overall['ensemble_K']:.4f}")
    if args.csv:
        with atomic_open(args.csv) as f:
            merged.to_csv(f, index=False)
    return 0
