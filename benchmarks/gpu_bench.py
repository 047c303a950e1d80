"""GPU checks and throughput: the first two steps of ``benchmarks/gpu_run.sh``.

1. **Checks** (on the accelerator, against the sequential reference scan on the CPU in float64):
   the chunked selective scan — outputs and the gradients of all six inputs — for several shapes
   (odd lengths, one frame, Mamba-1's decay (d, n) and the per-channel decay (d,)); then a whole
   Bi-Mamba ``AnDiNet`` with the same weights on the accelerator (op by op, chunked scan) and on the CPU
   (the default fused numba block): per-frame outputs and parameter gradients of the loss.
2. **Throughput** on the accelerator: inference and training (forward + backward + Adam) tracks/s of
   Bi-Mamba and BiLSTM at the given sizes and batch, features included (training: the training loop's own
   ``train_step``), and the simulator's tracks/s
   per CPU process (to size the training run's simulation workers).

Writes ``OUT/gpu_bench.md`` (tables) and ``OUT/gpu_bench.json`` (the same numbers); exits 1 if a check
fails, so that ``gpu_run.sh`` does not spend the device's minutes training a broken model. Runs on a
machine without an accelerator too (then everything runs on the CPU: that is how it is tested).

Usage: ``python benchmarks/gpu_bench.py --out OUTDIR [--d-models 12 32] [--batch 512] [--seconds 4]``
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

from andimamba.nn import model as M
from andimamba.nn.losses import andi_loss, class_weights_from_counts
from andimamba.nn.scan import scan_chunked, scan_reference
from andimamba.sim.dataset import TrainingStream
from andimamba.train import TrainConfig, batch_tensors, train_step

# (b, l, d, n, per-channel decay): odd and one-frame lengths, both decay shapes
SCAN_SHAPES = [(3, 1, 5, 4, False), (4, 37, 24, 8, False), (8, 200, 48, 16, False), (5, 133, 16, 8, True)]
SCAN_TOL = 2e-4  # max |diff| / (max |reference| + 1) for float32 on the device vs float64 on the CPU
MODEL_TOL = 2e-3  # whole network: float32 on both sides, different kernels and summation orders


def _scan_inputs(b, l, d, n, channel, seed):
    g = torch.Generator().manual_seed(seed)
    u = torch.randn(b, l, d, generator=g, dtype=torch.float64)  # (b, l, d)
    delta = torch.nn.functional.softplus(torch.randn(b, l, d, generator=g, dtype=torch.float64) - 2.0)  # (b, l, d)
    A = -(torch.rand(d, generator=g, dtype=torch.float64) + 0.5) if channel else \
        -torch.arange(1, n + 1, dtype=torch.float64).repeat(d, 1)  # (d,) or (d, n)
    B = torch.randn(b, l, n, generator=g, dtype=torch.float64)  # (b, l, n)
    C = torch.randn(b, l, n, generator=g, dtype=torch.float64)  # (b, l, n)
    D = torch.randn(d, generator=g, dtype=torch.float64)  # (d,)
    return [u, delta, A, B, C, D]


def _rel(a: torch.Tensor, ref: torch.Tensor) -> float:
    return float((a.double().cpu() - ref).abs().max() / (ref.abs().max() + 1.0))


def check_scan(device: torch.device) -> list[dict]:
    """Chunked scan on ``device`` (float32) vs the reference on the CPU (float64), outputs and gradients."""
    rows = []
    for i, (b, l, d, n, channel) in enumerate(SCAN_SHAPES):
        ref_in = [x.requires_grad_() for x in _scan_inputs(b, l, d, n, channel, seed=i)]
        y_ref = scan_reference(*ref_in)
        w = torch.randn(y_ref.shape, generator=torch.Generator().manual_seed(100 + i), dtype=torch.float64)
        (y_ref * w).sum().backward()
        dev_in = [x.detach().float().to(device).requires_grad_() for x in ref_in]
        y = scan_chunked(*dev_in)
        (y * w.float().to(device)).sum().backward()
        errs = {"y": _rel(y.detach(), y_ref.detach())}
        errs.update({f"d{name}": _rel(x.grad, r.grad) for name, x, r in zip("u delta A B C D".split(), dev_in, ref_in)})
        worst = max(errs.values())
        rows.append({"shape": f"b{b} l{l} d{d} n{n}" + (" per-channel" if channel else ""), "max_rel_err": worst,
                     "worst": max(errs, key=errs.get), "ok": worst < SCAN_TOL})
    return rows


def _batch(n: int, seed: int):
    """A simulated training batch (TrackBatch) and the state weights of its WCE."""
    b = next(TrainingStream(n, seed=seed))
    return b, class_weights_from_counts(np.bincount(b.state[b.mask], minlength=4))


def check_model(device: torch.device) -> dict:
    """A Bi-Mamba on ``device`` vs the same weights on the CPU: outputs and parameter gradients of the loss."""
    torch.manual_seed(0)
    cpu = M.AnDiNet(M.paper("bimamba"))
    dev = M.AnDiNet(M.paper("bimamba", scan_impl="chunked")).to(device)  # the op-by-op path, chunked scan
    dev.load_state_dict(cpu.state_dict())
    batch, cw = _batch(64, seed=1)
    mask = torch.as_tensor(batch.mask)
    errs = {}
    grads = []
    for net, dv in ((cpu, torch.device("cpu")), (dev, device)):
        net.train()
        net.zero_grad()
        pos, lengths, tgt, m = batch_tensors(batch, dv)
        out = net(pos, lengths)
        loss, _ = andi_loss(out, tgt, m, cw.to(dv))
        loss.backward()
        grads.append(({k: v.detach().cpu().double() for k, v in out.items()},
                      {k: p.grad.detach().cpu().double() for k, p in net.named_parameters() if p.grad is not None}))
    (o_cpu, g_cpu), (o_dev, g_dev) = grads
    for k in o_cpu:
        a, b = o_cpu[k], o_dev[k]
        sel = mask if a.dim() == 2 else mask.unsqueeze(-1).expand_as(a)
        errs[f"out.{k}"] = _rel(b[sel], a[sel])
    errs["grad (worst parameter)"] = max(_rel(g_dev[k], g_cpu[k]) for k in g_cpu)
    worst = max(errs.values())
    return {"errors": errs, "max_rel_err": worst, "ok": worst < MODEL_TOL}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def throughput(device: torch.device, arch: str, d_model: int, batch: int, seconds: float) -> dict:
    """Inference and training tracks/s of one model on ``device`` (median of timed repeats)."""
    torch.manual_seed(0)
    net = M.AnDiNet(M.paper(arch, d_model=d_model)).to(device)
    tracks, cw = _batch(batch, seed=2)
    pos, lengths, _, _ = batch_tensors(tracks, device)
    cw, cfg = cw.to(device), TrainConfig(model=net.config)
    opt = torch.optim.Adam(net.parameters(), 1e-3)

    def infer():
        net.eval()
        with torch.no_grad():
            net(pos, lengths)

    def train():  # the training loop's own step: host-to-device copy, loss, backward, Adam
        net.train()
        train_step(net, opt, tracks, cw, cfg, device, (0, 0))

    res = {"arch": arch, "d_model": d_model, "params": M.count_parameters(net), "batch": batch}
    for name, fn in (("infer", infer), ("train", train)):
        fn()  # warm-up (kernel selection, allocator)
        _sync(device)
        times, t_end = [], time.perf_counter() + seconds
        while time.perf_counter() < t_end or len(times) < 3:
            t = time.perf_counter()
            fn()
            _sync(device)
            times.append(time.perf_counter() - t)
        res[f"{name}_tracks_per_s"] = batch / float(np.median(times))
    return res


def sim_rate(seconds: float) -> float:
    """Simulated training tracks/s of one CPU process (batches of 256, every AnDi-2 model)."""
    stream = TrainingStream(256, seed=3)
    next(stream)  # numba compile / cache load
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        n += len(next(stream).lengths)
    return n / (time.perf_counter() - t0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--d-models", type=int, nargs="+", default=[12, 32])
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--seconds", type=float, default=4.0, help="timing per measurement")
    a = ap.parse_args(argv)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    name = torch.cuda.get_device_name(0) if device.type == "cuda" else f"CPU only ({platform.processor() or platform.machine()})"
    a.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    scan = check_scan(device)
    model = check_model(device)
    ok = all(r["ok"] for r in scan) and model["ok"]
    lines = [f"# GPU checks and throughput\n\ndevice: {name} | torch {torch.__version__} | cpu threads {torch.get_num_threads()}\n",
             f"## Checks ({'all passed' if ok else 'FAILED'})\n", "| chunked scan vs float64 reference | max rel. error | worst | ok |",
             "|---|---:|---|---|"]
    lines += [f"| {r['shape']} | {r['max_rel_err']:.1e} | {r['worst']} | {r['ok']} |" for r in scan]
    lines += [f"\nBi-Mamba on {device.type} vs CPU (same weights): max rel. error {model['max_rel_err']:.1e} "
              f"({', '.join(f'{k} {v:.1e}' for k, v in model['errors'].items())}) — {'ok' if model['ok'] else 'FAILED'}\n"]
    perf = []
    if ok:
        for d in a.d_models:
            for arch in ("bilstm", "bimamba"):
                perf.append(throughput(device, arch, d, a.batch, a.seconds))
        lines += [f"## Throughput (batch {a.batch} × ≤ 200 frames, features included, median)\n",
                  "| model | d_model | params | inference tracks/s | training tracks/s |", "|---|---:|---:|---:|---:|"]
        lines += [f"| {p['arch']} | {p['d_model']} | {p['params']} | {p['infer_tracks_per_s']:.0f} | {p['train_tracks_per_s']:.0f} |" for p in perf]
    rate = sim_rate(a.seconds)
    lines.append(f"\nsimulation: {rate:.0f} training tracks/s per CPU process\n\n(total {time.perf_counter() - t0:.0f} s)")
    text = "\n".join(lines) + "\n"
    (a.out / "gpu_bench.md").write_text(text)
    (a.out / "gpu_bench.json").write_text(json.dumps({"device": name, "scan": scan, "model": model, "throughput": perf,
                                                       "sim_tracks_per_s": rate}, indent=1))
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
