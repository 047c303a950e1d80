"""Simulation workers: batches that depend on the seed only (not on the number of workers), exact skips for
resume, and the time budget of a run."""

import csv
from types import SimpleNamespace

import numpy as np
import pytest

from andimamba.errors import UserError
from andimamba.nn.model import tiny
from andimamba.train import TrainConfig, train
from andimamba.train.workers import CHUNK, SimulationPool, simulate_chunk


def _cfg(**kw):
    base = dict(model=tiny("bimamba"), batch_size=8, epochs=2, steps_per_epoch=3, n_val=64, num_threads=1,
                boxes_per_call=2, seed=3, val_seed=5)  # fmt: skip
    return TrainConfig(**{**base, **kw})


def _take(it, n):
    return [next(it) for _ in range(n)]


def _same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.lengths, y.lengths)
        np.testing.assert_array_equal(x.positions, y.positions)
        np.testing.assert_array_equal(x.state, y.state)


def test_chunk_is_seeded_and_skips_exactly():
    args = (8, (3, 0, 0, 0, 1), ("single_state", "confinement"), "broad", 2, 50)
    full = simulate_chunk(*args)
    assert len(full) == CHUNK and all(len(b.lengths) == 8 for b in full)
    _same(simulate_chunk(*args, skip=3), full[3:])
    other = simulate_chunk(8, (3, 0, 0, 1, 1), *args[2:])  # the next chunk: other tracks
    assert not np.array_equal(other[0].positions, full[0].positions)


def test_batches_do_not_depend_on_the_number_of_workers_and_resume_mid_chunk():
    cfg = _cfg(models=("single_state",))
    n = CHUNK + 3  # crosses a chunk boundary
    with SimulationPool(1) as one:
        a = _take(one.batches(cfg, epoch=1, rank=0, skip=0, length=40), n)
    with SimulationPool(2, prefetch=4) as two:
        b = _take(two.batches(cfg, epoch=1, rank=0, skip=0, length=40), n)
        c = _take(two.batches(cfg, epoch=1, rank=0, skip=5, length=40), n - 5)  # a resume at step 5
        d = _take(two.batches(cfg, epoch=2, rank=0, skip=0, length=40), 1)
    _same(a, b)
    _same(c, a[5:])
    assert not np.array_equal(d[0].positions, a[0].positions)  # another epoch, other tracks


def test_a_dead_or_failing_worker_is_an_error_not_a_hang():
    cfg = _cfg(models=("single_state",))
    with SimulationPool(1) as pool:
        pool._procs[0].kill()  # as the kernel's OOM killer would
        with pytest.raises(RuntimeError, match=r"worker 0 \(pid \d+\) died .*--resume"):
            next(pool.batches(cfg, epoch=0, rank=0, skip=0, length=40))
    with SimulationPool(1) as pool:
        with pytest.raises(RuntimeError, match="prior"):  # the worker's own exception, with its traceback
            bad = SimpleNamespace(batch_size=8, seed=3, models=("single_state",), prior="nope", boxes_per_call=2)
            next(pool.batches(bad, epoch=0, rank=0, skip=0, length=40))


def test_ctrl_c_is_left_to_the_parent():
    import os
    import signal

    cfg = _cfg(models=("single_state",))
    with SimulationPool(1) as pool:
        it = pool.batches(cfg, epoch=0, rank=0, skip=0, length=40)
        next(it)  # the worker is up and has set its handlers
        os.kill(pool._procs[0].pid, signal.SIGINT)  # what a terminal's Ctrl-C sends the whole process group
        assert len(_take(it, CHUNK)) == CHUNK and pool._procs[0].is_alive()


def test_an_abandoned_stream_neither_blocks_the_next_nor_gives_it_its_batches():
    cfg = _cfg(models=("single_state",))
    with SimulationPool(1, prefetch=3) as pool:
        old = pool.batches(cfg, epoch=0, rank=0, skip=0, length=40)
        next(old)  # three chunks in flight, two of them never read
        new = _take(pool.batches(cfg, epoch=1, rank=0, skip=0, length=40), CHUNK + 1)
        with pytest.raises(RuntimeError, match="abandoned"):
            _take(old, CHUNK)  # the rest of its first chunk, then its next chunk would be needed
    with SimulationPool(1) as ref:
        _same(new, _take(ref.batches(cfg, epoch=1, rank=0, skip=0, length=40), CHUNK + 1))


def test_bad_settings_are_user_errors():
    with pytest.raises(UserError, match="sim_workers"):
        _cfg(sim_workers=-1)
    with pytest.raises(UserError, match="max_minutes"):
        _cfg(max_minutes=float("nan"))
    with pytest.raises(ValueError, match="workers"):
        SimulationPool(0)


def test_time_budget_ends_the_epoch_and_resume_goes_on(tmp_path):
    out = tmp_path / "run"
    train(_cfg(max_minutes=1e-9, steps_per_epoch=5), out, progress=False)  # past the budget after the first step
    rows = list(csv.DictReader(open(out / "metrics.csv")))
    assert [(r["epoch"], r["step"]) for r in rows] == [("1", "1")]
    train(_cfg(steps_per_epoch=5), out, resume=True, progress=False)  # no budget: the next epoch, whole
    rows = list(csv.DictReader(open(out / "metrics.csv")))
    assert [(r["epoch"], r["step"]) for r in rows] == [("1", "1"), ("2", "6")]


def test_a_run_with_workers_trains_and_resumes_with_another_count(tmp_path):
    out = tmp_path / "run"
    train(_cfg(sim_workers=2, epochs=1), out, progress=False)
    train(_cfg(sim_workers=1, epochs=2), out, resume=True, progress=False)
    rows = list(csv.DictReader(open(out / "metrics.csv")))
    assert [r["epoch"] for r in rows] == ["1", "2"] and all(np.isfinite(float(r["train_loss"])) for r in rows)
    with pytest.raises(UserError, match="sim_workers"):  # switching to the in-process stream changes the data
        train(_cfg(sim_workers=0, epochs=3), out, resume=True, progress=False)
