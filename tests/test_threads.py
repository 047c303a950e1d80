"""threads: one count for torch's and numba's pools, chosen from the idle cores by default."""

import numba
import pytest
import torch

from andimamba.threads import available_cores, free_cores, io_threads, numba_threads, set_threads


def test_free_cores_is_within_the_allowed_cores():
    n = available_cores()
    assert 1 <= free_cores(sample_s=0.05) <= n


def test_numba_follows_torch_and_starting_its_pool_keeps_torch_count():
    before = torch.get_num_threads()
    try:
        assert set_threads(1) == 1
        assert numba_threads() == 1 and numba.get_num_threads() == 1 and torch.get_num_threads() == 1
        want = min(2, numba.config.NUMBA_NUM_THREADS)
        set_threads(want)
        assert numba_threads() == want == numba.get_num_threads() and torch.get_num_threads() == want
        assert set_threads(0) >= 1  # 0: the idle cores
    finally:
        torch.set_num_threads(before)


def _fake_samples(monkeypatch, busy_jiffies, own_seconds, span=100):
    """Two /proc/stat samples of a 2-CPU machine ``span`` jiffies apart with the given busy jiffies per CPU, and
    this process having used ``own_seconds`` of CPU in between."""
    import andimamba.threads as th

    samples = iter([{"cpu0": (0, 0), "cpu1": (0, 0)}, {c: (b, span) for c, b in zip(("cpu0", "cpu1"), busy_jiffies)}])
    clock = iter([0.0, own_seconds])
    monkeypatch.setattr(th, "_cpu_times", lambda: next(samples))
    monkeypatch.setattr(th.time, "process_time", lambda: next(clock))
    monkeypatch.setattr(th.os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(th.os, "sysconf", lambda name: 100)
    monkeypatch.setattr(th.time, "sleep", lambda s: None)


@pytest.mark.parametrize("busy, own, free", [
    ((0, 0), 0.0, 2),        # idle machine
    ((100, 0), 1.0, 2),      # one core busy with this process's own work (importing torch): not load
    ((100, 0), 0.0, 1),      # one core busy with another process
    ((100, 100), 1.0, 1),    # another process and this one
    ((100, 100), 0.0, 1),    # both busy with others: still one thread
    ((30, 10), 0.0, 2),      # under half a core of scattered load
    ((40, 30), 0.0, 1),      # more than half a core
])
def test_free_cores_counts_other_processes_load_only(monkeypatch, busy, own, free):
    from andimamba.threads import free_cores

    _fake_samples(monkeypatch, busy, own)
    assert free_cores() == free


def test_io_threads_follow_torch_and_never_import_it(monkeypatch):
    import sys

    saved = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        assert io_threads() == 1
        torch.set_num_threads(2)
        assert io_threads() == 2  # set_threads's count, lowered under load, is the readers' and writers' too
    finally:
        torch.set_num_threads(saved)
    monkeypatch.delitem(sys.modules, "torch")  # a process that never imported torch (simulate, score)
    assert io_threads() == 1 and "torch" not in sys.modules
