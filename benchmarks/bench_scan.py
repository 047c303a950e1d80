"""Time the selective-scan implementations: forward only (inference) and forward + backward (training).

Usage::

    python benchmarks/bench_scan.py --batch 128 --length 200 --d-inner 64 --d-state 16 --threads 2

Prints a markdown table (median ms per call and tracks/s) for each implementation and decay shape:
"full" is Mamba-1's A (d, n), "channel" the per-channel decay A (d,).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import torch

from andimamba.nn.scan import selective_scan


def make_inputs(b: int, l: int, d: int, n: int, channel: bool, seed: int = 0) -> list[torch.Tensor]:
    """Random inputs with the Mamba block's value ranges (Δ from softplus, A from S4D-real init)."""
    g = torch.Generator().manual_seed(seed)
    u = torch.randn(b, l, d, generator=g)  # (b, l, d)
    delta = torch.nn.functional.softplus(torch.randn(b, l, d, generator=g) - 2.0)  # (b, l, d)
    A = -torch.arange(1, n + 1, dtype=torch.float32).repeat(d, 1)  # (d, n), S4D-real
    if channel:
        A = A[:, 0].clone()  # (d,)
    B, C = torch.randn(b, l, n, generator=g), torch.randn(b, l, n, generator=g)  # (b, l, n)
    D = torch.ones(d)  # (d,)
    return [u, delta, A, B, C, D]


def time_call(fn, repeats: int) -> float:
    """Median wall time of fn() in ms, after one warm-up call (numba compile, allocator)."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def bench(impl: str, inputs: list[torch.Tensor], repeats: int) -> tuple[float, float]:
    """(forward ms, forward + backward ms) for one implementation."""
    leaves = [x.clone().requires_grad_() for x in inputs]
    gy = torch.randn(inputs[0].shape)

    def forward():
        with torch.no_grad():
            selective_scan(*inputs, impl=impl)

    def train_step():
        y = selective_scan(*leaves, impl=impl)
        torch.autograd.grad(y, leaves, gy)

    return time_call(forward, repeats), time_call(train_step, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=128, help="b, tracks per batch")
    parser.add_argument("--length", type=int, default=200, help="l, frames per track")
    parser.add_argument("--d-inner", type=int, default=64, help="d, channels")
    parser.add_argument("--d-state", type=int, default=16, help="n, state size")
    parser.add_argument("--threads", type=int, default=2, help="torch (and numba) threads")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per measurement (median)")
    parser.add_argument("--impls", nargs="+", default=["reference", "chunked", "fused"])
    parser.add_argument("--decay", nargs="+", default=["full", "channel"], choices=["full", "channel"])
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    b, l, d, n = args.batch, args.length, args.d_inner, args.d_state
    print(f"processor: {platform.processor() or platform.machine()}, cpu count: {os.cpu_count()}, "
          f"threads: {args.threads}, torch {torch.__version__}")
    print(f"b={b} l={l} d={d} n={n}, median of {args.repeats}\n")
    print("| impl | A | fwd ms | fwd tracks/s | fwd+bwd ms | fwd+bwd tracks/s |")
    print("|---|---|---:|---:|---:|---:|")
    for decay in args.decay:
        inputs = make_inputs(b, l, d, n, channel=decay == "channel")
        for impl in args.impls:
            fwd, train = bench(impl, inputs, args.repeats)
            shape = "(d, n)" if decay == "full" else "(d,)"
            rates = f"{fwd:.1f} | {1e3 * b / fwd:,.0f} | {train:.1f} | {1e3 * b / train:,.0f}"
            print(f"| {impl} | {shape} | {rates} |")


if __name__ == "__main__":
    main()
