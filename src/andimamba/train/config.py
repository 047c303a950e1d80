"""The configuration of a training run (:class:`TrainConfig`) and the learning-rate schedule."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from andimamba import checkpoint as ckpt
from andimamba.errors import UserError
from andimamba.nn.losses import LossWeights
from andimamba.nn.model import ModelConfig
from andimamba.sim.dataset import PRIORS
from andimamba.sim.params import MODELS

__all__ = ["TrainConfig", "RESUMABLE_FIELDS", "LR_SCHEDULES", "learning_rate", "read_train_config"]

RESUMABLE_FIELDS = ("epochs", "num_threads", "device", "log_every", "checkpoint_every", "max_minutes")  # may change on resume
LR_SCHEDULES = ("constant", "cosine")


@dataclass
class TrainConfig:
    """Everything that defines a training run; saved in ``config.json`` under ``"train"`` (see :mod:`andimamba.checkpoint`)."""

    model: ModelConfig = field(default_factory=ModelConfig)
    batch_size: int = 128  # b, tracks per step and per process
    lr: float = 1e-3  # Adam learning rate
    epochs: int = 20
    steps_per_epoch: int = 500  # 0 with shards: one pass over the shards per epoch
    n_val: int = 10_000  # tracks in the fixed validation set
    val_seed: int = 20_240_601
    seed: int = 0  # model init, training stream, shard order
    prior: str = "broad"  # experiment prior of the simulator, see andimamba.sim.dataset
    models: tuple[str, ...] = MODELS  # AnDi-2 models mixed in the data
    shards: str | None = None  # directory of .npz shards instead of on-the-fly simulation
    num_threads: int | None = None  # torch (and numba) threads per process; None leaves the default
    device: str = "auto"  # "auto" | "cpu" | "cuda"
    log_every: int = 50  # steps between progress-bar / log updates of the loss
    checkpoint_every: int = 0  # steps between mid-epoch checkpoints; 0: end of each epoch only
    boxes_per_call: int = 8  # simulator boxes per call (see TrainingStream)
    grad_clip: float = 0.0  # max global gradient norm; 0: no clipping
    eval_batch_size: int = 512  # tracks per forward pass in validation
    init_from: str | None = None  # shipped model name or run folder whose weights start a fresh run
    lr_schedule: str = "constant"  # "constant" | "cosine" (cosine decay from lr to lr * lr_min_ratio over the run)
    lr_min_ratio: float = 0.05
    sim_workers: int = 0  # processes simulating the training data (0: in the training process); see andimamba.train.workers
    max_minutes: float = 0.0  # wall-clock budget of this invocation; 0: none (stops after the step that passes it)
    loss: LossWeights = field(default_factory=LossWeights)

    def __post_init__(self) -> None:
        self.models = tuple(self.models)
        checks = [
            (self.batch_size > 0, "batch_size must be > 0"),
            (self.lr > 0, "lr must be > 0"),
            (self.epochs >= 0, "epochs must be >= 0"),
            (self.steps_per_epoch > 0 or (self.steps_per_epoch == 0 and self.shards), "steps_per_epoch must be > 0 (0 only with shards)"),
            (self.n_val > 0, "n_val must be > 0"),
            (self.prior in PRIORS, f"prior must be one of {sorted(PRIORS)}"),
            (len(self.models) > 0 and set(self.models) <= set(MODELS), f"models must be among {', '.join(MODELS)}"),
            (self.num_threads is None or self.num_threads > 0, "num_threads must be > 0"),
            (self.device == "auto" or self.device.split(":")[0] in ("cpu", "cuda"), "device must be auto, cpu or cuda"),
            (self.checkpoint_every >= 0 and self.log_every >= 0, "checkpoint_every and log_every must be >= 0"),
            (self.lr_schedule in LR_SCHEDULES, f"lr_schedule must be one of {', '.join(LR_SCHEDULES)}"),
            (0 < self.lr_min_ratio <= 1, "lr_min_ratio must be in (0, 1]"),
            (self.sim_workers >= 0, "sim_workers must be >= 0"),
            (self.max_minutes >= 0 and math.isfinite(self.max_minutes), "max_minutes must be >= 0"),
        ]
        for ok, msg in checks:
            if not ok:
                raise UserError(f"{msg} (TrainConfig)")

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict (nested configs as dicts)."""
        d = dataclasses.asdict(self)
        d["models"] = list(self.models)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainConfig":
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        unknown = set(d) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise UserError(f"unknown TrainConfig keys {sorted(unknown)}")
        d = dict(d)
        if isinstance(d.get("model"), dict):
            d["model"] = ModelConfig.from_dict(d["model"])
        if isinstance(d.get("loss"), dict):
            d["loss"] = LossWeights(**d["loss"])
        return cls(**d)


def learning_rate(cfg: TrainConfig, step: int, total: int) -> float:
    """Learning rate of optimizer step ``step`` (0-based) of a run of ``total`` steps."""
    if cfg.lr_schedule == "constant" or total <= 1:
        return cfg.lr
    frac = min(step / (total - 1), 1.0)
    return cfg.lr * (cfg.lr_min_ratio + (1 - cfg.lr_min_ratio) * 0.5 * (1 + math.cos(math.pi * frac)))


def read_train_config(run_dir: str | Path, shards: str | None = None, init_from: str | None = None) -> TrainConfig:
    """The :class:`TrainConfig` recorded in a run folder, machine paths included (to resume it).

    Parameters
    ----------
    run_dir : str or Path
        A run folder of ``andimamba train`` (format 2 or legacy).
    shards, init_from : str, optional
        The shard folder and the ``init_from`` run folder, needed only when the run used one whose path is
        not recorded on this machine (a run folder copied from elsewhere).

    Returns
    -------
    TrainConfig
    """
    out = Path(run_dir)
    train = ckpt.read_train_record(out)
    if not train:
        raise UserError(f"{out} holds weights but no training run to resume")
    for key, given in (("shards", shards), ("init_from", init_from)):
        if isinstance(train.get(key), dict) and given is not None:  # recorded by name only: take the given folder
            train[key] = given
    for key, flag in (("shards", "--shards"), ("init_from", "--init-from")):
        if isinstance(train.get(key), dict):
            named = train[key]
            raise UserError(f"{out}: the run used {key} {named.get('name')!r} whose folder is not recorded on this machine "
                             f"({ckpt.RUN_PATHS} missing); pass {flag} FOLDER")
    return TrainConfig.from_dict(train)
