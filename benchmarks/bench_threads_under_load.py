"""``andimamba predict`` on an idle machine and under load, default threads vs ``--threads 1/2``.

"Under load" = one busy-looping process pinned to CPU 0 (a laptop's other work). Each
configuration runs the real command line (``andimamba predict``, a fresh process: start-up and
model loading included), one after the other in the same run, so the ratios compare like with
like. Pause any other heavy process (e.g. a training run: ``kill -STOP <pid>``) before running.

Usage: ``python benchmarks/bench_threads_under_load.py [--n 1250] [--repeats 2] [--env OMP_WAIT_POLICY=PASSIVE]``
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_predict import make_csv  # noqa: E402


def _busy() -> subprocess.Popen:
    code = "import os\nos.sched_setaffinity(0, {0})\nwhile True:\n    pass\n"
    return subprocess.Popen([sys.executable, "-c", code])


def _run(csv: Path, out: Path, threads: int | None, env: dict) -> float:
    shutil.rmtree(out, ignore_errors=True)
    cmd = [shutil.which("andimamba") or "andimamba", "predict", str(csv), "--out", str(out), "--no-progress", "--no-frames"]
    if threads is not None:
        cmd += ["--threads", str(threads)]
    t = time.perf_counter()
    res = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    dt = time.perf_counter() - t
    if res.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{res.stderr}")
    return dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=1250, help="200-frame tracks (default 1250, one AnDi-2 experiment)")
    ap.add_argument("--repeats", type=int, default=2, help="runs per configuration (the best is kept)")
    ap.add_argument("--env", action="append", default=[], help="extra environment VAR=VALUE for the predict runs")
    a = ap.parse_args()
    env = dict(os.environ)
    for kv in a.env:
        k, v = kv.split("=", 1)
        env[k] = v
    tmp = Path(tempfile.mkdtemp())
    csv = tmp / "tracks.csv"
    make_csv(csv, a.n)
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), platform.processor())
    print(f"machine: {cpu} | cpus {os.cpu_count()} | {a.n} tracks x 200 frames | env {' '.join(a.env) or '-'} | best of {a.repeats}")
    configs = [("default", None), ("--threads 1", 1), ("--threads 2", 2)]
    rows = {}
    for load in ("idle", "one busy process on CPU 0"):
        busy = _busy() if load != "idle" else None
        try:
            time.sleep(0.5)
            for name, th in configs:
                rows[(load, name)] = min(_run(csv, tmp / "out", th, env) for _ in range(a.repeats))
        finally:
            if busy is not None:
                busy.kill()
                busy.wait()
    idle_default = rows[("idle", "default")]
    print("\n| load | threads | seconds | vs idle default | tracks/s |\n|---|---|---:|---:|---:|")
    for (load, name), s in rows.items():
        print(f"| {load} | {name} | {s:.2f} | {s / idle_default:.2f}x | {a.n / s:,.0f} |")
    under = {n: rows[("one busy process on CPU 0", n)] for n, _ in configs}
    print(f"\nunder load, default / idle default = {under['default'] / idle_default:.2f} (goal <= 1.5); "
          f"default / --threads 1 = {under['default'] / under['--threads 1']:.2f} (goal <= 1.0)")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
