"""mixture_em.xd_em: the compiled EM iterations equal the array formulation they replaced (xd_em_arrays)."""

import numpy as np
import pytest

from andimamba.mixture_em import xd_em, xd_em_arrays


@pytest.mark.parametrize("n,k", [(1, 1), (7, 2), (400, 3), (1500, 4)])
def test_kernel_equals_the_array_em(n, k):
    rng = np.random.default_rng(n + k)
    x = np.column_stack([rng.uniform(0, 2, n), rng.normal(0, 0.5, n) + rng.integers(-2, 1, n)])
    s2 = rng.uniform(0.005, 0.2, (n, 2))
    w = rng.uniform(1, 200, n)
    w /= w.sum()
    mu0 = np.column_stack([rng.uniform(0, 2, k), rng.uniform(-2, 0, k)])
    tau20, pi0 = np.full((k, 2), 0.1), np.full(k, 1.0 / k)
    want = mu0.copy(), tau20.copy(), pi0.copy()
    want = (*want, xd_em_arrays(x, s2, w, *want, 300, 1e-6, 1e-4))
    mu, tau2, pi = mu0.copy(), tau20.copy(), pi0.copy()
    ll = xd_em(x, s2, w, mu, tau2, pi, 300, 1e-6, 1e-4)  # updates mu, tau2, pi in place
    for got, exp in zip((mu, tau2, pi, ll), want):
        np.testing.assert_allclose(got, exp, rtol=1e-9, atol=1e-12)
    assert np.all(tau2 >= 1e-4) and np.isclose(pi.sum(), 1.0)
