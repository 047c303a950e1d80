"""On-the-fly training data simulated in worker processes (``TrainConfig.sim_workers`` > 0).

A GPU trains a batch far faster than one CPU process simulates it; this pool keeps the accelerator fed.

Glossary: b = batch size, e = epoch (0-based), r = rank, s = step within the epoch, C = ``CHUNK``.

Determinism: the steps of epoch e of rank r are cut into chunks of C consecutive steps; chunk k is simulated
by a fresh ``TrainingStream(b, SeedSequence([seed, e, r, k, 1]))`` (the trailing 1 keeps these streams apart
from the in-process stream of ``sim_workers = 0``), whichever worker runs it. The batches therefore depend
on the seed only, not on the number of workers or on their timing, and a resumed run regenerates the chunk
it stopped in and skips its used steps. They differ from the batches of ``sim_workers = 0`` (one stream per
epoch), so a run keeps one mode from start to resume for an exact resume.

Threads: each worker runs one thread (numba, OpenMP and MKL pools set to 1 before the worker imports
anything), so that ``sim_workers`` processes use ``sim_workers`` cores and leave the rest to training.
"""

from __future__ import annotations

import collections
import multiprocessing as mp
import os
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from andimamba.batch import TrackBatch

__all__ = ["CHUNK", "SimulationPool", "simulate_chunk"]

CHUNK = 8  # consecutive steps simulated from one seed by one worker
_ONE_THREAD = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def simulate_chunk(batch_size: int, entropy: tuple[int, ...], models: tuple[str, ...], prior: str, boxes_per_call: int,
                   length: int, skip: int = 0) -> list[TrackBatch]:
    """The ``CHUNK`` batches of one chunk (after the first ``skip``), each cut to its longest track.

    Parameters
    ----------
    batch_size : int
        b, tracks per batch.
    entropy : tuple of int
        The chunk's seed, ``(seed, e, r, k, 1)``.
    models, prior, boxes_per_call
        As in :class:`andimamba.sim.dataset.TrainingStream`.
    length : int
        Simulated frames per track (the training length).
    skip : int
        Leading batches of the chunk not returned (resume mid-chunk).

    Returns
    -------
    list of TrackBatch
        ``CHUNK - skip`` batches.
    """
    from andimamba.sim.dataset import TrainingStream
    from andimamba.train.data import take_tracks

    stream = TrainingStream(batch_size, seed=np.random.SeedSequence(list(entropy)), models=models, prior=prior,
                            boxes_per_call=boxes_per_call, pad_to=length)
    out = [next(stream) for _ in range(CHUNK)]
    return [take_tracks(b, np.arange(len(b))) for b in out[skip:]]


@contextmanager
def _environment(values: dict[str, str]):
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class SimulationPool:
    """Worker processes that simulate training batches ahead of the training loop.

    Parameters
    ----------
    workers : int
        Processes (each one thread).
    prefetch : int, optional
        Chunks in flight (default ``workers + 1``).

    Notes
    -----
    Use as a context manager; the workers are started with the ``spawn`` method (safe after CUDA was
    initialised in the parent) and terminated on exit.
    """

    def __init__(self, workers: int, prefetch: int | None = None):
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = int(workers)
        self.prefetch = int(prefetch or workers + 1)
        with _environment(_ONE_THREAD):  # children inherit the environment at spawn time
            self._pool = mp.get_context("spawn").Pool(self.workers)

    def __enter__(self) -> SimulationPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers (pending chunks are dropped)."""
        self._pool.terminate()
        self._pool.join()

    def batches(self, cfg, epoch: int, rank: int, skip: int, length: int) -> Iterator[TrackBatch]:
        """Endless batches of rank ``rank`` in epoch ``epoch``, from step ``skip`` on (module docstring).

        Parameters
        ----------
        cfg : TrainConfig
            Batch size, seed, models, prior, boxes per call.
        epoch, rank, skip : int
        length : int
            Simulated frames per track.
        """
        k0, first = divmod(skip, CHUNK)
        pending: collections.deque = collections.deque()
        k = k0

        def submit() -> None:
            nonlocal k
            args = (cfg.batch_size, (cfg.seed, epoch, rank, k, 1), tuple(cfg.models), cfg.prior, cfg.boxes_per_call, length,
                    first if k == k0 else 0)
            pending.append(self._pool.apply_async(simulate_chunk, args))
            k += 1

        while True:
            while len(pending) < self.prefetch:
                submit()
            yield from pending.popleft().get()
