"""ONNX export of the shipped models: export time, file size, and onnxruntime vs PyTorch inference time.

Usage::

    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 python benchmarks/bench_onnx.py --batch 128 --length 200

Prints a markdown table (one row per model): export wall (and CPU) time, file size, graph nodes, median wall time
of one inference call on ``batch`` random-walk tracks of ``length`` frames for onnxruntime (the exported
file) and PyTorch (``AnDiNet.predict``: features, network, probabilities; bimamba on its default CPU path),
both on ``--threads`` threads, and the largest |ONNX - PyTorch| on those tracks (valid frames).
"""

from __future__ import annotations

import argparse
import platform
import sys
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from andimamba.batch import TrackBatch
from andimamba.checkpoint import load_model
from andimamba.export import export_onnx
from andimamba.predict import resolve_model_path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scan import time_call  # noqa: E402  median ms after a warm-up, shared by the timing benchmarks


def random_walks(b: int, l: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """b tracks of l frames, (b, l, 2) float32 px, steps of 0.3 to 3 px; lengths (b,) int64."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(0.0, 1.0, size=(b, l, 2)) * rng.uniform(0.3, 3.0, size=(b, 1, 1))
    return (100.0 + np.cumsum(steps, axis=1)).astype(np.float32), np.full(b, l, dtype=np.int64)


def cpu_name() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        return next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        return platform.processor() or "unknown CPU"


def main() -> None:
    import onnxruntime as ort

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", default=["bimamba", "bilstm"])
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--length", type=int, default=200)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=7)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    pos, lengths = random_walks(args.batch, args.length)
    feed = {"positions": pos, "lengths": lengths}

    print(f"{cpu_name()}; torch {torch.__version__}, onnxruntime {ort.__version__}; {args.threads} thread(s); "
          f"batch {args.batch} x {args.length} frames; median of {args.repeats}")
    print()
    print("| model | export s (CPU s) | file MB | nodes | opset | onnxruntime ms | PyTorch ms | ratio | max abs diff |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models:
            t0, c0 = time.perf_counter(), time.process_time()
            res = export_onnx(name, Path(tmp) / f"{name}.onnx", verify=False)
            export_s, export_cpu = time.perf_counter() - t0, time.process_time() - c0
            so = ort.SessionOptions()
            so.intra_op_num_threads, so.inter_op_num_threads = args.threads, 1
            sess = ort.InferenceSession(str(res.path), so, providers=["CPUExecutionProvider"])
            net = load_model(resolve_model_path(name))
            batch = TrackBatch(positions=pos, lengths=lengths)
            t_ort = time_call(lambda: sess.run(None, feed), args.repeats)
            t_pt = time_call(lambda: net.predict(batch), args.repeats)
            got = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feed)))
            ref = net.predict(batch)
            diff = max(float(np.abs(got[k] - ref[k]).max()) for k in ("state_prob", "cp_prob", "alpha", "log_K"))
            print(f"| {name} | {export_s:.0f} ({export_cpu:.0f}) | {res.size_bytes / 1e6:.2f} | {res.n_nodes} | {res.opset} | {t_ort:.0f} | "
                  f"{t_pt:.0f} | {t_ort / t_pt:.1f} | {diff:.1e} |")


if __name__ == "__main__":
    main()
