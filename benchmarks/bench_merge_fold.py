"""One Bi-Mamba block of a shipped model at inference: the fused kernel, then the merge with the two out-projections
applied one after the other (the training path) or folded into the merge's first Linear
(``DirectionMerge.forward_projected``, what inference runs), alternated, best of each.

Batch of simulated tracks (variable lengths, as in training), 2 threads by default, no autograd.

Usage: ``python benchmarks/bench_merge_fold.py [--model bimamba] [--batch 128] [--threads 2] [--rounds 6] [--repeats 15]``
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import torch


def best_ms(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best * 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="bimamba")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--repeats", type=int, default=15)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    from andimamba.nn.bimamba import BiMambaBlock
    from andimamba.nn.mamba_fused import fused_inner
    from andimamba.nn.masking import length_mask
    from andimamba.predict import load_predictor
    from andimamba.sim.dataset import TrainingStream

    model = load_predictor(a.model).model.eval()
    blk = next(m for m in model.modules() if isinstance(m, BiMambaBlock))
    b = next(TrainingStream(a.batch, seed=1))
    L = torch.from_numpy(b.lengths)
    x = torch.randn(a.batch, int(b.lengths.max()), blk.fwd.out_proj.out_features)  # (b, l, d)
    mask = length_mask(L, x.shape[1])
    projs = (blk.fwd.out_proj, blk.bwd.out_proj)
    with torch.no_grad():
        y = fused_inner(x, [blk.fwd, blk.bwd], L, reverse=(False, True))  # (2, b, l, E)
        variants = {
            "fused kernel": lambda: fused_inner(x, [blk.fwd, blk.bwd], L, reverse=(False, True)),
            "merge, out_proj applied (training path)": lambda: blk.merge(x, projs[0](y[0]), projs[1](y[1]), mask),
            "merge, out_proj folded (inference)": lambda: blk.merge.forward_projected(x, y, projs, mask),
            "whole block (inference)": lambda: blk(x, L),
        }
        diff = (blk.merge(x, projs[0](y[0]), projs[1](y[1]), mask) - blk.merge.forward_projected(x, y, projs, mask)).abs().max()
        times = {k: [] for k in variants}
        for _ in range(a.rounds):
            for k, fn in variants.items():
                times[k].append(best_ms(fn, a.repeats))
    print(f"machine: {platform.machine()} | threads {a.threads} | model {a.model} (d_model {x.shape[-1]}) | batch {a.batch}, "
          f"mean length {b.lengths.mean():.0f} | {a.rounds} rounds × best of {a.repeats}, variants in turns | "
          f"max |folded − applied| {diff:.1e}\n")
    print("| variant | best ms | ms per round (min–max) |\n|---|---:|---|")
    for k, t in times.items():
        print(f"| {k} | {min(t):.2f} | {min(t):.2f}–{max(t):.2f} |")


if __name__ == "__main__":
    main()
