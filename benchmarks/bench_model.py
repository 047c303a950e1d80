"""Model speed on CPU: inference and training tracks/s and peak memory, Bi-Mamba (fused block, the op-by-op
paths with each scan, the per-channel-decay variant) vs BiLSTM, side by side in one run.

Each configuration runs in its own worker subprocess (so peak RSS is its own), all kept alive; the
parent times them in turns — one repeat of every configuration, then the next repeat — so that a
load change on a shared machine hits all of them alike, and reports the best repeat of each and the median
(what a typical call costs), and the median number of minor page faults of an inference call; then the paired ratio:
each round's call against the reference's call in the same round (the first in a round alternates), its median,
quartiles and the number of rounds at ≥ 1.0 — the statistic least moved by load that changes between rounds. The
reference is the first of ``--cases`` (the BiLSTM unless chosen otherwise: the columns say "× BiLSTM"); with more than
two cases only the reference's neighbour in each round was timed right next to it. Batch of
simulated 200-frame tracks (variable lengths, as in training), features included, full AnDiNet
(segmentation + K + α stages). "first call" is the first inference of a fresh process, numba kernels loaded
from the on-disk cache included (not their first compilation).

Usage: ``python benchmarks/bench_model.py [--threads 2] [--batch 128] [--config paper] [--d-model 32]``
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys

# (label, arch, ModelConfig overrides); the first is the reference of the "× BiLSTM" columns
CASES = [
    ("bilstm", "bilstm", {}),
    ("bimamba, fused block (default)", "bimamba", {}),
    ("bimamba, ops + fused scan (before)", "bimamba", {"scan_impl": "fused"}),
    ("bimamba, fused block, per-channel decay", "bimamba", {"per_channel_decay": True}),
    ("bimamba, ops + chunked scan", "bimamba", {"scan_impl": "chunked"}),
    ("bimamba, ops + reference scan", "bimamba", {"scan_impl": "reference"}),
]


def worker(arch, overrides, threads, batch, config, d_model, by_length=False):
    import resource
    import time

    import numpy as np
    import torch

    from andimamba.nn.features import compute_features
    from andimamba.nn import model as M
    from andimamba.nn.losses import andi_loss, class_weights_from_counts
    from andimamba.sim.dataset import TrainingStream

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    size = {} if d_model is None else {"d_model": d_model}
    cfg = getattr(M, config)(arch, **size, **overrides)
    net = M.AnDiNet(cfg)
    b = next(TrainingStream(batch, seed=0))
    if by_length:  # rows sorted by track length, as `andimamba predict` batches them
        o = np.argsort(b.lengths, kind="stable")
        b = type(b)(**{k: (v[o] if isinstance(v, np.ndarray) and v.shape[:1] == (batch,) else v) for k, v in vars(b).items()})
    pos = torch.as_tensor(b.positions)
    lengths = torch.as_tensor(b.lengths)
    mask = torch.as_tensor(b.mask)
    tgt = {"alpha": torch.as_tensor(b.alpha), "K": torch.as_tensor(b.K), "state": torch.as_tensor(b.state), "cp": torch.as_tensor(b.cp).float()}
    cw = class_weights_from_counts(np.bincount(b.state[b.mask], minlength=4))
    opt = torch.optim.Adam(net.parameters(), 1e-3)

    def infer():
        with torch.no_grad():
            f, s = compute_features(pos, lengths)
            net.eval()
            net.forward_features(f, s, lengths)

    def train():
        net.train()
        f, s = compute_features(pos, lengths)
        out = net.forward_features(f, s, lengths)
        loss, _ = andi_loss(out, tgt, mask, cw)
        opt.zero_grad()
        loss.backward()
        opt.step()

    fns = {"infer": infer, "train": train}
    t = time.perf_counter()
    infer()
    first = time.perf_counter() - t
    train()  # warm-up
    print(json.dumps({"ready": True, "first": first, "params": M.count_parameters(net), "mean_length": float(b.lengths.mean())}), flush=True)
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "rss":
            print(json.dumps({"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)
            return
        f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        t = time.perf_counter()
        fns[cmd]()
        dt = time.perf_counter() - t
        print(json.dumps({"s": dt, "faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0}), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--config", default="paper")
    ap.add_argument("--d-model", type=int, default=None, help="override the preset's d_model")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--cases", default=None, help="comma-separated indices into CASES (default: all)")
    ap.add_argument("--sorted", action="store_true", help="rows of the batch sorted by track length, as predict batches them")
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        worker(a.worker[0], json.loads(a.worker[1]), a.threads, a.batch, a.config, a.d_model, a.sorted)
        return
    import torch

    cases = CASES if a.cases is None else [CASES[int(i)] for i in a.cases.split(",")]
    size = "" if a.d_model is None else f" (d_model {a.d_model})"
    print(f"machine: {platform.machine()} {platform.processor()} | torch {torch.__version__} | threads {a.threads} | "
          f"batch {a.batch} x 200 frames{' sorted by length' if a.sorted else ''} | config {a.config}{size} | best of {a.repeats}, "
          "configurations in turns")
    extra = ([] if a.d_model is None else ["--d-model", str(a.d_model)]) + (["--sorted"] if a.sorted else [])
    procs, info = [], []
    for _, arch, ov in cases:  # started one after the other, so that each first call runs alone
        cmd = [sys.executable, __file__, "--worker", arch, json.dumps(ov), "--threads", str(a.threads), "--batch", str(a.batch),
               "--config", a.config, *extra]
        procs.append(subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
        line = procs[-1].stdout.readline()
        info.append(json.loads(line) if line else None)
    times = [{"infer": [], "train": []} for _ in cases]
    faults = [[] for _ in cases]  # minor page faults per inference call
    for rnd in range(a.repeats):  # one round = every configuration once, inference then training
        turn = list(enumerate(procs)) if rnd % 2 == 0 else list(enumerate(procs))[::-1]  # who goes first alternates
        for name in ("infer", "train"):
            for i, p in turn:
                if info[i] is None:
                    continue
                p.stdin.write(name + "\n")
                p.stdin.flush()
                r = json.loads(p.stdout.readline())
                times[i][name].append(r["s"])
                if name == "infer":
                    faults[i].append(r["faults"])
    rss = []
    for i, p in enumerate(procs):
        if info[i] is None:
            rss.append(None)
            continue
        p.stdin.write("rss\n")
        p.stdin.flush()
        rss.append(json.loads(p.stdout.readline())["peak_rss_mb"])
        p.wait()
    best = [{k: min(v) for k, v in t.items()} if t["infer"] else None for t in times]
    med = [{k: statistics.median(v) for k, v in t.items()} if t["infer"] else None for t in times]
    ref, ref_med = best[0], med[0]
    print(f"mean track length {info[0]['mean_length']:.0f} frames" if info[0] else "")
    print("\n| model | params | inference (tracks/s) | × BiLSTM | training (tracks/s) | × BiLSTM | first call (s) | peak RSS (MB) "
          "| median inference (tracks/s) | × BiLSTM | median training (tracks/s) | × BiLSTM | page faults per inference |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for (label, _, _), d, bt, mt, mb, fl in zip(cases, info, best, med, rss, faults):
        if d is None:
            print(f"| {label} | failed (see stderr) |")
            continue
        print(f"| {label} | {d['params']:,} | {a.batch / bt['infer']:,.0f} | {ref['infer'] / bt['infer']:.2f} | "
              f"{a.batch / bt['train']:,.0f} | {ref['train'] / bt['train']:.2f} | {d['first']:.2f} | {mb:,.0f} | "
              f"{a.batch / mt['infer']:,.0f} | {ref_med['infer'] / mt['infer']:.2f} | {a.batch / mt['train']:,.0f} | "
              f"{ref_med['train'] / mt['train']:.2f} | {statistics.median(fl):,.0f} |", flush=True)
    if info[0] is None or len(cases) < 2:
        return
    # paired: each round's ratio to the reference timed next to it in that round (the load both saw alike)
    print("\npaired × BiLSTM, per round (speed ratio of calls made next to each other): median [quartiles], rounds ≥ 1.0")
    print("\n| model | inference | rounds ≥ 1.0 | training | rounds ≥ 1.0 |\n|---|---|---:|---|---:|")
    for (label, _, _), d, t in zip(cases[1:], info[1:], times[1:]):
        if d is None:
            continue
        cells = []
        for name in ("infer", "train"):
            r = sorted(x / y for x, y in zip(times[0][name], t[name]))
            q = statistics.quantiles(r, n=4) if len(r) > 1 else [r[0]] * 3
            cells += [f"{q[1]:.2f} [{q[0]:.2f}–{q[2]:.2f}]", f"{sum(x >= 1.0 for x in r)} of {len(r)}"]
        print(f"| {label} | {' | '.join(cells)} |", flush=True)


if __name__ == "__main__":
    main()
