"""Model speed on CPU: inference and training tracks/s and peak memory, Bi-Mamba (each scan path,
and the per-channel-decay variant) vs BiLSTM at similar parameter counts, in one run.

Each configuration runs in its own subprocess (so peak RSS is its own); batch of simulated
200-frame tracks, features included, full AnDiNet (segmentation + K + α stages).

Usage: ``python benchmarks/bench_model.py [--threads 2] [--batch 128] [--config paper]``
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys

CASES = [
    ("bilstm", {}),
    ("bimamba", {"scan_impl": "fused"}),
    ("bimamba", {"scan_impl": "fused", "per_channel_decay": True}),
    ("bimamba", {"scan_impl": "chunked"}),
    ("bimamba", {"scan_impl": "reference"}),
]


def worker(arch, overrides, threads, batch, config, repeats):
    import resource
    import time

    import numpy as np
    import torch

    from andimamba.features import compute_features
    from andimamba.nn import model as M
    from andimamba.nn.losses import andi_loss, class_weights_from_counts
    from andimamba.sim.dataset import TrainingStream

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    cfg = getattr(M, config)(arch, **overrides)
    net = M.AnDiNet(cfg)
    b = next(TrainingStream(batch, seed=0))
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
            net(f, s, lengths)

    def train():
        net.train()
        f, s = compute_features(pos, lengths)
        out = net(f, s, lengths)
        loss, _ = andi_loss(out, tgt, mask, cw)
        opt.zero_grad()
        loss.backward()
        opt.step()

    res = {}
    for name, fn in (("infer", infer), ("train", train)):
        fn()  # warm-up / compile
        ts = []
        for _ in range(repeats):
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
        res[name] = batch / float(np.median(ts))
    res["params"] = M.count_parameters(net)
    res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(res))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--config", default="paper")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        worker(a.worker[0], json.loads(a.worker[1]), a.threads, a.batch, a.config, a.repeats)
        return
    import torch

    print(f"machine: {platform.machine()} {platform.processor()} | torch {torch.__version__} | threads {a.threads} | "
          f"batch {a.batch} x 200 frames | config {a.config}")
    print("\n| model | scan | params | inference (tracks/s) | training (tracks/s) | peak RSS (MB) |")
    print("|---|---|---:|---:|---:|---:|")
    for arch, ov in CASES:
        r = subprocess.run([sys.executable, __file__, "--worker", arch, json.dumps(ov), "--threads", str(a.threads), "--batch", str(a.batch),
                            "--config", a.config, "--repeats", str(a.repeats)], capture_output=True, text=True)
        if r.returncode != 0:
            print(f"| {arch} | {ov} | failed: {r.stderr.strip().splitlines()[-1]} |")
            continue
        d = json.loads(r.stdout.strip().splitlines()[-1])
        scan = "-" if arch == "bilstm" else ov.get("scan_impl", "") + (" + per-channel decay" if ov.get("per_channel_decay") else "")
        print(f"| {arch} | {scan} | {d['params']:,} | {d['infer']:,.0f} | {d['train']:,.0f} | {d['peak_rss_mb']:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
