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


def _serve(conn) -> None:
    """Worker loop: receive ``(task_id, args)``, answer ``(task_id, batches, None)`` or ``(task_id, None, traceback)``;
    ``None`` ends it. Ctrl-C is left to the parent, which kills the workers (no traceback from each of them)."""
    import signal
    import traceback

    signal.signal(signal.SIGINT, signal.SIG_IGN)

    while True:
        msg = conn.recv()
        if msg is None:
            return
        task_id, args = msg
        try:
            conn.send((task_id, simulate_chunk(*args), None))
        except Exception:  # noqa: BLE001 - sent to the parent, which raises it
            conn.send((task_id, None, traceback.format_exc()))


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
    initialised in the parent) and killed on exit. Each worker has its own pipe and runs its chunks in the
    order they were sent, so no lock is shared between processes: a worker that dies (killed for memory,
    crashed) is reported as an error instead of a training run waiting forever for its chunk, and closing
    the pool cannot wait on a lock a worker held (``multiprocessing.Pool.terminate`` can).
    One stream of :meth:`batches` is read at a time: starting one abandons the previous one's chunks.
    """

    POLL_S = 1.0  # how often a wait for a chunk checks that its worker is alive

    def __init__(self, workers: int, prefetch: int | None = None):
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = int(workers)
        self.prefetch = int(prefetch or workers + 1)
        ctx = mp.get_context("spawn")
        self._conns, self._procs = [], []
        self._queued: list[collections.deque] = []  # per worker: ids of the tasks sent, in order
        self._next_id, self._stream = 0, 0
        with _environment(_ONE_THREAD):  # children inherit the environment at spawn time
            for _ in range(self.workers):
                here, there = ctx.Pipe()
                proc = ctx.Process(target=_serve, args=(there,), daemon=True)
                proc.start()
                there.close()
                self._conns.append(here)
                self._procs.append(proc)
                self._queued.append(collections.deque())

    def __enter__(self) -> SimulationPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers (pending chunks are dropped)."""
        for proc in self._procs:
            proc.kill()
        for proc, conn in zip(self._procs, self._conns):
            proc.join()
            conn.close()
        self._procs, self._conns = [], []

    def _submit(self, args: tuple) -> tuple[int, int]:
        w = min(range(self.workers), key=lambda i: len(self._queued[i]))  # the least busy worker
        task_id, self._next_id = self._next_id, self._next_id + 1
        try:
            self._conns[w].send((task_id, args))
        except OSError:  # its end of the pipe closed
            raise self._died(w) from None
        self._queued[w].append(task_id)
        return w, task_id

    def _died(self, w: int) -> RuntimeError:
        proc = self._procs[w]
        proc.join(self.POLL_S)
        return RuntimeError(f"simulation worker {w} (pid {proc.pid}) died with exit code {proc.exitcode} while simulating "
                            "training data; resume the run with --resume (fewer --sim-workers if it ran out of memory)")

    def _result(self, w: int, task_id: int) -> list[TrackBatch]:
        """Wait for task ``task_id`` of worker ``w``; results of abandoned tasks sent before it are dropped."""
        conn, proc = self._conns[w], self._procs[w]
        while True:
            try:
                while not conn.poll(self.POLL_S):
                    if not proc.is_alive():
                        raise self._died(w)
                got, batches, error = conn.recv()
            except (OSError, EOFError):
                raise self._died(w) from None
            self._queued[w].popleft()
            if error is not None and got == task_id:
                raise RuntimeError(f"simulation worker {w} failed:\n{error}")
            if got == task_id:
                return batches

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
        self._stream += 1
        stream = self._stream
        k0, first = divmod(skip, CHUNK)
        pending: collections.deque = collections.deque()  # (worker, task id) in chunk order
        k = k0
        while True:
            if stream != self._stream:
                raise RuntimeError("this stream of batches was abandoned: another batches() call started after it")
            while len(pending) < self.prefetch:
                args = (cfg.batch_size, (cfg.seed, epoch, rank, k, 1), tuple(cfg.models), cfg.prior, cfg.boxes_per_call,
                        length, first if k == k0 else 0)
                pending.append(self._submit(args))
                k += 1
            yield from self._result(*pending.popleft())
