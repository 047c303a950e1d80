"""``andimamba simulate``: one experiment of an AnDi-2 model in the official layout."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ..errors import UserError
from .args import add_out, add_overwrite, add_progress
from ..sim.params import MODELS, ExperimentParams, challenge_params


def register(sub) -> None:
    p = sub.add_parser(
        "simulate",
        help="simulate one experiment through the AnDi-2 challenge pipeline",
        description="Simulate one experiment (n FOVs) of an AnDi-2 phenomenological model through the challenge pipeline "
        "and write it in the official layout OUT/track_2/exp_E/{trajs_fov_J.csv, traj_labs_fov_J.txt, ensemble_labels.txt}.",
    )
    p.add_argument("--model", required=True, choices=MODELS)
    p.add_argument("--n-fovs", type=int, default=10, help="fields of view (each an independent box), default 10")
    p.add_argument("--seed", type=int, default=0)
    add_out(p, "output root folder")
    p.add_argument("--exp-index", type=int, default=0, help="experiment number E in exp_E (default 0)")
    p.add_argument("--workers", type=int, default=1, help="processes (output identical for any value)")
    p.add_argument("--params", type=Path, help="JSON file overriding experiment parameters (keys of ExperimentParams, e.g. "
                   '{"alphas": [[0.5, 0.01]], "Ks": [[0.1, 0.0001]], "N": 100})')
    p.add_argument("--N", type=int, help="particles per FOV box (default 50)")
    p.add_argument("--T", type=int, help="frames simulated (default 200)")
    add_overwrite(p, "replace an existing exp_E folder")
    add_progress(p)
    p.set_defaults(func=run)


def _params(args) -> ExperimentParams:
    from ..sim.experiment import experiment_streams

    param_ss, _ = experiment_streams(args.seed, 1)
    base = challenge_params(args.model, np.random.default_rng(param_ss)).to_dict()
    if args.params is not None:
        try:
            over = json.loads(args.params.read_text())
        except json.JSONDecodeError as exc:
            raise UserError(f"{args.params}: not valid JSON ({exc.msg} at line {exc.lineno}); fix the file") from None
        if not isinstance(over, dict):
            raise UserError(f"{args.params}: expected a JSON object of parameter names to values")
        unknown = sorted(set(over) - set(base))
        if unknown:
            raise UserError(f"{args.params}: unknown parameter(s) {', '.join(unknown)}; allowed: {', '.join(sorted(base))}")
        if over.get("model", args.model) != args.model:
            raise UserError(f"{args.params}: model {over['model']!r} contradicts --model {args.model}")
        base.update(over)
    if args.N is not None:
        base["N"] = args.N
    if args.T is not None:
        base["T"] = args.T
    return ExperimentParams(**base)


def run(args: argparse.Namespace) -> int:
    from ..andi2 import exp_dir
    from ..sim.experiment import simulate_experiment
    from ..sim.layout import write_experiment

    params = _params(args)
    if args.n_fovs < 1:
        raise UserError(f"invalid parameter --n-fovs={args.n_fovs}: allowed an integer >= 1")
    if args.workers < 1:
        raise UserError(f"invalid parameter --workers={args.workers}: allowed an integer >= 1")
    final = exp_dir(args.out, args.exp_index)
    if final.exists() and not args.overwrite:
        raise UserError(f"{final} already exists: choose another --out or --exp-index, or pass --overwrite")
    from ..io.outdir import check_target

    check_target(final, overwrite=True)  # an unusable --out is found before simulating, not after
    params, fovs = simulate_experiment(n_fovs=args.n_fovs, seed=args.seed, params=params, workers=args.workers, progress=not args.no_progress)
    path = write_experiment(args.out, args.exp_index, params, fovs, overwrite=args.overwrite)
    n = sum(len(f.tracks) for f in fovs)
    print(f"wrote {n} tracks in {len(fovs)} FOVs of {params.model} to {path}")
    return 0
