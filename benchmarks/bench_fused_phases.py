"""Where the fused Mamba forward kernel spends its time: each phase removed in turn from a copy of ``_fwd``.

Copies ``andimamba/nn/mamba_numba.py`` to a temporary module once per variant, with one phase of the forward
kernel cut out of the source (the in_proj or x_proj products replaced by constants, the scan's time loop
emptied, ...), and times every variant's ``_fwd`` on the same random batch (b × l frames, random lengths as in
training, both directions of a Bi-Mamba layer) in one process, variants in turns for ``--rounds`` rounds,
best of all. The time a removal
saves is that phase's share (a replacement keeps the values' magnitudes where a cut would change the
work downstream); the variants compute garbage and are never used for anything else. Usage::

    python benchmarks/bench_fused_phases.py [--d-model 32] [--threads 2] [--rounds 5] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "andimamba" / "nn" / "mamba_numba.py"

# phase -> (text in _fwd / _pre_scan, its replacement)
CUTS = {
    "in_proj (2 products)": ("    _matmul(Win[:ne], XT, XI)\n    _matmul(Win[ne:], XT, Z)\n", "    XI[:] = 0.1\n    Z[:] = 0.1\n"),
    "x_proj (its input copied instead)": ("    _matmul(Wx, U, DBL)\n", "    DBL[:] = U[: DBL.shape[0]]\n"),
    "conv": ("""            for s in range(L - m):
                dst[s] += w * src[s]
""", """            pass
"""),
    "softplus": ("""        for s in range(L):
            dl[s] = _softplus(pre[s])
""", """        dl[:] = pre
"""),
    "silu(z) (halved instead)": ("""            for s in range(L):
                z[s] = _silu(z[s])
""", """            for s in range(L):
                z[s] = z[s] * 0.5
"""),
    "3 transposes": ("        _transpose(U, Us)\n        _transpose(DL, DLs)\n        _transpose(Z, SZs)\n", "        Us[:] = 0.1\n        DLs[:] = 0.1\n        SZs[:] = 0.1\n"),
    "exp in the scan": ("_exp(dl[j] * ak[j]) * hk[j]", "(dl[j] * ak[j]) * hk[j]"),
    "scan (whole)": ("            for k in range(nn):\n                bk, ck, hk, ak", "            for k in range(0):\n                bk, ck, hk, ak"),
    "writing y": ("""            for j in range(ne):
                yt[j] = acc[j] * sz[j]
        for t in range(L, nl):
            y[r, b, t, :] = zero""", """            pass"""),
}

RUN = r"""
import importlib.util, sys, time
import numba, numpy as np
paths, D, threads, rounds, repeats = sys.argv[1].split(","), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
mods = []
for i, path in enumerate(paths):
    spec = importlib.util.spec_from_file_location(f"variant{i}", path); mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mods.append(mod)
numba.set_num_threads(threads)
rng = np.random.default_rng(0)
b, l, E, N, R, K, nr = 128, 200, 2 * D, 8, max(1, -(-D // 16)), 4, 2
f = np.float32
x = rng.normal(size=(b, l, D)).astype(f); lengths = rng.integers(20, 201, b).astype(np.int64); rev = np.array([0, 1], np.uint8)
Win = (rng.normal(size=(nr, 2 * E, D)) * 0.2).astype(f); cw = (rng.normal(size=(nr, E, K)) * 0.3).astype(f)
cb = (rng.normal(size=(nr, E)) * 0.1).astype(f); Wx = (rng.normal(size=(nr, R + 2 * N, E)) * 0.2).astype(f)
Wdt = (rng.normal(size=(nr, E, R)) * 0.3).astype(f); bdt = (rng.normal(size=(nr, E)) * 0.1 - 2).astype(f)
At = -np.broadcast_to(np.arange(1, N + 1, dtype=f)[None, :, None], (nr, N, E)).copy(); Dp = np.ones((nr, E), f)
y = np.empty((nr, b, l, E), f)
args = (x, lengths, rev, Win, cw, cb, Wx, Wdt, bdt, At, Dp, y)
for m in mods:
    m._fwd(*args)  # compile
best = [1e9] * len(mods)
for _ in range(rounds):  # variants in turns, so that a change of load hits all alike
    for i, m in enumerate(mods):
        for _ in range(repeats):
            t = time.perf_counter(); m._fwd(*args); best[i] = min(best[i], time.perf_counter() - t)
print(" ".join(f"{t * 1e3:.4f}" for t in best))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--d-model", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    src = SRC.read_text()
    print(f"machine: {platform.machine()} | threads {args.threads} | d_model {args.d_model}, E {2 * args.d_model}, N 8 | "
          f"batch 128 x 200 frames (random lengths 20-200), 2 directions | best of {args.rounds} rounds x "
          f"{args.repeats}, variants in turns\n")
    names = ["none (the kernel as shipped)", *CUTS]
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, name in enumerate(names):
            text = src
            if name in CUTS:
                old, new = CUTS[name]
                if old not in src:
                    raise SystemExit(f"phase {name!r}: its source text is no longer in {SRC.name}; update CUTS")
                text = src.replace(old, new)
            paths.append(Path(tmp) / f"variant_{i}.py")
            paths[-1].write_text(text)
        env = dict(os.environ, NUMBA_CACHE_DIR=str(Path(tmp) / "cache"))
        out = subprocess.run([sys.executable, "-c", RUN, ",".join(map(str, paths)), str(args.d_model), str(args.threads),
                              str(args.rounds), str(args.repeats)], env=env, capture_output=True, text=True, check=True).stdout
    times = [float(t) for t in out.split()]
    full = times[0]
    print(f"| phase removed | forward (ms) | saved (ms) | share |\n|---|---:|---:|---:|\n| {names[0]} | {full:.2f} | | |")
    for name, t in zip(names[1:], times[1:]):
        print(f"| {name} | {t:.2f} | {full - t:.2f} | {(full - t) / full:.0%} |")


if __name__ == "__main__":
    main()
