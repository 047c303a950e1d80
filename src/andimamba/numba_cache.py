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

__all__ = ["cached", "compile_in_child"]


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
