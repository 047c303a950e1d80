"""AnDi-2-benchmark-style evaluation: nine experiments x 30 FOVs, scored with the official metrics.

Builds (with our simulator, and with andi-datasets' generator when the extra is installed and
``--andi-fovs`` > 0) a challenge-style reference set modelled on the AnDi-2 benchmark, runs
``andimamba predict`` logic with each model, and prints the five single-trajectory metrics (JSC
next to every CP RMSE) per experiment and overall, plus the ensemble distances.

Usage: ``python benchmarks/andi2_benchmark.py --out /tmp/andi2bench [--models bimamba bilstm classical] [--andi-fovs 5]``
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import time
from pathlib import Path

import numpy as np

from andimamba.sim.experiment import simulate_experiment
from andimamba.sim.layout import write_experiment
from andimamba.sim.params import CHALLENGE_L, ExperimentParams

SEED = 2024


def experiments() -> list[tuple[str, ExperimentParams]]:
    """The nine experiments (description, parameters)."""
    L = CHALLENGE_L
    v = 0.01  # α variance; K variances are 1 % of the mean
    two = lambda a1, k1, a2, k2: dict(alphas=[[a1, v], [a2, v]], Ks=[[k1, 0.01 * k1], [k2, 0.01 * k2]])  # noqa: E731
    return [
        ("3-state multi-state, alpha = K in {0.15, 0.55, 0.95}",
         ExperimentParams(model="multi_state", alphas=[[0.15, v], [0.55, v], [0.95, v]], Ks=[[0.15, 0.0015], [0.55, 0.0055], [0.95, 0.0095]],
                          M=[[0.98, 0.01, 0.01], [0.01, 0.98, 0.01], [0.01, 0.01, 0.98]], L=L)),
        ("dense dimerization, very slow dimer", ExperimentParams(model="dimerization", **two(1.0, 1.0, 0.8, 0.005), N=250, r=0.6, Pu=0.01, Pb=1.0, L=L)),
        ("quenched traps, long residence", ExperimentParams(model="immobile_traps", alphas=[[0.9, v]], Ks=[[1.0, 0.01]], Nt=300, r=0.5, Pu=0.002, Pb=1.0, L=L)),
        ("transient confinement, small compartments, alpha 0.2 inside", ExperimentParams(model="confinement", **two(1.0, 1.0, 0.2, 0.1), r=2.5, Nc=60, trans=0.1, L=L)),
        ("dense dimerization sharing those two states", ExperimentParams(model="dimerization", **two(1.0, 1.0, 0.2, 0.1), N=250, r=0.6, Pu=0.01, Pb=1.0, L=L)),
        ("dimerization, (0.7, 0.1)/(1.2, 1.0)", ExperimentParams(model="dimerization", **two(1.2, 1.0, 0.7, 0.1), N=150, r=0.6, Pu=0.01, Pb=1.0, L=L)),
        ("multi-state, (0.7, 0.1)/(1.2, 1.0)", ExperimentParams(model="multi_state", **two(1.2, 1.0, 0.7, 0.1), M=[[0.99, 0.01], [0.01, 0.99]], L=L)),
        ("single state, broad alpha and K", ExperimentParams(model="single_state", alphas=[[1.0, 0.2]], Ks=[[1.0, 0.5]], L=L)),
        ("fast trapping, superdiffusive free state alpha 1.99", ExperimentParams(model="immobile_traps", alphas=[[1.99, 0.0001]], Ks=[[1.0, 0.01]], Nt=300, r=0.5, Pu=0.1, Pb=1.0, L=L)),
    ]


def build_reference(root: Path, n_fovs: int, generator: str) -> None:
    for e, (_, p) in enumerate(experiments()):
        if generator == "ours":
            _, fovs = simulate_experiment(params=p, n_fovs=n_fovs, seed=SEED + e, progress=False)
        else:
            from andimamba.sim.reference import andi_challenge_fovs

            fovs, _, ens = andi_challenge_fovs(p, n_fovs, seed=SEED + e)
            mat = ens[0].copy()  # (5, k); weights: andi's per-FOV counts summed and normalised
            mat[-1] = 1.0 if mat.shape[1] == 1 else ens[:, -1].sum(0) / ens[:, -1].sum()
            write_experiment(root, e, p, fovs, overwrite=True, ensemble=mat)
            continue
        write_experiment(root, e, p, fovs, overwrite=True)


def run_model(model: str, ref: Path, out: Path, tta: bool) -> float:
    from andimamba.cli import main

    if out.exists():
        shutil.rmtree(out)
    t = time.perf_counter()
    args = ["predict", str(ref), "--out", str(out), "--model", model, "--no-progress"] + (["--tta"] if tta else [])
    assert main(args) == 0
    return time.perf_counter() - t


def score(pred: Path, ref: Path):
    from andimamba.metrics import score_directory

    return score_directory(pred, ref)


def table(name: str, per_exp, overall, ens, descs) -> str:
    rows = [f"\n**{name}**\n", "| exp | description | tracks | CP RMSE (JSC) | α MAE | K MSLE | state F1 | ens. W1 α | ens. W1 K |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    ens = ens.set_index("exp") if "exp" in ens else ens
    for _, r in per_exp.iterrows():
        e = int(r.exp)
        ea = ens.loc[e, "alpha_w1"] if e in ens.index else np.nan
        ek = ens.loc[e, "K_w1"] if e in ens.index else np.nan
        rows.append(f"| {e} | {descs[e]} | {int(r.n_tracks)} | {r.rmse_cp:.2f} ({r.jsc_cp:.2f}) | {r.alpha_mae:.3f} | {r.K_msle:.4f} | {r.state_f1:.3f} | {ea:.3f} | {ek:.3f} |")
    o = overall
    rows.append(f"| all | weighted by tracks | {o['n_tracks']} | {o['rmse_cp']:.2f} ({o['jsc_cp']:.2f}) | {o['alpha_mae']:.3f} | {o['K_msle']:.4f} | {o['state_f1']:.3f} | {o['ensemble_alpha']:.3f} | {o['ensemble_K']:.3f} |")
    return "\n".join(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=Path("/tmp/andi2bench"))
    ap.add_argument("--fovs", type=int, default=30)
    ap.add_argument("--andi-fovs", type=int, default=0, help="FOVs per experiment generated with andi-datasets (0: skip)")
    ap.add_argument("--models", nargs="+", default=["bimamba", "bilstm", "classical"])
    ap.add_argument("--tta", action="store_true")
    ap.add_argument("--rescore", action="store_true", help="score existing prediction folders without predicting again")
    ap.add_argument("--sets", nargs="+", default=["ours", "andi"], help="which reference sets to evaluate")
    a = ap.parse_args()
    import torch

    print(f"machine: {platform.machine()} {platform.processor()} | cpus {os.cpu_count()} | torch {torch.__version__}")
    descs = [d for d, _ in experiments()]
    sets = [("ours", a.fovs)] + ([("andi", a.andi_fovs)] if a.andi_fovs > 0 else [])
    sets = [s for s in sets if s[0] in a.sets]
    for gen, nf in sets:
        ref = a.out / f"ref_{gen}"
        if not ref.exists():
            t = time.perf_counter()
            build_reference(ref, nf, gen)
            print(f"reference set ({gen} generator, {nf} FOVs/experiment) built in {time.perf_counter() - t:.0f} s")
        for m in a.models:
            pred = a.out / f"pred_{gen}_{m}"
            secs = float("nan") if a.rescore and pred.exists() else run_model(m, ref, pred, a.tta)
            per_exp, overall, ens = score(pred, ref)
            print(table(f"{m} on the {gen}-generated set ({overall['n_tracks']} tracks, predicted in {secs:.0f} s)", per_exp, overall, ens, descs), flush=True)


if __name__ == "__main__":
    main()
