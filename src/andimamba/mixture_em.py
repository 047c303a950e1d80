"""Compiled extreme-deconvolution EM for :func:`andimamba.pooling.fit_mixture`.

The EM of a diagonal Gaussian mixture over noisy 2-D points (Bovy et al. 2011, "extreme deconvolution"), as
loops: numpy's version spent its time in the overhead of ~20 small array operations per iteration (about 1 ms
per iteration on 2,000 segments, and fits take a few hundred iterations), which made pooling the largest cost of
``predict`` on AnDi-2 folders of many experiments and of ``tune-segmenter``'s pooled scoring.

Glossary: n points, k components, d = 2 dimensions (α, log₁₀K). For point i and component c, with
v = τ²_c + s²_i (per dimension):

    log p_ic  = log π_c + Σ_d −½ ((x_id − μ_cd)² / v + log 2πv)
    r_ic      = w_i p_ic / Σ_c p_ic                      weighted responsibility
    b_icd     = (τ²_cd x_id + s²_id μ_cd) / v            posterior mean of the point's true value
    B_icd     = τ²_cd s²_id / v                          its posterior variance
    π_c ∝ Σ_i r_ic,   μ_c = Σ_i r_ic b_ic / Σ_i r_ic,   τ²_c = Σ_i r_ic ((b_ic − μ_c)² + B_ic) / Σ_i r_ic

Compiled once per install (cache) in a child process, behind the other kernels of ``predict``
(:meth:`andimamba.predict.Predictor.preload`).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .numba_cache import CachedKernel

__all__ = ["xd_em", "xd_em_arrays", "preload"]

_JIT = dict(cache=True, nogil=True, error_model="numpy")


@njit(**_JIT)
def xd_em(x, s2, w, mu, tau2, pi, iters, tol, var_floor):
    """Run up to ``iters`` EM iterations in place on ``mu`` (k, 2), ``tau2`` (k, 2), ``pi`` (k,), starting from their
    values; x, s2 (n, 2), w (n,) summing to 1. Stops after the iteration whose weighted mean log-likelihood (of the
    parameters it started from) gained less than ``tol``; returns that log-likelihood. The same arithmetic as the
    array version it replaces (:func:`xd_em_arrays`), up to the order of floating-point sums; b and v are recomputed
    in the variance pass rather than stored as (n, k, 2) arrays."""
    n, d = x.shape
    k = pi.shape[0]
    r = np.empty((n, k))
    lp, ex, base = np.empty(k), np.empty(k), np.empty(k)
    nk = np.empty(k)
    sb = np.empty((k, d))
    old_mu, old_tau2 = np.empty((k, d)), np.empty((k, d))
    log2pi = math.log(2.0 * math.pi)
    ll_old = -np.inf
    ll = -np.inf
    for _ in range(iters):
        ll = 0.0
        for c in range(k):  # element loops, not slice assignments: they take numba seconds longer to compile
            base[c] = math.log(pi[c]) - 0.5 * d * log2pi
            nk[c] = 0.0
            for j in range(d):
                old_mu[c, j], old_tau2[c, j], sb[c, j] = mu[c, j], tau2[c, j], 0.0
        for i in range(n):  # E-step, and the sums of the mean update
            m = -np.inf
            for c in range(k):
                q, prod = 0.0, 1.0
                for j in range(d):
                    v = old_tau2[c, j] + s2[i, j]
                    e = x[i, j] - old_mu[c, j]
                    q += e * e / v
                    prod *= v
                lp[c] = base[c] - 0.5 * (q + math.log(prod))  # one log per component, not one per dimension
                m = max(m, lp[c])
            tot = 0.0
            for c in range(k):
                ex[c] = math.exp(lp[c] - m)
                tot += ex[c]
            ll += w[i] * (m + math.log(tot))
            for c in range(k):
                rc = ex[c] / tot * w[i]  # = exp(lp_c − ll_i) w_i, with the exponentials already taken
                r[i, c] = rc
                nk[c] += rc
                for j in range(d):
                    v = old_tau2[c, j] + s2[i, j]
                    sb[c, j] += rc * (old_tau2[c, j] * x[i, j] + s2[i, j] * old_mu[c, j]) / v
        total = 0.0
        for c in range(k):
            nk[c] += 1e-300
            total += nk[c]
        for c in range(k):
            pi[c] = nk[c] / total
            for j in range(d):
                mu[c, j] = sb[c, j] / nk[c]
        for c in range(k):  # the variance update, around the new means
            for j in range(d):
                acc = 0.0
                for i in range(n):
                    v = old_tau2[c, j] + s2[i, j]
                    b = (old_tau2[c, j] * x[i, j] + s2[i, j] * old_mu[c, j]) / v
                    e = b - mu[c, j]
                    acc += r[i, c] * (e * e + old_tau2[c, j] * s2[i, j] / v)
                tau2[c, j] = max(acc / nk[c], var_floor)
        if ll - ll_old < tol:
            break
        ll_old = ll
    return ll


def xd_em_arrays(x, s2, w, mu, tau2, pi, iters, tol, var_floor):
    """:func:`xd_em` written with numpy arrays (the implementation the kernel replaced): the reference it is tested
    against and timed against (``benchmarks/bench_pooling_speed.py``). Same arguments and in-place updates."""
    ll_old, ll = -np.inf, -np.inf
    m0, t0, p0 = mu, tau2, pi
    for _ in range(iters):
        v = tau2[None] + s2[:, None]  # (n, k, 2)
        lp = (-0.5 * ((x[:, None] - mu[None]) ** 2 / v + np.log(2 * np.pi * v))).sum(-1) + np.log(pi)[None]  # (n, k)
        m = lp.max(axis=1, keepdims=True)
        ll_i = m[:, 0] + np.log(np.exp(lp - m).sum(axis=1))  # (n,)
        r = np.exp(lp - ll_i[:, None]) * w[:, None]  # (n, k)
        nk = r.sum(axis=0) + 1e-300
        pi = nk / nk.sum()
        b = (tau2[None] * x[:, None] + s2[:, None] * mu[None]) / v  # (n, k, 2)
        B = tau2[None] * s2[:, None] / v  # (n, k, 2)
        mu = (r[..., None] * b).sum(axis=0) / nk[:, None]
        tau2 = np.maximum((r[..., None] * ((b - mu[None]) ** 2 + B)).sum(axis=0) / nk[:, None], var_floor)
        ll = float((w * ll_i).sum())
        if ll - ll_old < tol:
            break
        ll_old = ll
    m0[:], t0[:], p0[:] = mu, tau2, pi
    return ll


def _example_args() -> tuple:
    """Arguments of the types :func:`andimamba.pooling._xd_em` passes."""
    two = np.zeros((1, 2))
    return (two, two + 1.0, np.ones(1), two.copy(), two + 1.0, np.ones(1), 1, 1e-4, 1e-4)


KERNEL = CachedKernel(xd_em, _example_args, __name__)
preload = KERNEL.load  # compiled in a child process once per install, then loaded from numba's cache
