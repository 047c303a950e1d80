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


def test_em_log_likelihood_is_the_mixture_density_of_its_answer():
    """The EM's log-density (square expanded into products) equals the Gaussian mixture's, evaluated directly."""
    from andimamba.ensemble import _em

    rng = np.random.default_rng(1)
    x = np.column_stack([rng.normal(1.0, 0.3, 500), rng.normal(-0.5, 0.8, 500)])
    w = rng.integers(5, 100, 500).astype(float)
    pi, mu, var, ll = _em(x, w, 3, np.random.default_rng(0), iters=500)
    dens = (pi * np.exp(-0.5 * ((x[:, None, :] - mu) ** 2 / var).sum(-1)) / (2 * np.pi * np.sqrt(var.prod(-1)))).sum(1)
    assert np.isclose(ll, np.average(np.log(dens), weights=w), rtol=0, atol=1e-6)
