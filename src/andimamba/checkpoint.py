"""The checkpoint: a folder that is the whole inference contract of a trained network.

Layout of a weights (or run) folder ``DIR``::

    DIR/config.json         the contract (below), JSON
    DIR/model.safetensors   the weights only (safetensors: nothing is ever unpickled)

``config.json`` (``"format": 2``) holds each fact once:

==================  ==================================================================================
key                 meaning
==================  ==================================================================================
format              2 (this layout); absent in the legacy layout
package_version     andimamba version that wrote the file
model               :class:`~andimamba.nn.model.ModelConfig` (rebuilds the network)
features            ``{"version", "names"}``: :data:`~andimamba.nn.features.FEATURE_VERSION` and
                    :data:`~andimamba.nn.features.FEATURE_NAMES` of the features the weights were trained
                    on; loading refuses another version
window              frames: the training track length; tracks longer than this are predicted in
                    half-overlapping windows of this length (the default of ``andimamba predict``)
segmenter           :class:`~andimamba.segments.SegmenterConfig` fields plus ``"tuning"`` (how it was
                    chosen) and ``"pooling"`` (:class:`~andimamba.pooling.PoolingConfig`: the segment-α
                    errors measured on the tuning set, or absent), written by :func:`write_segmenter`;
                    null: the defaults (not tuned, no pooling)
train               the training run (:class:`andimamba.train.TrainConfig` without ``model``), with no
                    machine path: ``shards`` as ``{"name", "files"}``, a run-folder ``init_from`` as
                    ``{"name"}``; null for weights made outside ``andimamba train``
average             only in averaged weights (:func:`andimamba.train.average.average_checkpoints`): the
                    ingredients, ``{"of": [{"name", "weight", "train", "average"}, ...]}``
==================  ==================================================================================

The segmenter lives in config.json rather than its own file so that one file describes everything
``predict`` does with the weights; it is rewritten after training (tuning) by :func:`write_segmenter`, and
a new training run writes null (new weights, the old tuning no longer applies).

Machine paths (the shard folder, a run folder given to ``init_from``) are kept out of the contract, in
``DIR/run_paths.json``, which only resuming a run reads (:func:`read_train_record`); shipping weights
means copying config.json and model.safetensors.

Legacy layout (written before format 2, e.g. old run folders): ``{"package_version", "model", "train"}``
with the model config again inside ``train``, machine paths in ``train``, the segmenter in
``DIR/segmenter.json`` and the config a third time in the weights' safetensors metadata. It is read
(:func:`read_config` converts it: feature version 1, the only one that existed then; window 200, the
training length of every such run) and rewritten in format 2 by the next write.

Every file is written atomically (:mod:`andimamba.io.atomic`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import load_file
from safetensors.torch import save as st_save

from andimamba.errors import InputNotFoundError, UserError
from andimamba.io.atomic import atomic_write_bytes
from andimamba.nn.features import FEATURE_NAMES, FEATURE_VERSION
from andimamba.nn.model import AnDiNet, ModelConfig
from andimamba.pooling import PoolingConfig
from andimamba.segments import SegmenterConfig

__all__ = [
    "CONFIG",
    "WEIGHTS",
    "RUN_PATHS",
    "FORMAT",
    "DEFAULT_WINDOW",
    "Checkpoint",
    "write_config",
    "read_config",
    "read_train_record",
    "split_machine_paths",
    "write_segmenter",
    "save_model",
    "load_model",
    "load_checkpoint",
    "weights_sha256",
    "tensors_bytes",
    "json_bytes",
    "read_metadata",
]

CONFIG = "config.json"
WEIGHTS = "model.safetensors"
RUN_PATHS = "run_paths.json"  # machine paths of a training run (not part of the contract)
LEGACY_SEGMENTER = "segmenter.json"
FORMAT = 2
DEFAULT_WINDOW = 200  # frames: the simulator's training length (TrainingStream), that of every legacy-layout run
_PATH_FIELDS = ("shards", "init_from")  # TrainConfig fields that may hold a machine path


def json_bytes(obj: Any) -> bytes:
    """``obj`` as indented JSON text (UTF-8, trailing newline)."""
    return (json.dumps(obj, indent=1, allow_nan=True) + "\n").encode()


def tensors_bytes(tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> bytes:
    """A safetensors file's bytes (tensors copied to contiguous CPU memory first, as safetensors requires)."""
    flat = {k: v.detach().to("cpu", copy=True).contiguous() for k, v in tensors.items()}
    return st_save(flat, metadata=metadata)


def read_metadata(path: str | Path) -> dict[str, str]:
    """The string metadata of a safetensors file."""
    with safe_open(str(path), framework="pt") as f:
        return dict(f.metadata() or {})


# -------------------------------------------------------------------------------------------------
# config.json
# -------------------------------------------------------------------------------------------------
def _is_path(value: str) -> bool:
    return "/" in value or "\\" in value


def split_machine_paths(train: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """A training config dict -> (its public form, ``{field: absolute path}``).

    The public form is what config.json stores: no ``model`` (stored once, beside it), a shard folder as
    ``{"name", "files"}`` (folder name, number of ``.npz`` files), an ``init_from`` run folder (a value with a
    path separator) as ``{"name"}``; a shipped model name stays as it is. Already-public values pass unchanged.
    """
    public, paths = {k: v for k, v in train.items() if k != "model"}, {}
    for key in _PATH_FIELDS:
        value = public.get(key)
        if not isinstance(value, str) or (key == "init_from" and not _is_path(value)):
            continue  # None, already public, or a shipped model name
        paths[key] = str(Path(value).resolve())
        public[key] = {"name": Path(value).resolve().name}
        if key == "shards":
            public[key]["files"] = sum(not f.name.startswith(".") for f in Path(value).glob("*.npz"))
    return public, paths


def write_config(
    directory: str | Path,
    model_config: ModelConfig,
    train: dict[str, Any] | None = None,
    window: int | None = DEFAULT_WINDOW,
    segmenter: dict[str, Any] | None = None,
    average: dict[str, Any] | None = None,
) -> None:
    """Write ``DIR/config.json`` in format 2 (atomically), and ``DIR/run_paths.json`` when ``train`` names paths.

    Parameters
    ----------
    directory : str or Path
        Existing folder.
    model_config : ModelConfig
    train : dict, optional
        ``TrainConfig.to_dict()`` of the run (its ``model`` is dropped: stored once, under ``"model"``), or
        its public form as read back. A shard folder or run-folder ``init_from`` is replaced by its name
        (and file count) and the paths go to ``run_paths.json``.
    window : int or None
        Training track length in frames (None: tracks are always predicted whole).
    segmenter : dict, optional
        :class:`~andimamba.segments.SegmenterConfig` fields plus ``"tuning"``; None: defaults, not tuned.
        A legacy ``segmenter.json`` in the folder is removed (pass its content here to keep it).
    average : dict, optional
        The ``average`` record of averaged weights (key written only when given).
    """
    from andimamba import __version__

    directory = Path(directory)
    public, paths = split_machine_paths(train) if train is not None else (None, {})
    payload = {
        "format": FORMAT,
        "package_version": __version__,
        "model": model_config.to_dict(),
        "features": {"version": FEATURE_VERSION, "names": list(FEATURE_NAMES)},
        "window": window,
        "segmenter": segmenter,
        "train": public,
    }
    if average is not None:
        payload["average"] = average
    if paths:
        atomic_write_bytes(directory / RUN_PATHS, json_bytes(paths))
    atomic_write_bytes(directory / CONFIG, json_bytes(payload))
    (directory / LEGACY_SEGMENTER).unlink(missing_ok=True)  # its content, if kept, is in config.json now


def read_config(directory: str | Path) -> dict[str, Any]:
    """``DIR/config.json`` as a format-2 dict (the legacy layout is converted; see the module docstring).

    The legacy ``train`` keeps its machine paths here (they are split off on the next write).
    """
    directory = Path(directory)
    path = directory / CONFIG
    if not path.is_file():
        raise InputNotFoundError(f"{path} not found: not a run or weights folder")
    with open(path) as f:
        cfg = json.load(f)
    if cfg.get("format") == FORMAT:
        return cfg
    if "format" in cfg:
        raise UserError(f"{path}: checkpoint format {cfg['format']} is newer than this andimamba reads ({FORMAT}); upgrade andimamba")
    seg_file = directory / LEGACY_SEGMENTER
    train = cfg.get("train")
    return {
        "format": FORMAT,
        "package_version": cfg.get("package_version"),
        "model": cfg["model"],
        "features": {"version": 1, "names": list(FEATURE_NAMES) if FEATURE_VERSION == 1 else None},  # the only one then
        "window": DEFAULT_WINDOW,
        "segmenter": json.loads(seg_file.read_text()) if seg_file.is_file() else None,
        "train": None if train is None else {k: v for k, v in train.items() if k != "model"},
    }


def read_train_record(directory: str | Path) -> dict[str, Any] | None:
    """The training config of a run folder with its machine paths restored (for resuming), or None.

    The ``model`` key is filled from the config's ``"model"``. A path recorded only by name (no
    ``run_paths.json``, e.g. a folder copied from another machine) stays a ``{"name", ...}`` dict.
    """
    directory = Path(directory)
    cfg = read_config(directory)
    if cfg["train"] is None:
        return None
    train = {**cfg["train"], "model": cfg["model"]}
    paths_file = directory / RUN_PATHS
    if paths_file.is_file():
        train.update(json.loads(paths_file.read_text()))
    return train


def write_segmenter(directory: str | Path, segmenter: SegmenterConfig, tuning: dict[str, Any] | None = None,
                    pooling: PoolingConfig | None = None) -> None:
    """Record ``segmenter`` (how it was chosen, and the pooling calibration made with it) in ``DIR/config.json``;
    the rest is kept as it is.

    A legacy folder is rewritten in format 2 (its machine paths move to ``run_paths.json``) and its
    ``segmenter.json`` removed (every format-2 write removes it).
    """
    directory = Path(directory)
    cfg = read_config(directory)
    public, paths = split_machine_paths(cfg["train"]) if cfg["train"] is not None else (None, {})  # no-op in format 2
    record = {**segmenter.to_dict(), "tuning": tuning}
    if pooling is not None:
        record["pooling"] = pooling.to_dict()
    cfg.update(train=public, segmenter=record)
    if paths:
        atomic_write_bytes(directory / RUN_PATHS, json_bytes(paths))
    atomic_write_bytes(directory / CONFIG, json_bytes(cfg))
    (directory / LEGACY_SEGMENTER).unlink(missing_ok=True)


# -------------------------------------------------------------------------------------------------
# weights
# -------------------------------------------------------------------------------------------------
def save_model(
    model: torch.nn.Module,
    directory: str | Path,
    train_config: dict[str, Any] | None = None,
    window: int | None = DEFAULT_WINDOW,
) -> None:
    """Write ``DIR/model.safetensors`` (weights only) and ``DIR/config.json`` (segmenter: untuned).

    Parameters
    ----------
    model : AnDiNet
        The model (unwrap ``DistributedDataParallel`` first); its ``config`` is saved.
    directory : str or Path
        Existing folder.
    train_config : dict, optional
        ``TrainConfig.to_dict()`` of the run (machine paths are split off, see :func:`write_config`).
    window : int or None
        Training track length in frames.
    """
    directory = Path(directory)
    atomic_write_bytes(directory / WEIGHTS, tensors_bytes(model.state_dict()))
    write_config(directory, model.config, train_config, window)


@dataclass(frozen=True)
class Checkpoint:
    """A loaded checkpoint: the network and what inference does with it.

    Attributes
    ----------
    path : Path
        The folder.
    model : AnDiNet
        In eval mode.
    window : int or None
        Training track length (frames): longer tracks are predicted in half-overlapping windows of it.
    segmenter : SegmenterConfig
        The per-frame → segments settings (tuned ones when recorded, else the defaults).
    config : dict
        The whole format-2 config (see the module docstring).
    """

    path: Path
    model: AnDiNet
    window: int | None
    segmenter: SegmenterConfig
    config: dict[str, Any]

    @property
    def segmenter_tuned(self) -> bool:
        """Whether the segmenter was tuned for these weights (else the defaults are used)."""
        return self.config["segmenter"] is not None

    @property
    def pooling(self) -> PoolingConfig | None:
        """The segment-α errors for per-experiment pooling (None: not calibrated; ``predict`` then does not pool)."""
        seg = self.config["segmenter"]
        return PoolingConfig(**seg["pooling"]) if seg and seg.get("pooling") else None

    @property
    def train(self) -> dict[str, Any] | None:
        """The training run's config without machine paths (None: not made by ``andimamba train``)."""
        return self.config["train"]


def _weights_and_config(path: Path) -> tuple[Path, dict[str, Any]]:
    """(weights file, format-2 config) of a folder, its ``model.safetensors`` or a lone legacy weights file."""
    weights = path / WEIGHTS if path.is_dir() else path
    if not weights.is_file():
        raise InputNotFoundError(f"{weights} not found: give a folder with config.json and model.safetensors")
    if (weights.parent / CONFIG).is_file():
        return weights, read_config(weights.parent)
    meta = read_metadata(weights)  # legacy: the config was also embedded in the weights
    if "model_config" not in meta:
        raise InputNotFoundError(f"no {CONFIG} next to {weights} (and no legacy config in its metadata)")
    legacy = {"model": json.loads(meta["model_config"]), "features": {"version": 1}, "window": DEFAULT_WINDOW, "segmenter": None, "train": None}
    return weights, {"format": FORMAT, "package_version": None, **legacy}


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu", **overrides: Any) -> Checkpoint:
    """Load a weights/run folder: the network, its window and its segmenter.

    Parameters
    ----------
    path : str or Path
        A folder with ``config.json`` and ``model.safetensors``, or that ``.safetensors`` file.
    device : str or torch.device
        Where to put the model.
    **overrides
        ModelConfig fields to replace, e.g. ``scan_impl="reference"`` (architecture fields must match).

    Returns
    -------
    Checkpoint

    Raises
    ------
    UserError
        When the weights were trained on another feature version than this code computes.
    """
    weights, cfg = _weights_and_config(Path(path))
    version, names = cfg["features"]["version"], cfg["features"].get("names")
    if version != FEATURE_VERSION or (names is not None and tuple(names) != FEATURE_NAMES):
        other = " with other channel names" if version == FEATURE_VERSION else ""
        made = f" ({cfg['package_version']})" if cfg.get("package_version") else ""
        raise UserError(f"{weights.parent}: weights trained on feature version {version}{other}, this andimamba computes version "
                        f"{FEATURE_VERSION}; load them with the andimamba version that trained them{made} or retrain them")
    model = AnDiNet(ModelConfig.from_dict({**cfg["model"], **overrides}))
    model.load_state_dict(load_file(str(weights)), strict=True)
    seg = cfg["segmenter"]
    segmenter = SegmenterConfig(**{k: seg[k] for k in SegmenterConfig().to_dict() if k in seg}) if seg else SegmenterConfig()
    return Checkpoint(weights.parent, model.to(device).eval(), cfg["window"], segmenter, cfg)


def load_model(path: str | Path, device: str | torch.device = "cpu", **overrides: Any) -> AnDiNet:
    """The network of :func:`load_checkpoint` alone (in eval mode); same parameters."""
    return load_checkpoint(path, device, **overrides).model


def weights_sha256(model: torch.nn.Module) -> str:
    """SHA-256 of the model's state dict (names, dtypes, shapes and bytes, in a fixed order)."""
    h = hashlib.sha256()
    for name, t in sorted(model.state_dict().items()):
        t = t.detach().to("cpu").contiguous()
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)}".encode())
        h.update(t.view(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()
