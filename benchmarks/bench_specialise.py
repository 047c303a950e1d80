"""Gain of ``andimamba predict --specialise`` per experiment, on the AnDi-2 benchmark's experiments.

Builds the benchmark's experiments (``andi2_benchmark.experiments()``, our simulator, its seeds),
predicts the folder with and without specialisation (``andimamba predict --specialise`` through
the library: :func:`andimamba.pipeline.predict_folder`; same model, same tracks), scores both with the official single-trajectory metrics, and prints the per-experiment
and overall tables side by side, with the wall time of each pass.

Usage: ``python benchmarks/bench_specialise.py [--fovs 30] [--model bimamba] [--steps 120] [--experiments 0 3 8]``
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def main() -> None:
    import andi2_benchmark as bench

    from andimamba.metrics import score_directory
    from andimamba.pipeline import _pooled, predict_folder
    from andimamba.predict import load_predictor
    from andimamba.sim.experiment import simulate_experiment
    from andimamba.sim.layout import write_experiment
    from andimamba.threads import set_threads

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--fovs", type=int, default=30)
    ap.add_argument("--model", default="bimamba")
    ap.add_argument("--steps", type=int, default=None, help="fine-tuning steps per experiment (default: SpecialiseConfig's)")
    ap.add_argument("--experiments", type=int, nargs="*", help="indices into the benchmark's list (default all)")
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    exps = bench.experiments()
    chosen = a.experiments if a.experiments else list(range(len(exps)))
    tmp = Path(tempfile.mkdtemp())
    ref = tmp / "ref"
    for e in chosen:
        _, p = exps[e]
        _, fovs = simulate_experiment(params=p, n_fovs=a.fovs, seed=bench.SEED + e, progress=False)
        write_experiment(ref, e, p, fovs)
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), platform.processor())
    print(f"machine: {cpu} | cpus {os.cpu_count()} | model {a.model} | {a.fovs} FOVs per experiment | steps {a.steps or 'default'}")
    scores, times = {}, {}
    set_threads(a.threads or None)
    loaded = load_predictor(a.model)
    pooling = loaded.pooling
    for tag, spec in (("plain", False), ("specialised", True)):
        t = time.perf_counter()
        run = predict_folder(ref, model=a.model, specialise=spec, specialise_steps=a.steps if spec else None, pool=False)
        times[tag] = time.perf_counter() - t
        run.write(tmp / tag, frames=False)
        scores[tag] = score_directory(tmp / tag, ref)
        if pooling is not None:  # the same passes pooled per experiment (states, then α), as predict does by default
            results, fits, states_only = _pooled(run.groups, run.results, pooling, loaded.segmenter)
            pooled = dataclasses.replace(run, results=results, pooled=fits, alpha_unpooled=states_only)
            pooled.write(tmp / f"{tag}_pooled", frames=False)
            scores[f"{tag}_pooled"] = score_directory(tmp / f"{tag}_pooled", ref)
    keys = ["alpha_mae", "K_msle", "state_f1", "rmse_cp", "jsc_cp", "ensemble_alpha", "ensemble_K"]
    print(f"\nwall time: plain {times['plain']:.0f} s, specialised {times['specialised']:.0f} s\n")
    pairs = [("plain", "specialised", "α not pooled")] + ([("plain_pooled", "specialised_pooled", "α pooled per experiment")] if pooling else [])
    for p_tag, s_tag, title in pairs:
        print(f"\n{title}:\n")
        print("| experiment | " + " | ".join(f"{k} plain | {k} spec." for k in keys) + " |")
        print("|---|" + "---:|" * (2 * len(keys)))
        for name, vals in _rows({"plain": scores[p_tag], "specialised": scores[s_tag]}, keys):
            print(f"| {name} | " + " | ".join(f"{p:.4g} | {s:.4g}" for p, s in vals) + " |")
    shutil.rmtree(tmp, ignore_errors=True)


def _rows(scores: dict, keys: list[str]):
    """(row name, [(plain, specialised) per key]) from two score_directory results."""
    (pe_p, ov_p, en_p), (pe_s, ov_s, en_s) = scores["plain"], scores["specialised"]
    out = []
    for i, e in enumerate(pe_p["exp"]):
        vals = []
        for k in keys:
            if k.startswith("ensemble"):
                col = {"ensemble_alpha": "alpha_w1", "ensemble_K": "K_w1"}[k]
                vals.append((float(en_p[col].iloc[i]), float(en_s[col].iloc[i])))
            else:
                vals.append((float(pe_p[k].iloc[i]), float(pe_s[k].iloc[i])))
        out.append((f"exp {int(e)}", vals))
    out.append(("overall", [(ov_p[k], ov_s[k]) for k in keys]))
    return out


if __name__ == "__main__":
    main()
