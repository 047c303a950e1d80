"""numba_cache.CachedKernel: on a fresh install a kernel compiles in a child process (so that it can overlap other
work) and the process loads it from numba's cache instead of compiling it itself."""

import os
import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["andimamba.io._csv_kernels", "andimamba.nn.features_numba"])
def test_load_compiles_in_a_child_and_loads_from_the_cache(module, tmp_path):
    code = (f"from {module} import KERNEL as k; k.load(); k.load(); s = k.dispatcher.stats; "
            "print(sum(s.cache_hits.values()), sum(s.cache_misses.values()))")
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["1", "0"]  # one load from the cache, no compilation in this process
    name = module.rsplit(".", 1)[1]
    assert any(tmp_path.rglob(f"*{name}*.nbi"))
