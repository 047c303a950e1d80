"""DDP: ``andimamba train`` under ``torchrun --nproc_per_node=2`` (gloo on CPU) keeps the ranks identical."""

import csv
import json
import os
import subprocess
import sys

import pytest
import torch.distributed as dist

from andimamba.checkpoint import load_model, weights_sha256

pytestmark = pytest.mark.skipif(not (dist.is_available() and dist.is_gloo_available()), reason="needs torch.distributed with gloo")


def test_torchrun_two_ranks_end_identical(tmp_path):
    out = tmp_path / "ddp"
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
        "-m", "andimamba.cli", "train", "--out", str(out), "--config", "tiny", "--epochs", "2",
        "--steps-per-epoch", "2", "--batch-size", "8", "--n-val", "60", "--threads", "1", "--checkpoint-every", "1",
        "--device", "cpu", "--no-progress",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]

    state = json.loads((out / "train_state.json").read_text())
    assert state["world_size"] == 2 and state["step"] == 4 and state["epoch"] == 2
    hashes = state["rank_weight_sha256"]  # each rank hashed its own weights at the last checkpoint
    assert len(hashes) == 2 and hashes[0] == hashes[1]
    assert weights_sha256(load_model(out)) == hashes[0]  # and rank 0 wrote those weights
    with open(out / "metrics.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert [r[:2] for r in rows[1:]] == [["1", "2"], ["2", "4"]]
    # only rank 0 writes: no stray temporary files, one validation set
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["config.json", "metrics.csv", "model.safetensors", "train_state.json", "train_state.safetensors", "val.npz"]
    )
