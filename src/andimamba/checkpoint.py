"""Checkpoints: safetensors weights + JSON config, and the full training state for exact resume.

Layout of a run (or weights) directory ``DIR``::

    DIR/config.json               {"package_version", "model": ModelConfig, "train": TrainConfig or null}
    DIR/model.safetensors         model weights only (the config is also embedded in its metadata)
    DIR/train_state.safetensors   resume state: model weights ("model.*"), optimizer tensors
                                  ("optim.<param id>.<name>") and, in the safetensors metadata, the JSON
                                  record (epoch, step, RNG states, metrics so far, optimizer index)
    DIR/train_state.json          a readable copy of that JSON record

Nothing here ever unpickles: tensors are read with :mod:`safetensors` and everything else is JSON
(``torch.load`` is never called).

Atomicity: every file is written to a temporary file in the same directory, flushed, fsync'ed and moved over
the old one with :func:`os.replace`, so a SIGKILL at any moment leaves each file either old or new, never
torn. A resume checkpoint is a single file, ``train_state.safetensors``, which holds the weights, the
optimizer state and the JSON record together: it is the commit point, and is always self-consistent.
``model.safetensors`` and ``train_state.json`` are written next to it (the first before, the second after),
so after a kill between two writes they may be one checkpoint ahead or behind; resuming reads only
``train_state.safetensors``.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file
from safetensors.torch import save as st_save

from andimamba.io.atomic import atomic_write_bytes
from andimamba.nn.model import AnDiNet, ModelConfig

__all__ = [
    "CONFIG",
    "WEIGHTS",
    "STATE",
    "STATE_JSON",
    "atomic_write_bytes",
    "write_config",
    "read_config",
    "save_model",
    "load_model",
    "save_train_state",
    "load_train_state",
    "get_rng_state",
    "set_rng_state",
    "weights_sha256",
]

CONFIG = "config.json"
WEIGHTS = "model.safetensors"
STATE = "train_state.safetensors"
STATE_JSON = "train_state.json"


def _json_bytes(obj: Any) -> bytes:
    return (json.dumps(obj, indent=1, allow_nan=True) + "\n").encode()


def _tensors_bytes(tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> bytes:
    # safetensors wants contiguous CPU tensors that share no memory
    flat = {k: v.detach().to("cpu", copy=True).contiguous() for k, v in tensors.items()}
    return st_save(flat, metadata=metadata)


def _read_metadata(path: Path) -> dict[str, str]:
    with safe_open(str(path), framework="pt") as f:
        return dict(f.metadata() or {})


def write_config(directory: str | Path, model_config: ModelConfig, train_config: dict[str, Any] | None = None) -> None:
    """Write ``DIR/config.json`` (atomically) with the model config, the training config and the package version."""
    from andimamba import __version__

    payload = {"package_version": __version__, "model": model_config.to_dict(), "train": train_config}
    atomic_write_bytes(Path(directory) / CONFIG, _json_bytes(payload))


def read_config(directory: str | Path) -> dict[str, Any]:
    """Read ``DIR/config.json`` as written by :func:`write_config`."""
    path = Path(directory) / CONFIG
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: not a run or weights directory")
    with open(path) as f:
        return json.load(f)


def save_model(model: torch.nn.Module, directory: str | Path, train_config: dict[str, Any] | None = None) -> None:
    """Write ``DIR/model.safetensors`` (weights only) and ``DIR/config.json``.

    Parameters
    ----------
    model : AnDiNet
        The model (unwrap ``DistributedDataParallel`` first); its ``config`` is saved.
    directory : str or Path
        Existing directory.
    train_config : dict, optional
        ``TrainConfig.to_dict()`` of the run, recorded in config.json.
    """
    directory = Path(directory)
    meta = {"model_config": json.dumps(model.config.to_dict())}
    atomic_write_bytes(directory / WEIGHTS, _tensors_bytes(model.state_dict(), meta))
    write_config(directory, model.config, train_config)


def load_model(path: str | Path, device: str | torch.device = "cpu", **overrides: Any) -> AnDiNet:
    """Rebuild an :class:`AnDiNet` from a run/weights directory (or its ``model.safetensors``) alone.

    Parameters
    ----------
    path : str or Path
        A directory holding ``config.json`` and ``model.safetensors``, or the path of the ``.safetensors``
        file (its config is read from ``config.json`` next to it, else from the file's own metadata).
    device : str or torch.device
        Where to put the model.
    **overrides
        ModelConfig fields to replace, e.g. ``scan_impl="reference"`` (architecture fields must match).

    Returns
    -------
    AnDiNet
        In eval mode.
    """
    path = Path(path)
    weights = path / WEIGHTS if path.is_dir() else path
    if not weights.is_file():
        raise FileNotFoundError(f"{weights} not found")
    if (weights.parent / CONFIG).is_file():
        cfg = read_config(weights.parent)["model"]
    else:
        meta = _read_metadata(weights)
        if "model_config" not in meta:
            raise FileNotFoundError(f"no {CONFIG} next to {weights} and no config in its metadata")
        cfg = json.loads(meta["model_config"])
    model = AnDiNet(ModelConfig.from_dict({**cfg, **overrides}))
    model.load_state_dict(load_file(str(weights)), strict=True)
    return model.to(device).eval()


def weights_sha256(model: torch.nn.Module) -> str:
    """SHA-256 of the model's state dict (names, dtypes, shapes and bytes, in a fixed order)."""
    h = hashlib.sha256()
    for name, t in sorted(model.state_dict().items()):
        t = t.detach().to("cpu").contiguous()
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)}".encode())
        h.update(t.view(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


# -------------------------------------------------------------------------------------------------
# RNG states as JSON
# -------------------------------------------------------------------------------------------------
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


# -------------------------------------------------------------------------------------------------
# training state
# -------------------------------------------------------------------------------------------------
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
    atomic_write_bytes(directory / STATE, _tensors_bytes(tensors, {"train_state": text}))
    atomic_write_bytes(directory / STATE_JSON, _json_bytes(record))


def load_train_state(
    directory: str | Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer | None = None
) -> dict[str, Any] | None:
    """Restore model and optimizer from ``DIR/train_state.safetensors``; return its JSON record.

    Returns None (and touches nothing) when the directory holds no resume checkpoint yet.
    """
    path = Path(directory) / STATE
    if not path.is_file():
        return None
    record = json.loads(_read_metadata(path)["train_state"])
    # loaded on CPU: load_state_dict copies onto the parameters' device, and Adam keeps "step" on the CPU
    tensors = load_file(str(path), device="cpu")
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")}, strict=True)
    if optimizer is not None:
        optimizer.load_state_dict(_unflatten_optimizer(tensors, record["optimizer"]))
    return record
