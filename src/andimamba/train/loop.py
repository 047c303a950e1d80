"""The training loop of :class:`~andimamba.nn.model.AnDiNet` (``andimamba train``).

Glossary: b = batch size (per process), r = rank of the process, W = world size (1 without ``torchrun``),
e = epoch (0-based), s = step within the epoch (0-based).

Class weights of the WCE
    :func:`~andimamba.nn.losses.class_weights_from_counts` of the state frequencies over the valid frames of
    the validation set (same prior as training), computed once and stored in the resume state.
Outputs in DIR
    ``config.json``, ``model.safetensors`` (:mod:`andimamba.checkpoint`; the window recorded there is the
    training length; every checkpoint records the segmenter as untuned, since the weights changed, while a
    resume that trains nothing keeps a tuned one), ``train_state.*`` (:mod:`andimamba.train.state`), ``val.npz``, ``run_paths.json`` when
    the run names a folder (shards, ``init_from``), and ``metrics.csv``: one row per epoch with
    :data:`METRIC_COLUMNS`; ``epoch`` counts completed epochs (1-based), ``step`` completed optimizer steps,
    ``train_loss`` the mean total training loss over the epoch's steps and ranks, ``seconds`` cumulative
    wall-clock time (not reproducible, everything else is).
Checkpoints and exact resume
    After every epoch (and every ``checkpoint_every`` steps if > 0). Each optimizer step first seeds torch
    from (seed, e, s, r), so dropout is reproducible without carrying RNG streams across a kill. On CPU, with
    the same number of threads and processes, a run killed at any moment and resumed writes the same
    ``metrics.csv`` as an uninterrupted one, bit for bit (except ``seconds``).
Data
    Shards, the in-process stream (:func:`~andimamba.train.data.stream_batches`), or with ``sim_workers`` > 0
    worker processes (:mod:`andimamba.train.workers`: other batches, the same for any number of workers).
Time budget
    With ``max_minutes`` > 0, the epoch in progress ends after the first step past the budget (counted from
    this invocation's start): it is evaluated and checkpointed like a full one, and ``--resume`` goes on with
    the next epoch. The learning-rate schedule is not shortened: size ``epochs`` × ``steps_per_epoch`` to the
    budget (``benchmarks/gpu_run.sh`` does, from measured throughput).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from andimamba import checkpoint as ckpt
from andimamba.batch import TrackBatch
from andimamba.errors import UserError
from andimamba.io.atomic import atomic_write_text
from andimamba.nn.losses import andi_loss, class_weights_from_counts
from andimamba.nn.model import N_STATES, AnDiNet
from andimamba.train import state
from andimamba.train.config import (
    RESUMABLE_FIELDS,
    TrainConfig,
    learning_rate,
    read_train_config,
)
from andimamba.train.data import (
    STREAM_LENGTH,
    ShardSet,
    batch_tensors,
    stream_batches,
    validation_set,
)
from andimamba.train.distributed import (
    barrier,
    gather,
    pin_threads,
    process_group,
    rank_and_world,
    resolve_device,
)
from andimamba.train.evaluation import VAL_METRICS, evaluate
from andimamba.train.workers import SimulationPool

__all__ = ["train", "train_step", "METRIC_COLUMNS", "METRICS_FILE"]

log = logging.getLogger(__name__)

METRIC_COLUMNS = ("epoch", "step", "train_loss", *VAL_METRICS, "seconds")
METRICS_FILE = "metrics.csv"


def _write_metrics(out: Path, rows: list[dict[str, Any]]) -> None:
    fmt = lambda c, v: f"{v:.3f}" if c == "seconds" else repr(v)  # noqa: E731  repr: exact round trip
    lines = [",".join(METRIC_COLUMNS)] + [",".join(fmt(c, r[c]) for c in METRIC_COLUMNS) for r in rows]
    atomic_write_text(out / METRICS_FILE, "\n".join(lines) + "\n")


def _check_run_dir(out: Path, cfg: TrainConfig, resume: bool) -> None:
    if not resume:
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise UserError(f"{out} is not empty: pass --resume to continue that run, or choose another --out")
        return
    # compared without machine paths: shards moved to another folder of the same name and size may resume
    old = read_train_config(out, cfg.shards, cfg.init_from)
    defaults = {k: v for k, v in TrainConfig().to_dict().items() if k not in ("shards", "init_from")}  # fields newer than the run
    stored = {**defaults, **ckpt.split_machine_paths(ckpt.read_config(out)["train"])[0], "model": old.model.to_dict()}
    new = {**ckpt.split_machine_paths(cfg.to_dict())[0], "model": cfg.model.to_dict()}
    for d in (stored, new):  # the number of simulation workers may change, not whether they are used (other batches)
        d["sim_workers"] = d["sim_workers"] > 0
    diff = sorted(k for k in new if k not in RESUMABLE_FIELDS and new[k] != stored.get(k))
    if diff:
        raise UserError(f"cannot resume {out} with a different {', '.join(diff)} (only {', '.join(RESUMABLE_FIELDS)} may change)")


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
    device = resolve_device(config.device, int(os.environ.get("LOCAL_RANK", "0")))
    prev_threads = torch.get_num_threads()
    with process_group(device):
        try:
            pin_threads(config.num_threads or prev_threads, config.model, device)
            _check_run_dir(out, config, resume)
            barrier()  # every rank has checked the directory before rank 0 writes into it
            use_pool = config.sim_workers > 0 and not config.shards
            with SimulationPool(config.sim_workers) if use_pool else contextlib.nullcontext() as pool:
                return _run(config, out, resume, progress, device, pool)
        finally:
            torch.set_num_threads(prev_threads)


def _run(cfg: TrainConfig, out: Path, resume: bool, progress: bool, device: torch.device, pool: SimulationPool | None) -> AnDiNet:
    rank, world = rank_and_world()
    shards = ShardSet(cfg.shards) if cfg.shards else None
    window = shards.length if shards else STREAM_LENGTH  # the training length, recorded for prediction
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        for stray in out.glob(".*.tmp*"):  # temporary files of a write cut short by a kill
            stray.unlink()
        # a resumed run keeps its tuned segmenter until its weights change (the next checkpoint writes null)
        tuned = ckpt.read_config(out)["segmenter"] if resume and (out / ckpt.CONFIG).is_file() else None
        ckpt.write_config(out, cfg.model, cfg.to_dict(), window, tuned)
    torch.manual_seed(cfg.seed)
    model = AnDiNet(cfg.model).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    record = state.load_train_state(out, model, opt) if resume else None
    if record is None and cfg.init_from:
        _init_weights(model, cfg.init_from)

    val = validation_set(cfg, out) if rank == 0 else None
    if record is None:
        cw_list = None
        if rank == 0:
            counts = np.bincount(val.state[val.mask], minlength=N_STATES)
            cw_list = class_weights_from_counts(counts, cfg.loss.class_weight_power).tolist()
        cw_list = gather(cw_list)[0]
        start_epoch, start_step, step, elapsed, metrics, losses = 0, 0, 0, 0.0, [], []
    else:
        state.set_rng_state(record["rng"])
        cw_list, metrics, elapsed = record["class_weights"], record["metrics"], record["seconds"]
        start_epoch, start_step, step = record["epoch"], record["step_in_epoch"], record["step"]
        if record["world_size"] != world and start_step > 0:
            raise UserError(f"this checkpoint is mid-epoch with {record['world_size']} processes; resume with as many")
        losses = list(record["epoch_losses"][rank]) if start_step > 0 else []
        if rank == 0:
            _write_metrics(out, metrics)  # drop a row written after the checkpoint, if any
    cw = torch.tensor(cw_list, dtype=torch.float32, device=device)
    steps = cfg.steps_per_epoch or (len(shards) // (cfg.batch_size * world) if shards else 0)
    if steps <= 0:
        raise UserError(f"the shards hold {len(shards) if shards else 0} tracks, fewer than one batch per process")
    net: torch.nn.Module = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    t_start = time.perf_counter()

    def save(epoch: int, s: int) -> None:
        """Checkpoint after ``s`` steps of epoch ``epoch`` (collective: every rank calls it)."""
        all_losses, hashes = gather(losses), gather(ckpt.weights_sha256(model))
        if rank == 0:
            if len(set(hashes)) > 1:
                raise RuntimeError(f"DDP ranks diverged: weight hashes {hashes}")
            rec = {
                "epoch": epoch, "step_in_epoch": s, "step": step, "world_size": world,
                "seconds": elapsed + time.perf_counter() - t_start, "class_weights": cw_list,
                "epoch_losses": all_losses, "metrics": metrics, "rank_weight_sha256": hashes, "rng": state.get_rng_state(),
            }  # fmt: skip
            ckpt.save_model(model, out, cfg.to_dict(), window)
            state.save_train_state(out, model, opt, rec)
            _write_metrics(out, metrics)
        barrier()

    model.train()
    out_of_time = False
    for epoch in range(start_epoch, cfg.epochs):
        skip = start_step if epoch == start_epoch else 0
        if shards:
            source = shards.batches(cfg, epoch, rank, world, skip)
        elif pool is not None:
            source = pool.batches(cfg, epoch, rank, skip, window)
        else:
            source = stream_batches(cfg, epoch, rank, skip)
        bar = tqdm(total=steps, initial=skip, desc=f"epoch {epoch + 1}/{cfg.epochs}", disable=not progress or rank != 0, leave=False)
        for s in range(skip, steps):
            torch.manual_seed(int(np.random.SeedSequence([cfg.seed, epoch, s, rank]).generate_state(1)[0]))
            for group in opt.param_groups:
                group["lr"] = learning_rate(cfg, epoch * steps + s, cfg.epochs * steps)
            losses.append(train_step(net, opt, next(source), cw, cfg, device, (epoch, s)))
            step += 1
            bar.update(1)
            if cfg.log_every and step % cfg.log_every == 0:
                recent = float(np.mean(losses[-cfg.log_every :]))
                bar.set_postfix(loss=f"{recent:.4g}")
                log.debug("epoch %d step %d loss %.5g", epoch + 1, step, recent)
            if cfg.checkpoint_every and (s + 1) % cfg.checkpoint_every == 0 and s + 1 < steps:
                save(epoch, s + 1)
            if cfg.max_minutes and s + 1 < steps and _out_of_time(t_start, cfg.max_minutes, world, s):
                out_of_time = True
                if rank == 0:
                    log.info("time budget of %g min reached after step %d of epoch %d: the epoch ends here (evaluated and "
                             "checkpointed; --resume continues with epoch %d)", cfg.max_minutes, s + 1, epoch + 1, epoch + 2)
                break
        bar.close()
        train_loss = float(np.mean([np.mean(x) for x in gather(losses)]))  # same step count on every rank
        if rank == 0:
            row = {"epoch": epoch + 1, "step": step, "train_loss": train_loss, **evaluate(model, val, cw, cfg.loss, cfg.eval_batch_size)}
            row["seconds"] = elapsed + time.perf_counter() - t_start
            metrics.append(row)
            log.info("epoch %d: " + ", ".join(f"{k} %.4g" for k in METRIC_COLUMNS[2:-1]), epoch + 1, *(row[k] for k in METRIC_COLUMNS[2:-1]))
        losses = []
        save(epoch + 1, 0)
        if out_of_time:
            break
    if record is not None and start_epoch >= cfg.epochs and rank == 0:
        log.info("nothing to do: the run already completed %d epochs", start_epoch)
    return model


def _out_of_time(t_start: float, minutes: float, world: int, s: int) -> bool:
    """Whether this invocation has used its ``max_minutes`` (all ranks agree; checked every 10 steps under DDP)."""
    if world == 1:
        return time.perf_counter() - t_start > 60.0 * minutes
    if s % 10:
        return False
    return any(gather(time.perf_counter() - t_start > 60.0 * minutes))


def _init_weights(model: AnDiNet, source: str) -> None:
    """Copy the weights of a shipped model or run folder into ``model`` (same architecture, same features)."""
    from andimamba.predict import resolve_model_path

    path = resolve_model_path(source)
    theirs = ckpt.read_config(path)["model"]
    ours = model.config.to_dict()
    diff = sorted(k for k in ours if k != "scan_impl" and theirs.get(k) != ours[k])
    if diff:
        raise UserError(f"init_from={source!r}: its model differs in {', '.join(f'{k}={theirs.get(k)!r}' for k in diff)}; "
                         "train with the same architecture or leave init_from out")
    src = ckpt.load_model(path)  # refuses weights of another feature version
    model.load_state_dict(src.state_dict(), strict=True)
    log.info("initialised from %s", path)


def train_step(
    net: torch.nn.Module, opt: torch.optim.Optimizer, batch: TrackBatch, cw: torch.Tensor, cfg: TrainConfig,
    device: torch.device, where: tuple[int, int],
) -> float:  # fmt: skip
    """One Adam step on a labelled batch; returns the total loss before the step.

    Parameters
    ----------
    net : torch.nn.Module
        An :class:`AnDiNet` (or its DDP wrapper), in train mode.
    opt : torch.optim.Optimizer
    batch : TrackBatch
        Labelled tracks (cut to their longest).
    cw : Tensor, shape (4,)
        State weights of the WCE.
    cfg : TrainConfig
        Supplies the loss weights and ``grad_clip``.
    device : torch.device
    where : (int, int)
        (epoch, step), for the error message of a non-finite loss.

    Returns
    -------
    float
    """
    pos, lengths, targets, mask = batch_tensors(batch, device)
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
