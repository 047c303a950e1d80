"""numba's on-disk cache of compiled kernels: whether it holds a kernel, and filling it from a child process.

The compiled kernels (fused Mamba block, CSV writer, simulator) are compiled once per install and then
loaded from numba's cache. A kernel the cache lacks is compiled in a child process, which

- keeps this process's threads running meanwhile (numba's compiler holds the GIL), so a compile can
  overlap reading the input, and two kernels can compile at once on two cores;
- keeps bit-exact resumption of training: a process only ever runs kernels loaded from the cache
  (see :func:`andimamba.nn.mamba_fused._kernel`).

Where the cache cannot be written, the caller compiles the kernel itself, as numba would.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading

__all__ = ["CachedKernel", "cached", "compile_in_child", "load"]


def cached(dispatcher, sig) -> bool:
    """Whether numba's on-disk cache holds ``dispatcher`` compiled for ``sig`` (read from its index)."""
    try:  # numba internals, read only; if they change, compile here as numba would
        cache = dispatcher._cache
        return cache._index_key(sig, dispatcher.targetctx.codegen()) in cache._cache_file._load_index()
    except Exception:  # noqa: BLE001
        return True


def compile_in_child(code: str, *args: str) -> None:
    """Run ``python -c code args...`` with this process's import path and wait for it (the code compiles and
    caches a kernel; its failure only means the caller compiles)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, check=False)


_GUARD = threading.Lock()  # guards _LOCKS
_LOCKS: dict = {}  # one lock per (kernel, signature): a pipeline preloads several kernels in threads at once
_LOADED: set = set()


def _lock(key) -> threading.Lock:
    with _GUARD:
        return _LOCKS.setdefault(key, threading.Lock())


def load(dispatcher, sig, compile_child) -> None:
    """Have ``dispatcher`` compiled for ``sig`` as numba's on-disk cache holds it: on a cache miss,
    ``compile_child()`` first compiles and caches it in a child process; then this process loads it.

    Thread-safe and idempotent: a second caller of the same kernel waits for a load in progress instead of
    compiling again, while different kernels load at the same time (their child compiles run side by side on
    separate cores: the first ``predict`` after an install compiles three; ``benchmarks/bench_startup.py``).
    """
    key = (id(dispatcher), sig)
    if key in _LOADED:
        return
    with _lock(key):
        if key in _LOADED:
            return
        if not cached(dispatcher, sig):
            compile_child()
        dispatcher.compile(sig)  # loads from the cache (compiles here only where it cannot be written)
        _LOADED.add(key)


class CachedKernel:
    """A numba kernel that is loaded from numba's cache, compiled first in a child process on a cache miss.

    Parameters
    ----------
    dispatcher : numba dispatcher
        The ``@njit(cache=True)`` function.
    example_args : callable
        Returns arguments of exactly the types the callers pass (dtype, dimensions, layout, writability).
    module : str
        Importable module holding this object as ``KERNEL`` (the child imports it and runs the kernel once).

    :meth:`load` is thread-safe and idempotent (:func:`load`): a pipeline starts it in a background thread while
    it reads its input, and the caller calls it again before running the kernel.
    """

    def __init__(self, dispatcher, example_args, module: str):
        self.dispatcher, self.example_args, self.module = dispatcher, example_args, module

    def load(self) -> None:
        import numba

        sig = tuple(numba.typeof(a) for a in self.example_args())
        code = f"from {self.module} import KERNEL as k; k.dispatcher(*k.example_args())"
        load(self.dispatcher, sig, lambda: compile_in_child(code))
