"""Training and validation data: the on-the-fly stream, stored shards, the fixed validation set.

Glossary: b = batch size (per process), l = padded length, r = rank of the process, W = world size,
e = epoch (0-based), s = step within the epoch (0-based).

On the fly: epoch e of rank r reads a fresh ``TrainingStream(b, SeedSequence([seed, e, r]))``, so every rank
sees its own tracks and a resumed run sees exactly the batches of the uninterrupted one (resuming mid-epoch
regenerates and skips the s batches already used). From shards (``shards=DIR`` of ``.npz`` written by
:func:`andimamba.sim.dataset.save_shard`): every track is loaded once; the global batch g = s·W + r of epoch e
holds positions g·b .. g·b + b - 1 of the endless concatenation of permutations k = 0, 1, ... seeded by
``SeedSequence([seed, e, k])``. Every batch is cut to its longest track.

Validation: ``n_val`` tracks simulated once from ``val_seed`` (same models and prior) and cached as
``DIR/val.npz``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from andimamba.batch import TrackBatch
from andimamba.checkpoint import DEFAULT_WINDOW
from andimamba.errors import InputNotFoundError
from andimamba.io.atomic import atomic_path
from andimamba.nn.masking import length_mask
from andimamba.sim.dataset import TrainingStream, load_shard, save_shard
from andimamba.train.config import TrainConfig

__all__ = ["STREAM_LENGTH", "VAL_FILE", "ShardSet", "stream_batches", "take_tracks", "batch_tensors", "validation_set"]

log = logging.getLogger(__name__)

STREAM_LENGTH = DEFAULT_WINDOW  # frames simulated per track on the fly (the training length, 200)
VAL_FILE = "val.npz"
_LABELS = ("positions", "alpha", "K", "state", "cp")


def take_tracks(batch: TrackBatch, idx: np.ndarray) -> TrackBatch:
    """Tracks ``idx`` of ``batch``, cut to their longest valid length (at least 1 frame)."""
    lmax = max(int(batch.lengths[idx].max()), 1)
    cut = {k: getattr(batch, k)[idx][:, :lmax] for k in _LABELS}
    return TrackBatch(lengths=batch.lengths[idx], **cut)


def batch_tensors(batch: TrackBatch, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor], torch.Tensor]:
    """A labelled batch as tensors on ``device``.

    Returns
    -------
    positions : Tensor, shape (b, l, 2), float32
    lengths : Tensor, shape (b,), int64
    targets : dict of Tensor, each (b, l)
        ``alpha``, ``K`` float32, ``state`` int64, ``cp`` float32.
    mask : Tensor, shape (b, l), bool
        True on valid frames.
    """
    t = lambda x, dt: torch.as_tensor(np.ascontiguousarray(x), dtype=dt, device=device)  # noqa: E731
    lengths = t(batch.lengths, torch.long)
    targets = {"alpha": t(batch.alpha, torch.float32), "K": t(batch.K, torch.float32), "state": t(batch.state, torch.long), "cp": t(batch.cp, torch.float32)}
    return t(batch.positions, torch.float32), lengths, targets, length_mask(lengths, batch.positions.shape[1])


class ShardSet:
    """All tracks of a directory of ``.npz`` shards, padded to one length; batches by random access.

    Parameters
    ----------
    directory : str or Path
        Folder of shards written by :func:`andimamba.sim.dataset.save_shard`.

    Attributes
    ----------
    data : TrackBatch
        Every track, padded to the longest.
    """

    def __init__(self, directory: str | Path):
        files = sorted(f for f in Path(directory).glob("*.npz") if not f.name.startswith("."))  # not a killed write's temp
        if not files:
            raise InputNotFoundError(f"no .npz shards in {directory}: give a folder written by `andimamba make-shards`")
        parts = [load_shard(f) for f in files]
        l = max(p.positions.shape[1] for p in parts)
        pad = lambda x: np.pad(x, [(0, 0), (0, l - x.shape[1])] + [(0, 0)] * (x.ndim - 2))  # noqa: E731
        cat = {k: np.concatenate([pad(getattr(p, k)) for p in parts]) for k in _LABELS}
        self.data = TrackBatch(lengths=np.concatenate([p.lengths for p in parts]), **cat)

    def __len__(self) -> int:
        return len(self.data)

    @property
    def length(self) -> int:
        """Padded length of the tracks (frames): the training length."""
        return int(self.data.positions.shape[1])

    def batches(self, cfg: TrainConfig, epoch: int, rank: int, world: int, skip: int) -> Iterator[TrackBatch]:
        """Endless batches of rank ``rank`` of ``world`` in epoch ``epoch``, from step ``skip`` on (see the module docstring)."""
        n, b = len(self), cfg.batch_size
        perms: dict[int, np.ndarray] = {}
        s = skip
        while True:
            pos = (s * world + rank) * b + np.arange(b)  # positions in the endless permutation sequence
            k, i = pos // n, pos % n
            for kk in np.unique(k):
                if kk not in perms:
                    perms[kk] = np.random.default_rng(np.random.SeedSequence([cfg.seed, epoch, int(kk)])).permutation(n)
            yield take_tracks(self.data, np.array([perms[kk][ii] for kk, ii in zip(k, i)]))
            s += 1


def stream_batches(cfg: TrainConfig, epoch: int, rank: int, skip: int) -> Iterator[TrackBatch]:
    """Endless simulated batches of rank ``rank`` in epoch ``epoch``, from step ``skip`` on (see the module docstring)."""
    seed = np.random.SeedSequence([cfg.seed, epoch, rank])
    stream = TrainingStream(cfg.batch_size, seed=seed, models=cfg.models, prior=cfg.prior, boxes_per_call=cfg.boxes_per_call,
                            pad_to=STREAM_LENGTH)
    for _ in range(skip):
        next(stream)
    for batch in stream:
        yield take_tracks(batch, np.arange(len(batch)))


def validation_set(cfg: TrainConfig, out: Path) -> TrackBatch:
    """The run's fixed validation set: ``out/val.npz``, simulated (and written atomically) the first time."""
    path = out / VAL_FILE
    if path.is_file():
        return load_shard(path)
    log.info("simulating the validation set (%d tracks, seed %d)", cfg.n_val, cfg.val_seed)
    val = next(TrainingStream(cfg.n_val, seed=cfg.val_seed, models=cfg.models, prior=cfg.prior, boxes_per_call=cfg.boxes_per_call,
                              pad_to=STREAM_LENGTH))
    with atomic_path(path) as tmp:
        save_shard(val, tmp)
    return val
