"""The scan's decay factor exp(Δ A): Cephes-style ``_exp_f32`` on Δ·A (the fused Mamba block until 2026-12-08)
against ``_exp2_f32`` on Δ·(A log₂e) (since), in the scan's own loop shape, side by side in one run.

The loop is the fused forward's inner scan without its other terms (h = exp(Δ A) h + Δ over steps, states and channels:
L 200, N 8, E = 2 d_model), one thread, variants in turns for ``--rounds`` rounds (medians, paired ratio). Also the
largest relative error of each against float64 exp on the same float32 inputs.

Usage: ``python benchmarks/bench_decay.py [--rounds 9] [--calls 2000]``
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np
from numba import njit

from andimamba.nn.scan_numba import _exp2_f32, _exp_f32

_JIT = dict(fastmath=True, cache=False, error_model="numpy")


def _scan_with(exp):
    """The scan's decay loop with ``exp`` as its exponential (a jitted function, compiled in as a constant)."""

    @njit(**_JIT)
    def scan(dl, a, h, calls):
        for _ in range(calls):
            for s in range(dl.shape[0]):
                d = dl[s]
                for k in range(a.shape[0]):
                    ak, hk = a[k], h[k]
                    for j in range(d.shape[0]):
                        hk[j] = exp(d[j] * ak[j]) * hk[j] + d[j]

    return scan


_scan_exp, _scan_exp2 = _scan_with(_exp_f32), _scan_with(_exp2_f32)


@njit(**_JIT)
def _decays(dl, a, a2, out, out2):
    for s in range(dl.shape[0]):
        for k in range(a.shape[0]):
            for j in range(dl.shape[1]):
                out[s, k, j] = _exp_f32(dl[s, j] * a[k, j])
                out2[s, k, j] = _exp2_f32(dl[s, j] * a2[k, j])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--calls", type=int, default=2000)
    a = ap.parse_args()
    import numba

    numba.set_num_threads(1)
    rng = np.random.default_rng(0)
    print(f"machine: {platform.machine()} {platform.processor()} | one thread | L 200, N 8 | {a.rounds} rounds x {a.calls} calls\n")
    print("| d_model (E) | Cephes exp (µs/call) | exp2 (µs/call) | paired speed-up | max rel err Cephes | max rel err exp2 |")
    print("|---|---:|---:|---:|---:|---:|")
    for d_model in (24, 32):
        E = 2 * d_model
        dl = rng.uniform(1e-3, 2.0, (200, E)).astype(np.float32)  # Δ = softplus(...) > 0
        A = -np.exp(rng.uniform(-2.0, 3.0, (8, E))).astype(np.float32)  # A = -exp(A_log) < 0
        A2 = (A * np.float32(np.log2(np.e))).astype(np.float32)  # as the kernel computes At2
        h = np.zeros((8, E), np.float32)
        _scan_exp(dl, A, h, 1)
        _scan_exp2(dl, A2, h, 1)
        t = {"exp": [], "exp2": []}
        for r in range(a.rounds):
            for k in (("exp", "exp2") if r % 2 == 0 else ("exp2", "exp")):
                t0 = time.perf_counter()
                (_scan_exp(dl, A, h, a.calls) if k == "exp" else _scan_exp2(dl, A2, h, a.calls))
                t[k].append((time.perf_counter() - t0) / a.calls)
        out, out2 = np.empty((200, 8, E), np.float32), np.empty((200, 8, E), np.float32)
        _decays(dl, A, A2, out, out2)
        ref = np.exp(dl[:, None, :].astype(np.float64) * A[None].astype(np.float64))
        keep = ref > 1e-30
        err = [float(np.max(np.abs(o[keep] / ref[keep] - 1))) for o in (out, out2)]
        speed = statistics.median(x / y for x, y in zip(t["exp"], t["exp2"]))
        print(f"| {d_model} ({E}) | {statistics.median(t['exp']) * 1e6:.1f} | {statistics.median(t['exp2']) * 1e6:.1f} | "
              f"{speed:.2f} | {err[0]:.1e} | {err[1]:.1e} |")


if __name__ == "__main__":
    main()
