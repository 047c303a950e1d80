"""threads: one count for torch's and numba's pools, chosen from the idle cores by default."""

import numba
import torch

from andimamba.threads import available_cores, free_cores, numba_threads, set_threads


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
