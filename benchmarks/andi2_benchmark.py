"""AnDi-2 benchmark evaluation: the organisers' nine benchmark experiments x 30 FOVs, scored with the official metrics.

Builds (with our simulator, and with andi-datasets' generator when the extra is installed and
``--andi-fovs`` > 0) the reference set of the published AnDi-2 benchmark (``--recipe published``,
the default: parameters of andi-datasets' tutorial ``challenge_two_benchmark.ipynb``, see
``andimamba.sim.recipes``) or our earlier nine hand-made experiments (``--recipe legacy``), runs
``andimamba predict`` with each model, and prints the five single-trajectory metrics (JSC next to
every CP RMSE) per experiment and overall, plus the ensemble distances.

Reference folders are built experiment by experiment (andi-datasets' FOVs one by one, each kept
as soon as it is made: an interrupted build resumes where it stopped) and carry ``benchmark.json`` (recipe, FOVs, seed, generator); a folder built with other
settings is refused rather than mixed. ``--build-only`` builds them and stops (then
``benchmark_stats.py`` describes them).

Usage: ``python benchmarks/andi2_benchmark.py --out /tmp/andi2bench [--recipe published|legacy] [--models bimamba bilstm classical] [--andi-fovs 5]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from andimamba import andi2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from andimamba.sim.recipes import RECIPES  # noqa: E402

from andimamba.sim.experiment import simulate_experiment  # noqa: E402
from andimamba.sim.layout import write_experiment  # noqa: E402

SEED = 2024  # the default realisation (every table in docs/results.md unless it says otherwise)


def experiments(recipe: str = "published"):
    """The nine experiments (description, parameters) of ``recipe``."""
    return RECIPES[recipe]()


def _marker(ref: Path, recipe: str, n_fovs: int, generator: str, seed: int = SEED) -> None:
    """Write, or check against, the settings a reference folder was built with."""
    want = {"recipe": recipe, "fovs_per_experiment": int(n_fovs), "generator": generator, "seed": int(seed)}
    f = ref / "benchmark.json"
    if f.exists():
        have = json.loads(f.read_text())
        if have != want:
            raise SystemExit(f"{ref} was built with {have}, not {want}: pass another --out (or delete {ref})")
    elif ref.exists() and any(ref.iterdir()):
        raise SystemExit(f"{ref} exists but has no benchmark.json (built by an older version of this script): pass another --out (or delete {ref})")
    else:
        ref.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps(want, indent=1) + "\n")


def andi_fovs(part: Path, p, n_fovs: int, seed: int):
    """andi-datasets' FOVs of one experiment, one generator call per FOV (seeded ``seed·1000 + j``),
    each kept in ``part`` as soon as it is made: andi's generator is slow (minutes per FOV for the
    dense dimerization experiments), so an interrupted build resumes at the next FOV."""
    import pickle

    from andimamba.sim.reference import andi_challenge_fovs

    part.mkdir(parents=True, exist_ok=True)
    fovs, ens = [], []
    for j in range(n_fovs):
        f = part / f"fov_{j}.pkl"
        if not f.exists():
            fj, _, ej = andi_challenge_fovs(p, 1, seed=seed * 1000 + j)
            tmp = f.with_suffix(".tmp")
            tmp.write_bytes(pickle.dumps((fj[0], ej[0])))
            tmp.rename(f)
        fov, en = pickle.loads(f.read_bytes())
        fovs.append(fov)
        ens.append(en)
    return fovs, np.stack(ens)


def build_reference(root: Path, n_fovs: int, generator: str, recipe: str = "published", seed: int = SEED) -> int:
    """Build the missing experiments of a reference folder (experiment e seeded ``seed + e``); returns how many were
    built."""
    built = 0
    for e, (_, p) in enumerate(experiments(recipe)):
        if (andi2.exp_dir(root, e) / "params.json").exists():
            continue
        t = time.perf_counter()
        if generator == "ours":
            _, fovs = simulate_experiment(params=p, n_fovs=n_fovs, seed=seed + e, progress=False)
            write_experiment(root, e, p, fovs, overwrite=True)
        else:
            fovs, ens = andi_fovs(root / ".partial" / f"exp_{e}", p, n_fovs, seed + e)
            mat = ens[0].copy()  # (5, k); weights: andi's per-FOV counts summed and normalised
            mat[-1] = 1.0 if mat.shape[1] == 1 else ens[:, -1].sum(0) / ens[:, -1].sum()
            write_experiment(root, e, p, fovs, overwrite=True, ensemble=mat)
            shutil.rmtree(root / ".partial" / f"exp_{e}")
        built += 1
        print(f"  exp_{e} ({generator}): {sum(len(f.tracks) for f in fovs)} tracks in {time.perf_counter() - t:.0f} s", flush=True)
    if (root / ".partial").is_dir() and not any((root / ".partial").iterdir()):
        (root / ".partial").rmdir()
    return built


def run_model(model: str, ref: Path, out: Path, tta: bool, threads: int = 0) -> float:
    """Predict the reference folder with the library (what ``andimamba predict --no-frames`` does) into ``out``;
    returns the wall time in seconds (model loading included)."""
    from andimamba.pipeline import predict_folder
    from andimamba.threads import set_threads

    if out.exists():
        shutil.rmtree(out)
    t = time.perf_counter()
    set_threads(threads or None)
    predict_folder(ref, model=model, tta=tta).write(out, frames=False)
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
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("/tmp/andi2bench"))
    ap.add_argument("--recipe", choices=sorted(RECIPES), default="published",
                    help="published: the organisers' AnDi-2 benchmark experiments (default); legacy: our earlier nine")
    ap.add_argument("--fovs", type=int, default=30)
    ap.add_argument("--andi-fovs", type=int, default=0, help="FOVs per experiment generated with andi-datasets (0: skip)")
    ap.add_argument("--models", nargs="+", default=["bimamba", "bilstm", "classical"])
    ap.add_argument("--tta", action="store_true")
    ap.add_argument("--threads", type=int, default=0, help="threads for predict (0: its default, the idle cores)")
    ap.add_argument("--rescore", action="store_true", help="score existing prediction folders without predicting again")
    ap.add_argument("--build-only", action="store_true", help="build the reference folders and stop")
    ap.add_argument("--sets", nargs="+", default=["ours", "andi"], help="which reference sets to evaluate")
    ap.add_argument("--seed", type=int, default=SEED, help=f"realisation: experiment e seeded seed + e (default {SEED}); "
                    "another seed gives an independent set (use another --out)")
    a = ap.parse_args()
    import torch

    from benchmark_stats import _cpu

    print(f"machine: {platform.machine()} {_cpu()} | cpus {os.cpu_count()} | torch {torch.__version__} | recipe {a.recipe} | seed {a.seed}")
    descs = [d for d, _ in experiments(a.recipe)]
    sets = [("ours", a.fovs)] + ([("andi", a.andi_fovs)] if a.andi_fovs > 0 else [])
    sets = [s for s in sets if s[0] in a.sets]
    for gen, nf in sets:
        ref = a.out / f"ref_{gen}"
        _marker(ref, a.recipe, nf, gen, a.seed)
        t = time.perf_counter()
        if build_reference(ref, nf, gen, a.recipe, a.seed):
            print(f"reference set ({gen} generator, {nf} FOVs/experiment) built in {time.perf_counter() - t:.0f} s")
        if a.build_only:
            continue
        for m in a.models:
            pred = a.out / f"pred_{gen}_{Path(m).name}"  # a run folder is named by its last part
            secs = float("nan") if a.rescore and pred.exists() else run_model(m, ref, pred, a.tta, a.threads)
            per_exp, overall, ens = score(pred, ref)
            print(table(f"{m} on the {gen}-generated set ({overall['n_tracks']} tracks, predicted in {secs:.0f} s)", per_exp, overall, ens, descs), flush=True)


if __name__ == "__main__":
    main()
