import numpy as np
import pytest

from andimamba.sim.labels import label_filter


def _random_label(rng, n):
    # piecewise-constant sequences with short runs and a few distinct float values
    vals = rng.choice([0.3, 1.0, 1.7, 0.0], size=rng.integers(1, 5), replace=False)
    out, t = [], 0
    while t < n:
        run = int(rng.choice([1, 1, 2, 3, 4, 8, 20]))
        out += [rng.choice(vals)] * run
        t += run
    return np.array(out[:n])


def test_label_filter_equals_official_on_random_sequences():
    uc = pytest.importorskip("andi_datasets.utils_challenge")
    rng = np.random.default_rng(0)
    for _ in range(2000):
        lab = _random_label(rng, int(rng.integers(2, 40)))
        ours = label_filter(lab)
        ref = uc.label_filter(lab.copy(), window_size=5, min_seg=3)
        assert np.array_equal(ours, ref), (lab, ours, ref)


def test_label_filter_semantics_without_reference():
    # isolated one-frame blips vanish, constant labels pass through untouched
    lab = np.array([1.0] * 10 + [2.0] + [1.0] * 10)
    assert np.array_equal(label_filter(lab), np.ones(21))
    const = np.full(7, 0.5)
    assert label_filter(const) is const
    # a 2-frame first run is merged into the next run
    lab = np.array([3.0, 3.0] + [1.0] * 8)
    assert np.array_equal(label_filter(lab), np.ones(10))
