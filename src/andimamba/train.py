"""Training loop of :class:`~andimamba.nn.model.AnDiNet` (``andimamba train``).

Glossary: b = batch size (per process), l = padded length, r = rank of the process, W = world size
(number of processes; 1 without ``torchrun``), e = epoch (0-based), s = step within the epoch (0-based).

Data
    On the fly: epoch e of rank r reads a fresh ``TrainingStream(b, SeedSequence([seed, e, r]))``, so every
    rank sees its own tracks and a resumed run sees exactly the batches of the uninterrupted one (resuming
    mid-epoch regenerates and skips the s batches already used). From shards (``shards=DIR`` of ``.npz``
    written by :func:`andimamba.sim.dataset.save_shard`): every track is loaded once; the global batch
    g = s·W + r of epoch e holds positions g·b .. g·b + b - 1 of the endless concatenation of permutations
    k = 0, 1, ... seeded by ``SeedSequence([seed, e, k])``. Every batch is cut to its longest track.
Validation
    ``n_val`` tracks simulated once from ``val_seed`` (same models and prior) and cached as ``DIR/val.npz``.
    Evaluated on rank 0 after every epoch, pooled over all valid frames of the set:
    ``val_alpha_mae`` mean |α̂ - α|; ``val_K_msle`` mean (log1p K̂ - log1p K)² (the official AnDi-2 K
    metric, here per frame); ``val_wce`` class-weighted cross-entropy Σ w_y·(-log p_y) / Σ w_y;
    ``val_state_acc`` fraction of frames whose argmax state is right; ``val_cp_bce`` the change-point BCE
    with the training positive weight. These are the training loss terms, so train and val compare.
Class weights of the WCE
    :func:`~andimamba.nn.losses.class_weights_from_counts` of the state frequencies over the valid frames of
    the validation set (same prior as training), computed once and stored in the checkpoint.
Outputs in DIR
    ``config.json``, ``model.safetensors``, ``train_state.*`` (see :mod:`andimamba.checkpoint`), ``val.npz``
    and ``metrics.csv``: one row per epoch with :data:`METRIC_COLUMNS`; ``epoch`` counts completed epochs
    (1-based), ``step`` completed optimizer steps, ``train_loss`` the mean total training loss over the
    epoch's steps and ranks, ``seconds`` cumulative wall-clock time (not reproducible, everything else is).
Checkpoints and exact resume
    After every epoch (and every ``checkpoint_every`` steps if > 0). Each optimizer step first seeds torch
    from (seed, e, s, r), so dropout is reproducible without carrying RNG streams across a kill. On CPU, with
    the same number of threads and processes, a run killed at any moment and resumed writes the same
    ``metrics.csv`` as an uninterrupted one, bit for bit (except ``seconds``).
DDP
    Under ``torchrun`` (``WORLD_SIZE`` > 1) the model is wrapped in DistributedDataParallel (gloo on CPU,
    nccl on CUDA); gradients are averaged over ranks, rank 0 evaluates and writes every file. At each
    checkpoint all ranks hash their weights, and a divergence is an error (the hashes are recorded).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from tqdm import tqdm

from andimamba import checkpoint as ckpt
from andimamba.batch import TrackBatch
from andimamba.nn.losses import LossWeights, andi_loss, class_weights_from_counts
from andimamba.nn.model import N_STATES, AnDiNet, ModelConfig
from andimamba.sim.dataset import PRIORS, TrainingStream, load_shard, save_shard
from andimamba.sim.params import MODELS

__all__ = ["TrainConfig", "train", "evaluate", "read_train_config", "resolve_device", "METRIC_COLUMNS", "RESUMABLE_FIELDS"]

log = logging.getLogger(__name__)

METRIC_COLUMNS = (
    "epoch", "step", "train_loss", "val_alpha_mae", "val_K_msle", "val_wce", "val_state_acc", "val_cp_bce", "seconds",
)  # fmt: skip
RESUMABLE_FIELDS = ("epochs", "num_threads", "device", "log_every", "checkpoint_every")  # may change on resume
VAL_FILE = "val.npz"
LR_SCHEDULES = ("constant", "cosine")
METRICS_FILE = "metrics.csv"


@dataclass
class TrainConfig:
    """Everything that defines a training run; saved in ``config.json`` under ``"train"``."""

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
        ]
        for ok, msg in checks:
            if not ok:
                raise ValueError(f"{msg} (TrainConfig)")

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
            raise ValueError(f"unknown TrainConfig keys {sorted(unknown)}")
        d = dict(d)
        if isinstance(d.get("model"), dict):
            d["model"] = ModelConfig.from_dict(d["model"])
        if isinstance(d.get("loss"), dict):
            d["loss"] = LossWeights(**d["loss"])
        return cls(**d)


# -------------------------------------------------------------------------------------------------
# data
# -------------------------------------------------------------------------------------------------
def _take(batch: TrackBatch, idx: np.ndarray) -> TrackBatch:
    """Tracks ``idx`` of ``batch``, cut to their longest valid length."""
    lmax = max(int(batch.lengths[idx].max()), 1)
    cut = {k: getattr(batch, k)[idx][:, :lmax] for k in ("positions", "alpha", "K", "state", "cp")}
    return TrackBatch(lengths=batch.lengths[idx], **cut)


def _tensors(batch: TrackBatch, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor], torch.Tensor]:
    """positions (b, l, 2), lengths (b,), targets dict of (b, l), mask (b, l) on ``device``."""
    t = lambda x, dt: torch.as_tensor(np.ascontiguousarray(x), dtype=dt, device=device)  # noqa: E731
    lengths = t(batch.lengths, torch.long)
    targets = {"alpha": t(batch.alpha, torch.float32), "K": t(batch.K, torch.float32), "state": t(batch.state, torch.long), "cp": t(batch.cp, torch.float32)}
    mask = torch.arange(batch.positions.shape[1], device=device)[None, :] < lengths[:, None]
    return t(batch.positions, torch.float32), lengths, targets, mask


class _Shards:
    """All tracks of a directory of ``.npz`` shards, padded to one length; batches by random access."""

    def __init__(self, directory: str | Path):
        files = sorted(Path(directory).glob("*.npz"))
        if not files:
            raise FileNotFoundError(f"no .npz shards in {directory}")
        parts = [load_shard(f) for f in files]
        l = max(p.positions.shape[1] for p in parts)
        pad = lambda x: np.pad(x, [(0, 0), (0, l - x.shape[1])] + [(0, 0)] * (x.ndim - 2))  # noqa: E731
        cat = {k: np.concatenate([pad(getattr(p, k)) for p in parts]) for k in ("positions", "alpha", "K", "state", "cp")}
        self.data = TrackBatch(lengths=np.concatenate([p.lengths for p in parts]), **cat)

    def __len__(self) -> int:
        return len(self.data)

    def batches(self, cfg: TrainConfig, epoch: int, rank: int, world: int, skip: int) -> Iterator[TrackBatch]:
        n, b = len(self), cfg.batch_size
        perms: dict[int, np.ndarray] = {}
        s = skip
        while True:
            pos = (s * world + rank) * b + np.arange(b)  # positions in the endless permutation sequence
            k, i = pos // n, pos % n
            for kk in np.unique(k):
                if kk not in perms:
                    perms[kk] = np.random.default_rng(np.random.SeedSequence([cfg.seed, epoch, int(kk)])).permutation(n)
            yield _take(self.data, np.array([perms[kk][ii] for kk, ii in zip(k, i)]))
            s += 1


def _stream_batches(cfg: TrainConfig, epoch: int, rank: int, skip: int) -> Iterator[TrackBatch]:
    seed = np.random.SeedSequence([cfg.seed, epoch, rank])
    stream = TrainingStream(cfg.batch_size, seed=seed, models=cfg.models, prior=cfg.prior, boxes_per_call=cfg.boxes_per_call)
    for _ in range(skip):
        next(stream)
    for batch in stream:
        yield _take(batch, np.arange(len(batch)))


def _validation_set(cfg: TrainConfig, out: Path) -> TrackBatch:
    path = out / VAL_FILE
    if path.is_file():
        return load_shard(path)
    log.info("simulating the validation set (%d tracks, seed %d)", cfg.n_val, cfg.val_seed)
    val = next(TrainingStream(cfg.n_val, seed=cfg.val_seed, models=cfg.models, prior=cfg.prior, boxes_per_call=cfg.boxes_per_call))
    tmp = out / ".val.tmp.npz"
    save_shard(val, tmp)
    os.replace(tmp, path)
    return val


# -------------------------------------------------------------------------------------------------
# evaluation
# -------------------------------------------------------------------------------------------------
@torch.no_grad()
def evaluate(
    model: AnDiNet, batch: TrackBatch, class_weights: torch.Tensor, loss: LossWeights | None = None, chunk: int = 512
) -> dict[str, float]:
    """Validation metrics pooled over every valid frame of ``batch`` (see the module docstring).

    Parameters
    ----------
    model : AnDiNet
        Evaluated in eval mode on its own device (its mode is restored afterwards).
    batch : TrackBatch
        Labelled tracks.
    class_weights : Tensor, shape (4,)
        State weights of the WCE.
    loss : LossWeights, optional
        Only ``cp_pos_weight`` is used.
    chunk : int
        Tracks per forward pass (tracks are sorted by length first, and each chunk cut to its longest).

    Returns
    -------
    dict of float
        ``val_alpha_mae``, ``val_K_msle``, ``val_wce``, ``val_state_acc``, ``val_cp_bce``.
    """
    device = next(model.parameters()).device
    pos_w = torch.tensor((loss or LossWeights()).cp_pos_weight, device=device)
    cw = class_weights.to(device, torch.float32)
    was_training = model.training
    model.eval()
    order = np.argsort(batch.lengths, kind="stable")
    sums = dict.fromkeys(("mae", "msle", "wnll", "w", "correct", "bce", "n"), 0.0)
    try:
        for i in range(0, len(batch), chunk):
            pos, lengths, tg, mask = _tensors(_take(batch, order[i : i + chunk]), device)
            out = model(pos, lengths)
            logits, y = out["state_logits"][mask], tg["state"][mask]  # (n_valid, 4), (n_valid,)
            nll = F.cross_entropy(logits, y, reduction="none")  # (n_valid,)
            parts = {
                "mae": (out["alpha"][mask] - tg["alpha"][mask]).abs().sum(),
                "msle": (F.softplus(out["log_K"][mask]) - torch.log1p(tg["K"][mask])).pow(2).sum(),
                "wnll": (cw[y] * nll).sum(),
                "w": cw[y].sum(),
                "correct": (logits.argmax(-1) == y).sum(),
                "bce": F.binary_cross_entropy_with_logits(out["cp_logit"][mask], tg["cp"][mask], pos_weight=pos_w, reduction="sum"),
                "n": mask.sum(),
            }
            for k, v in parts.items():
                sums[k] += float(v)
    finally:
        model.train(was_training)
    n = sums["n"]
    return {
        "val_alpha_mae": sums["mae"] / n,
        "val_K_msle": sums["msle"] / n,
        "val_wce": sums["wnll"] / sums["w"],
        "val_state_acc": sums["correct"] / n,
        "val_cp_bce": sums["bce"] / n,
    }


# -------------------------------------------------------------------------------------------------
# distributed helpers
# -------------------------------------------------------------------------------------------------
def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """``"auto"`` → CUDA if available else CPU; ``"cuda"`` → the process's local GPU under torchrun."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError("device cuda requested but no CUDA GPU is available (use --device cpu)")
        return torch.device("cuda", local_rank) if name == "cuda" else torch.device(name)
    return torch.device(name)


def _pin_threads(n: int, cfg: TrainConfig, device: torch.device) -> None:
    """Use ``n`` torch threads for the whole run.

    numba's OpenMP pool, started by the first fused-scan call, resets the process-wide OpenMP thread count
    to numba's own; so start it now (one tiny scan), then set ``n``. Otherwise the count would change in the
    middle of the first step, and a resumed run would not repeat the uninterrupted one's arithmetic.
    """
    if cfg.model.arch == "bimamba" and device.type == "cpu" and cfg.model.scan_impl in ("auto", "fused"):
        from andimamba.nn.scan import fused_available, scan_fused

        if fused_available():
            z = torch.zeros(1, 2, 8)  # (b, l, d)
            scan_fused(z, z + 1, -torch.ones(8, 2), torch.zeros(1, 2, 2), torch.zeros(1, 2, 2))
    torch.set_num_threads(n)


def _gather(obj: Any) -> list[Any]:
    """``obj`` of every rank, in rank order (``[obj]`` without torch.distributed)."""
    if not (dist.is_available() and dist.is_initialized()):
        return [obj]
    out: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out


def _barrier() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def _write_metrics(out: Path, rows: list[dict[str, Any]]) -> None:
    fmt = lambda c, v: f"{v:.3f}" if c == "seconds" else repr(v)  # noqa: E731  repr: exact round trip
    lines = [",".join(METRIC_COLUMNS)] + [",".join(fmt(c, r[c]) for c in METRIC_COLUMNS) for r in rows]
    ckpt.atomic_write_bytes(out / METRICS_FILE, ("\n".join(lines) + "\n").encode())


def read_train_config(run_dir: str | Path) -> TrainConfig:
    """The :class:`TrainConfig` recorded in ``run_dir/config.json``."""
    out = Path(run_dir)
    train_cfg = ckpt.read_config(out).get("train")
    if not train_cfg:
        raise ValueError(f"{out} holds weights but no training run to resume")
    return TrainConfig.from_dict(train_cfg)


def _check_run_dir(out: Path, cfg: TrainConfig, resume: bool) -> None:
    if not resume:
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise FileExistsError(f"{out} is not empty: pass --resume to continue that run, or choose another --out")
        return
    stored = read_train_config(out).to_dict()
    new = cfg.to_dict()
    diff = sorted(k for k in new if k not in RESUMABLE_FIELDS and new[k] != stored[k])
    if diff:
        raise ValueError(f"cannot resume {out} with a different {', '.join(diff)} (only {', '.join(RESUMABLE_FIELDS)} may change)")


# -------------------------------------------------------------------------------------------------
# the loop
# -------------------------------------------------------------------------------------------------
def train(config: TrainConfig, out_dir: str | Path, resume: bool = False, progress: bool = True) -> AnDiNet:
    """Train (or resume training) an :class:`AnDiNet` and write the run to ``out_dir``.

    Parameters
    ----------
    config : TrainConfig
        The run. With ``resume``, it must equal the stored one except for :data:`RESUMABLE_FIELDS`.
    out_dir : str or Path
        Run directory; must be empty or absent unless ``resume``.
    resume : bool
        Continue from the last checkpoint in ``out_dir`` (start from scratch if none was written yet).
    progress : bool
        Show a tqdm progress bar (rank 0 only).

    Returns
    -------
    AnDiNet
        The trained model (unwrapped), on the training device.
    """
    out = Path(out_dir)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = resolve_device(config.device, local_rank)
    prev_threads = torch.get_num_threads()
    created = False
    if world > 1 and not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        created = True
    try:
        _pin_threads(config.num_threads or prev_threads, config, device)
        _check_run_dir(out, config, resume)
        _barrier()  # every rank has checked the directory before rank 0 writes into it
        return _run(config, out, resume, progress, device)
    finally:
        torch.set_num_threads(prev_threads)
        if created:
            dist.destroy_process_group()


def _run(cfg: TrainConfig, out: Path, resume: bool, progress: bool, device: torch.device) -> AnDiNet:
    rank, world = (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        for stray in out.glob(".*.tmp*"):  # temporary files of a write cut short by a kill
            stray.unlink()
        ckpt.write_config(out, cfg.model, cfg.to_dict())
    torch.manual_seed(cfg.seed)
    model = AnDiNet(cfg.model).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    record = ckpt.load_train_state(out, model, opt) if resume else None
    if record is None and cfg.init_from:
        _init_weights(model, cfg.init_from)

    val = _validation_set(cfg, out) if rank == 0 else None
    if record is None:
        cw_list = None
        if rank == 0:
            counts = np.bincount(val.state[val.mask], minlength=N_STATES)
            cw_list = class_weights_from_counts(counts, cfg.loss.class_weight_power).tolist()
        cw_list = _gather(cw_list)[0]
        start_epoch, start_step, step, elapsed, metrics, losses = 0, 0, 0, 0.0, [], []
    else:
        ckpt.set_rng_state(record["rng"])
        cw_list, metrics, elapsed = record["class_weights"], record["metrics"], record["seconds"]
        start_epoch, start_step, step = record["epoch"], record["step_in_epoch"], record["step"]
        if record["world_size"] != world and start_step > 0:
            raise ValueError(f"this checkpoint is mid-epoch with {record['world_size']} processes; resume with as many")
        losses = list(record["epoch_losses"][rank]) if start_step > 0 else []
        if rank == 0:
            _write_metrics(out, metrics)  # drop a row written after the checkpoint, if any
    cw = torch.tensor(cw_list, dtype=torch.float32, device=device)
    shards = _Shards(cfg.shards) if cfg.shards else None
    steps = cfg.steps_per_epoch or (len(shards) // (cfg.batch_size * world) if shards else 0)
    if steps <= 0:
        raise ValueError(f"the shards hold {len(shards) if shards else 0} tracks, fewer than one batch per process")
    net: torch.nn.Module = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    t_start = time.perf_counter()

    def save(epoch: int, s: int) -> None:
        """Checkpoint after ``s`` steps of epoch ``epoch`` (collective: every rank calls it)."""
        all_losses, hashes = _gather(losses), _gather(ckpt.weights_sha256(model))
        if rank == 0:
            if len(set(hashes)) > 1:
                raise RuntimeError(f"DDP ranks diverged: weight hashes {hashes}")
            rec = {
                "epoch": epoch, "step_in_epoch": s, "step": step, "world_size": world,
                "seconds": elapsed + time.perf_counter() - t_start, "class_weights": cw_list,
                "epoch_losses": all_losses, "metrics": metrics, "rank_weight_sha256": hashes, "rng": ckpt.get_rng_state(),
            }  # fmt: skip
            ckpt.save_model(model, out, cfg.to_dict())
            ckpt.save_train_state(out, model, opt, rec)
            _write_metrics(out, metrics)
        _barrier()

    model.train()
    for epoch in range(start_epoch, cfg.epochs):
        skip = start_step if epoch == start_epoch else 0
        source = shards.batches(cfg, epoch, rank, world, skip) if shards else _stream_batches(cfg, epoch, rank, skip)
        bar = tqdm(total=steps, initial=skip, desc=f"epoch {epoch + 1}/{cfg.epochs}", disable=not progress or rank != 0, leave=False)
        for s in range(skip, steps):
            torch.manual_seed(int(np.random.SeedSequence([cfg.seed, epoch, s, rank]).generate_state(1)[0]))
            for group in opt.param_groups:
                group["lr"] = learning_rate(cfg, epoch * steps + s, cfg.epochs * steps)
            losses.append(_train_step(net, opt, next(source), cw, cfg, device, (epoch, s)))
            step += 1
            bar.update(1)
            if cfg.log_every and step % cfg.log_every == 0:
                recent = float(np.mean(losses[-cfg.log_every :]))
                bar.set_postfix(loss=f"{recent:.4g}")
                log.debug("epoch %d step %d loss %.5g", epoch + 1, step, recent)
            if cfg.checkpoint_every and (s + 1) % cfg.checkpoint_every == 0 and s + 1 < steps:
                save(epoch, s + 1)
        bar.close()
        train_loss = float(np.mean([np.mean(x) for x in _gather(losses)]))  # same step count on every rank
        if rank == 0:
            row = {"epoch": epoch + 1, "step": step, "train_loss": train_loss, **evaluate(model, val, cw, cfg.loss, cfg.eval_batch_size)}
            row["seconds"] = elapsed + time.perf_counter() - t_start
            metrics.append(row)
            log.info("epoch %d: " + ", ".join(f"{k} %.4g" for k in METRIC_COLUMNS[2:-1]), epoch + 1, *(row[k] for k in METRIC_COLUMNS[2:-1]))
        losses = []
        save(epoch + 1, 0)
    if record is not None and start_epoch >= cfg.epochs and rank == 0:
        log.info("nothing to do: the run already completed %d epochs", start_epoch)
    return model


def learning_rate(cfg: TrainConfig, step: int, total: int) -> float:
    """Learning rate of optimizer step ``step`` (0-based) of a run of ``total`` steps."""
    if cfg.lr_schedule == "constant" or total <= 1:
        return cfg.lr
    frac = min(step / (total - 1), 1.0)
    return cfg.lr * (cfg.lr_min_ratio + (1 - cfg.lr_min_ratio) * 0.5 * (1 + math.cos(math.pi * frac)))


def _init_weights(model: AnDiNet, source: str) -> None:
    """Copy the weights of a shipped model or run folder into ``model`` (same architecture required)."""
    from andimamba.predict import resolve_model_path

    path = resolve_model_path(source)
    theirs = ckpt.read_config(path)["model"]
    ours = model.config.to_dict()
    diff = sorted(k for k in ours if k != "scan_impl" and theirs.get(k) != ours[k])
    if diff:
        raise ValueError(f"init_from={source!r}: its model differs in {', '.join(f'{k}={theirs.get(k)!r}' for k in diff)}; "
                         "train with the same architecture or leave init_from out")
    src = ckpt.load_model(path)
    model.load_state_dict(src.state_dict(), strict=True)
    log.info("initialised from %s", path)


def _train_step(
    net: torch.nn.Module, opt: torch.optim.Optimizer, batch: TrackBatch, cw: torch.Tensor, cfg: TrainConfig,
    device: torch.device, where: tuple[int, int],
) -> float:  # fmt: skip
    """One Adam step on ``batch``; returns the total loss before the step."""
    pos, lengths, targets, mask = _tensors(batch, device)
    total, _ = andi_loss(net(pos, lengths), targets, mask, cw, cfg.loss)
    value = float(total.detach())
    if not math.isfinite(value):
        raise FloatingPointError(f"non-finite training loss at epoch {where[0] + 1}, step {where[1] + 1}")
    opt.zero_grad(set_to_none=True)
    total.backward()
    if cfg.grad_clip > 0:
        torch.nn.utils.clip_grad_norm_(net.parameters(), cfg.grad_clip)
    opt.step()
    return value
