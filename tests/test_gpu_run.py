"""benchmarks/gpu_run.sh runs end to end (its CPU smoke mode) and leaves at most 8 files, weights that predict."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from andimamba.predict import load_predictor

ROOT = Path(__file__).resolve().parents[1]


def test_gpu_run_script_tiny(tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "GPU_RUN_TINY": "1", "OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '/usr/bin:/bin')}"  # this interpreter as python3
    r = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_run.sh"), str(out)], env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    files = sorted(p.name for p in out.iterdir())
    assert files == sorted(["gpu_bench.md", "gpu_bench.json", "config.json", "model.safetensors", "metrics.csv",
                            "train_state.json", "train_state.safetensors", "train.log"])
    assert "Checks (all passed)" in (out / "gpu_bench.md").read_text()
    assert "== report: exit 0" in (out / "train.log").read_text()
    pred = load_predictor(out)
    o = pred.frame_outputs(np.cumsum(np.random.default_rng(0).normal(size=(2, 50, 2)), axis=1).astype(np.float32), np.array([50, 30]))
    assert np.isfinite(o["alpha"][:, :30]).all()
