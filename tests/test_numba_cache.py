"""numba_cache.CachedKernel: on a fresh install a kernel compiles in a child process (so that it can overlap other
work) and the process loads it from numba's cache instead of compiling it itself."""

import os
import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["andimamba.io._csv_kernels", "andimamba.nn.features_numba", "andimamba.mixture_em"])
def test_load_compiles_in_a_child_and_loads_from_the_cache(module, tmp_path):
    code = (f"from {module} import KERNEL as k; k.load(); k.load(); s = k.dispatcher.stats; "
            "print(sum(s.cache_hits.values()), sum(s.cache_misses.values()))")
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["1", "0"]  # one load from the cache, no compilation in this process
    name = module.rsplit(".", 1)[1]
    assert any(tmp_path.rglob(f"*{name}*.nbi"))


class _FakeDispatcher:
    def __init__(self):
        self.compiled = []

    def compile(self, sig):
        self.compiled.append(sig)


def test_different_kernels_compile_at_the_same_time_and_one_kernel_once(monkeypatch):
    """The pipeline preloads three kernels in threads: their child compiles must overlap (a single lock
    made the first predict after an install pay their sum), while one kernel is compiled only once."""
    import threading
    import time

    from andimamba import numba_cache

    monkeypatch.setattr(numba_cache, "cached", lambda d, s: False)
    barrier = threading.Barrier(2, timeout=10)
    calls = []

    def child(name):
        def compile_child():
            calls.append(name)
            barrier.wait()  # both kernels' compiles must be running now; a shared lock times this out
            time.sleep(0.05)
        return compile_child

    a, b = _FakeDispatcher(), _FakeDispatcher()
    threads = [threading.Thread(target=numba_cache.load, args=(d, ("sig",), child(n))) for d, n in ((a, "a"), (b, "b"), (a, "a"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(calls) == ["a", "b"] and a.compiled == [("sig",)] and b.compiled == [("sig",)]
