import numpy as np

from andimamba.ensemble import ensemble_from_segments


def test_two_populations_recovered_with_weights():
    rng = np.random.default_rng(0)
    a = np.concatenate([rng.normal(1.2, 0.05, 300), rng.normal(0.5, 0.05, 100)])
    K = np.concatenate([10 ** rng.normal(0, 0.05, 300), 10 ** rng.normal(-1.5, 0.05, 100)])
    m = ensemble_from_segments(a, K, np.full(400, 50))
    assert m.shape == (5, 2)
    assert np.allclose(m[0], [1.2, 0.5], atol=0.03)
    assert np.allclose(m[2], [1.0, 10**-1.5], rtol=0.1)
    assert np.allclose(m[4], [0.75, 0.25], atol=0.02) and np.isclose(m[4].sum(), 1)


def test_immobile_segments_form_their_own_zero_component():
    a = np.array([1.0, 1.1, 0.0, 0.9])
    K = np.array([1.0, 1.2, 0.0, 0.8])
    m = ensemble_from_segments(a, K, np.array([100, 100, 200, 100]))
    assert np.all(np.isfinite(m))
    assert np.allclose(m[:4, -1], 0) and np.isclose(m[4, -1], 0.4) and np.isclose(m[4].sum(), 1)
