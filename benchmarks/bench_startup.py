"""Start-up and first-run costs of the command line, side by side in one run.

What a user waits for, each command run as a fresh process (wall time):

1. ``andimamba --help`` and ``andimamba simulate --help``, and which heavy modules each imports
   (torch, pandas, numba, scipy.special), read from ``python -X importtime``.
2. ``andimamba simulate --model M --n-fovs 1 --no-progress`` per model: first with an empty numba
   cache directory (``NUMBA_CACHE_DIR``: what the first run after a fresh install pays, numba compiling
   the simulator's kernels), then again with that cache (every later run).
3. ``andimamba simulate --model M --n-fovs 20`` per model, warm cache: tracks/s end to end against
   the same ``simulate_experiment`` call in-process (imports and numba loading excluded).
4. ``andimamba predict examples/sample_tracks.csv --threads 1``: first run with an empty numba cache
   directory against the second run with it.

Each row gives wall time and CPU time (user + system of the process and its children, e.g. the
numba compiler process ``predict`` starts): on a shared machine the wall time includes waiting for a
core, the CPU time does not. Warm rows report the best of ``--repeats`` runs. Usage::

    python benchmarks/bench_startup.py [--repeats 3] [--models a,b] [--no-predict]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "pandas", "numba", "scipy.special")


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(args: list[str], env: dict | None = None) -> tuple[float, float]:
    """(wall, CPU) seconds of ``python -m andimamba.cli *args`` in a fresh process."""
    c, t = _children_cpu(), time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "andimamba.cli", *args], env=env, capture_output=True, text=True, cwd=ROOT, check=False)
    dt, dc = time.perf_counter() - t, _children_cpu() - c
    if p.returncode != 0:
        raise RuntimeError(f"andimamba {' '.join(args)} failed ({p.returncode}): {p.stderr[-2000:]}")
    return dt, dc


def best(fn, repeats: int) -> tuple[float, float]:
    """The run with the least wall time of ``repeats``: (wall, CPU)."""
    return min((fn() for _ in range(repeats)), key=lambda wc: wc[0])


def fmt(wc: tuple[float, float]) -> str:
    return f"{wc[0]:.2f} | {wc[1]:.2f}"


def imported(args: list[str]) -> str:
    """Heavy modules a command imports (from ``-X importtime``), e.g. 'numba' or 'none'."""
    p = subprocess.run([sys.executable, "-X", "importtime", "-m", "andimamba.cli", *args], capture_output=True, text=True, cwd=ROOT, check=False)
    names = {line.split("|")[-1].strip() for line in p.stderr.splitlines() if line.startswith("import time:")}
    found = [h for h in HEAVY if h in names]
    return ", ".join(found) if found else "none"


def env_with(cache: Path | None) -> dict:
    env = dict(os.environ)
    if cache is not None:
        env["NUMBA_CACHE_DIR"] = str(cache)
    return env


def main() -> None:
    from andimamba.sim.params import MODELS

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--no-predict", action="store_true")
    args = ap.parse_args()
    models = [m for m in args.models.split(",") if m]
    tmp = Path(tempfile.mkdtemp(prefix="bench_startup_"))
    try:
        load = os.getloadavg()[0]
        print(f"machine: {platform.machine()} | cpus {os.cpu_count()} | load {load:.1f} | python {platform.python_version()}")
        print()
        print("| command | imports (heavy) | wall (s) | CPU (s) |")
        print("|---|---|---:|---:|")
        for cmd in (["--help"], ["simulate", "--help"]):
            print(f"| `andimamba {' '.join(cmd)}` | {imported(cmd)} | {fmt(best(lambda cmd=cmd: run(cmd), args.repeats))} |", flush=True)
        out = tmp / "sim"
        tiny = ["simulate", "--n-fovs", "1", "--no-progress", "--overwrite", "--out", str(out)]
        print(f"| `andimamba simulate --model single_state --n-fovs 1` | {imported(tiny + ['--model', 'single_state'])} | | |")
        print()
        print("`andimamba simulate --model M --n-fovs 1 --no-progress`, numba cache empty (first run after install) vs filled:")
        print()
        print("| model | first run: wall (s) | CPU (s) | later runs: wall (s) | CPU (s) |")
        print("|---|---:|---:|---:|---:|")
        for m in models:
            cache = tmp / f"numba_{m}"
            cold = run(tiny + ["--model", m], env=env_with(cache))
            warm = best(lambda m=m, cache=cache: run(tiny + ["--model", m], env=env_with(cache)), args.repeats)
            print(f"| {m} | {fmt(cold)} | {fmt(warm)} |", flush=True)
        print()
        print("`andimamba simulate --model M --n-fovs 20` (warm cache) vs the same `simulate_experiment` in-process:")
        print()
        print("| model | tracks | command: wall (s) | CPU (s) | tracks/s (wall) | in-process (s) | tracks/s |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        from andimamba.sim.experiment import simulate_experiment

        for m in models:
            cache = tmp / f"numba_{m}"
            cmd = ["simulate", "--model", m, "--n-fovs", "20", "--overwrite", "--out", str(out)]
            wc = best(lambda cmd=cmd, cache=cache: run(cmd, env=env_with(cache)), args.repeats)
            simulate_experiment(model=m, n_fovs=1, seed=0, progress=False)  # warm-up: imports, numba loading
            t_in = float("inf")
            for _ in range(args.repeats):
                t = time.perf_counter()
                _, fovs = simulate_experiment(model=m, n_fovs=20, seed=0, progress=False)
                t_in = min(t_in, time.perf_counter() - t)
            n = sum(len(f.tracks) for f in fovs)
            print(f"| {m} | {n} | {fmt(wc)} | {n / wc[0]:,.0f} | {t_in:.3f} | {n / t_in:,.0f} |", flush=True)
        if not args.no_predict:
            print()
            print("`andimamba predict examples/sample_tracks.csv --threads 1`, numba cache empty vs filled:")
            print()
            print("| run | wall (s) | CPU (s) |")
            print("|---|---:|---:|")
            cache = tmp / "numba_predict"
            outs = iter(tmp / f"pred{i}" for i in range(10**6))
            pred = lambda: ["predict", "examples/sample_tracks.csv", "--threads", "1", "--out", str(next(outs))]
            first = run(pred(), env=env_with(cache))
            second = best(lambda: run(pred(), env=env_with(cache)), args.repeats)
            print(f"| first (empty cache: numba compiles) | {fmt(first)} |")
            print(f"| second and later | {fmt(second)} |")
            print(f"| difference | {first[0] - second[0]:.2f} | {first[1] - second[1]:.2f} |")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
