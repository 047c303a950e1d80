"""The one owner of CPU threads: torch's intra-op pool and numba's parallel pool get the same count.

On a laptop that is busy with other work, asking for every core makes the thread pools spin against
the other processes (measured: a 1,256-track predict went from 4 s at one thread to 70 s at two
threads while one other process kept a core busy). :func:`free_cores` therefore counts the cores
that other processes leave idle (two samples of ``/proc/stat`` less this process's own CPU time, Linux;
elsewhere the CPU count minus the 1-minute load average), and :func:`set_threads` uses that count when
no number is given, sampling while torch is imported instead of waiting.
"""

from __future__ import annotations

import os
import time

__all__ = ["available_cores", "free_cores", "io_threads", "numba_threads", "set_threads"]


def available_cores() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - macOS / Windows
        return os.cpu_count() or 1


def _cpu_times() -> dict[str, tuple[int, int]]:
    """Per-CPU (busy, total) jiffies from /proc/stat."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3:4].isdigit():
                name, *vals = line.split()
                v = [int(x) for x in vals]
                idle = v[3] + (v[4] if len(v) > 4 else 0)  # idle + iowait
                out[name] = (sum(v) - idle, sum(v))
    return out


def _sample() -> tuple[float, dict[str, tuple[int, int]], float]:
    """(wall time, per-CPU (busy, total) jiffies, this process's CPU seconds) now."""
    return time.monotonic(), _cpu_times(), time.process_time()


def free_cores(sample_s: float = 0.1, start: tuple | None = None) -> int:
    """Number of this process's CPUs not kept busy by other processes right now (at least 1).

    Parameters
    ----------
    sample_s : float
        Shortest sampling interval (Linux): the busy time of the allowed CPUs between two samples of
        ``/proc/stat``, less this process's own CPU time over the interval, is what other processes used.
    start : tuple, optional
        A first sample taken earlier (``_sample()``), so that work done since (importing torch, reading
        a model) overlaps the interval instead of a sleep; this process's own work is not counted.

    Returns
    -------
    int
        The allowed CPUs minus the (rounded) number of them other processes kept busy; without
        ``/proc/stat``, the CPU count minus the rounded 1-minute load average.
    """
    n = available_cores()
    try:
        allowed = {f"cpu{i}" for i in os.sched_getaffinity(0)}
        a = start or _sample()
        wait = sample_s - (time.monotonic() - a[0])
        if wait > 0:
            time.sleep(wait)
        b = _sample()
        hz = os.sysconf("SC_CLK_TCK")
    except (AttributeError, OSError, ValueError):  # pragma: no cover - not Linux
        try:
            return max(1, min(n, n - round(os.getloadavg()[0])))
        except (AttributeError, OSError):
            return n
    cpus = allowed & a[1].keys() & b[1].keys()
    busy = sum(b[1][c][0] - a[1][c][0] for c in cpus)  # jiffies, all processes
    span = sum(b[1][c][1] - a[1][c][1] for c in cpus) / max(len(cpus), 1)  # jiffies of one CPU
    if span <= 0:
        return max(1, n)
    others = max(0.0, busy - (b[2] - a[2]) * hz) / span  # CPUs' worth of other processes' work
    return max(1, min(n, n - int(others + 0.5)))


def io_threads() -> int:
    """Threads for reading and writing tables (CSV parsing and formatting, whose inner loops release the GIL): torch's
    thread count when torch is loaded (:func:`set_threads` governs it, lowered to the free cores under load), else 1
    (reading or writing a file must not import torch)."""
    import sys

    torch = sys.modules.get("torch")
    return max(1, int(torch.get_num_threads())) if torch is not None else 1


def set_threads(n: int | None = None) -> int:
    """Give torch (and through it the numba kernels) ``n`` threads (default: :func:`free_cores`); returns ``n``.

    Parameters
    ----------
    n : int, optional
        Thread count; None or 0 picks the number of cores other processes leave idle, sampled while
        torch is imported (no waiting when it was not imported yet).
    """
    start = None
    if not n:
        try:
            start = _sample()
        except OSError:  # pragma: no cover - not Linux
            pass
    import torch

    n = int(n) if n else free_cores(start=start)
    torch.set_num_threads(n)  # the numba kernels follow torch's count at each call (numba_threads)
    return n


_POOL_STARTED = False


def numba_threads() -> int:
    """Set numba's parallel pool to torch's thread count (1 inside DataLoader workers) and return it.

    Every parallel numba kernel of :mod:`andimamba.nn` calls this first, so torch's count, set by
    :func:`set_threads`, governs both pools. Starting numba's OpenMP pool resets the process-wide
    OpenMP thread count, which silently changes torch's; the first call starts the pool on a dummy
    kernel and restores torch's count.
    """
    global _POOL_STARTED
    import numba
    import numpy as np
    import torch

    if not _POOL_STARTED:
        from andimamba.nn.scan_numba import _touch_pool

        saved = torch.get_num_threads()
        _touch_pool(np.zeros(4))
        torch.set_num_threads(saved)
        _POOL_STARTED = True
    threads = max(1, min(torch.get_num_threads(), numba.config.NUMBA_NUM_THREADS))
    numba.set_num_threads(threads)
    return threads
