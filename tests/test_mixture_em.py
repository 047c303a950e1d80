"""mixture_em.xd_em: the compiled EM iterations equal the array formulation they replaced."""

import numpy as np
import pytest

from andimamba.mixture_em import xd_em


def _em_arrays(x, s2, w, mu, tau2, pi, iters, tol, floor):
    """The extreme-deconvolution EM written with arrays (the implementation before the kernel)."""
    ll_old, ll = -np.inf, -np.inf
    for _ in range(iters):
        v = tau2[None] + s2[:, None]  # (n, k, 2)
        lp = (-0.5 * ((x[:, None] - mu[None]) ** 2 / v + np.log(2 * np.pi * v))).sum(-1) + np.log(pi)[None]
        m = lp.max(axis=1, keepdims=True)
        ll_i = m[:, 0] + np.log(np.exp(lp - m).sum(axis=1))
        r = np.exp(lp - ll_i[:, None]) * w[:, None]
        nk = r.sum(axis=0) + 1e-300
        pi = nk / nk.sum()
        b = (tau2[None] * x[:, None] + s2[:, None] * mu[None]) / v
        B = tau2[None] * s2[:, None] / v
        mu = (r[..., None] * b).sum(axis=0) / nk[:, None]
        tau2 = np.maximum((r[..., None] * ((b - mu[None]) ** 2 + B)).sum(axis=0) / nk[:, None], floor)
        ll = float((w * ll_i).sum())
        if ll - ll_old < tol:
            break
        ll_old = ll
    return mu, tau2, pi, ll


@pytest.mark.parametrize("n,k", [(1, 1), (7, 2), (400, 3), (1500, 4)])
def test_kernel_equals_the_array_em(n, k):
    rng = np.random.default_rng(n + k)
    x = np.column_stack([rng.uniform(0, 2, n), rng.normal(0, 0.5, n) + rng.integers(-2, 1, n)])
    s2 = rng.uniform(0.005, 0.2, (n, 2))
    w = rng.uniform(1, 200, n)
    w /= w.sum()
    mu0 = np.column_stack([rng.uniform(0, 2, k), rng.uniform(-2, 0, k)])
    tau20, pi0 = np.full((k, 2), 0.1), np.full(k, 1.0 / k)
    want = _em_arrays(x, s2, w, mu0, tau20, pi0, 300, 1e-6, 1e-4)
    mu, tau2, pi = mu0.copy(), tau20.copy(), pi0.copy()
    ll = xd_em(x, s2, w, mu, tau2, pi, 300, 1e-6, 1e-4)  # updates mu, tau2, pi in place
    for got, exp in zip((mu, tau2, pi, ll), want):
        np.testing.assert_allclose(got, exp, rtol=1e-9, atol=1e-12)
    assert np.all(tau2 >= 1e-4) and np.isclose(pi.sum(), 1.0)
