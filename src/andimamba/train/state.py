"""The resume state of a training run: weights, optimizer and record in one file, for an exact resume.

Files in the run folder ``DIR`` (next to the checkpoint of :mod:`andimamba.checkpoint`)::

    DIR/train_state.safetensors   model weights ("model.*"), optimizer tensors ("optim.<param id>.<name>")
                                  and, in the safetensors metadata, the JSON record (epoch, step, RNG states,
                                  metrics so far, optimizer index)
    DIR/train_state.json          a readable copy of that JSON record

Nothing here ever unpickles: tensors are read with :mod:`safetensors` and everything else is JSON.

Atomicity: ``train_state.safetensors`` holds the weights, the optimizer state and the record together: it
is the commit point, and is always self-consistent. ``model.safetensors`` and ``train_state.json`` are
written next to it (the first before, the second after), so after a kill between two writes they may be one
checkpoint ahead or behind; resuming reads only ``train_state.safetensors``.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file

from andimamba.checkpoint import json_bytes, read_metadata, tensors_bytes
from andimamba.io.atomic import atomic_write_bytes

__all__ = ["STATE", "STATE_JSON", "save_train_state", "load_train_state", "get_rng_state", "set_rng_state"]

STATE = "train_state.safetensors"
STATE_JSON = "train_state.json"


def get_rng_state() -> dict[str, Any]:
    """The torch (CPU and CUDA), numpy (legacy global) and Python RNG states as JSON-serialisable lists."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    version, pystate, gauss = random.getstate()
    state = {
        "torch": torch.get_rng_state().tolist(),
        "numpy": {"kind": kind, "keys": keys.tolist(), "pos": int(pos), "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
        "python": [version, list(pystate), gauss],
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = [s.tolist() for s in torch.cuda.get_rng_state_all()]
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Inverse of :func:`get_rng_state`."""
    torch.set_rng_state(torch.tensor(state["torch"], dtype=torch.uint8))
    n = state["numpy"]
    np.random.set_state((n["kind"], np.asarray(n["keys"], dtype=np.uint32), n["pos"], n["has_gauss"], n["cached_gaussian"]))
    version, pystate, gauss = state["python"]
    random.setstate((version, tuple(pystate), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([torch.tensor(s, dtype=torch.uint8) for s in state["cuda"]])


def _flatten_optimizer(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Optimizer state dict -> (tensors "optim.<pid>.<name>", JSON index of everything else)."""
    sd = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, st in sd["state"].items():
        for name, v in st.items():
            if torch.is_tensor(v):
                tensors[f"optim.{pid}.{name}"] = v
            else:
                scalars.setdefault(str(pid), {})[name] = v
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def _unflatten_optimizer(tensors: dict[str, torch.Tensor], index: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for key, v in tensors.items():
        if key.startswith("optim."):
            _, pid, name = key.split(".", 2)
            state.setdefault(int(pid), {})[name] = v
    for pid, st in index["scalars"].items():
        state.setdefault(int(pid), {}).update(st)
    return {"state": state, "param_groups": index["param_groups"]}


def save_train_state(
    directory: str | Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer, record: dict[str, Any]
) -> None:
    """Write a resume checkpoint: ``train_state.safetensors`` (the atomic commit) then ``train_state.json``.

    Parameters
    ----------
    directory : str or Path
        The run directory.
    model : torch.nn.Module
        Unwrapped model.
    optimizer : torch.optim.Optimizer
    record : dict
        JSON-serialisable training record (epoch, step, RNG states, metrics, ...). The optimizer's
        non-tensor state is added under ``"optimizer"``.
    """
    directory = Path(directory)
    opt_tensors, opt_index = _flatten_optimizer(optimizer)
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()} | opt_tensors
    record = {**record, "optimizer": opt_index}
    text = json.dumps(record, allow_nan=True)
    atomic_write_bytes(directory / STATE, tensors_bytes(tensors, {"train_state": text}))
    atomic_write_bytes(directory / STATE_JSON, json_bytes(record))


def load_train_state(
    directory: str | Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer | None = None
) -> dict[str, Any] | None:
    """Restore model and optimizer from ``DIR/train_state.safetensors``; return its JSON record.

    Returns None (and touches nothing) when the directory holds no resume checkpoint yet.
    """
    path = Path(directory) / STATE
    if not path.is_file():
        return None
    record = json.loads(read_metadata(path)["train_state"])
    # loaded on CPU: load_state_dict copies onto the parameters' device, and Adam keeps "step" on the CPU
    tensors = load_file(str(path), device="cpu")
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")}, strict=True)
    if optimizer is not None:
        optimizer.load_state_dict(_unflatten_optimizer(tensors, record["optimizer"]))
    return record
