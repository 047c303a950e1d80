"""numba building blocks of the fused Mamba kernels (:mod:`andimamba.nn.mamba_numba`): vectorisable elementwise
functions and small matrix products over one work item's (rows, L) scratch arrays.

float32 versions avoid libm calls (numba has no vector exp / log1p without Intel SVML), so that the loops
calling them vectorise: exp is :func:`~andimamba.nn.scan_numba._exp_f32`, log1p an odd polynomial in
s = e / (2 + e). float64 versions call libm (they serve gradient checks, not speed). Each public-in-module
name (``_softplus``, ``_sigmoid``, ``_silu``) dispatches on the argument's dtype.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.extending import overload

from andimamba.nn.scan_numba import _ONE, _exp_f32

# error_model="numpy": a float division must not test for zero and raise, which keeps loops scalar
_JIT = dict(fastmath=True, cache=True, error_model="numpy")

_ZERO, _TWO, _THRESHOLD = np.float32(0.0), np.float32(2.0), np.float32(20.0)
# log1p(e) = 2 atanh(s) = 2 s Σ_i s^{2i} / (2i + 1) with s = e / (2 + e) ∈ [0, 1/3] for e ∈ [0, 1]; the first
# omitted term, s^14 / 15 < 1.5e-8, is below float32 rounding.
_Q3, _Q5, _Q7 = np.float32(1 / 3), np.float32(1 / 5), np.float32(1 / 7)
_Q9, _Q11, _Q13 = np.float32(1 / 9), np.float32(1 / 11), np.float32(1 / 13)


@njit(**_JIT)
def _log1p_f32(e):
    """log(1 + e) for 0 <= e <= 1 (all softplus needs), without a libm call so loops vectorise."""
    s = e / (_TWO + e)
    s2 = s * s
    p = (((((_Q13 * s2 + _Q11) * s2 + _Q9) * s2 + _Q7) * s2 + _Q5) * s2 + _Q3) * s2
    return _TWO * s + _TWO * s * p


@njit(**_JIT)
def _softplus_f32(x):
    """softplus with torch's threshold 20: log(1 + e^x) = max(x, 0) + log1p(e^-|x|), or x above 20."""
    r = max(x, _ZERO) + _log1p_f32(_exp_f32(-abs(x)))
    return x if x > _THRESHOLD else r


@njit(**_JIT)
def _softplus_f64(x):
    return x if x > 20.0 else math.log1p(math.exp(x))


@njit(**_JIT)
def _sigmoid_f32(x):
    return _ONE / (_ONE + _exp_f32(-x))


@njit(**_JIT)
def _sigmoid_f64(x):
    return 1.0 / (1.0 + math.exp(-x))


@njit(**_JIT)
def _silu_f32(x):
    return x / (_ONE + _exp_f32(-x))  # the formula of torch's silu


@njit(**_JIT)
def _silu_f64(x):
    return x / (1.0 + math.exp(-x))


def _softplus(x):  # pragma: no cover - only the numba overloads are called
    raise NotImplementedError


def _sigmoid(x):  # pragma: no cover
    raise NotImplementedError


def _silu(x):  # pragma: no cover
    raise NotImplementedError


def _by_dtype(f32, f64):
    def impl(x):
        if x == types.float32:
            return lambda x: f32(x)
        return lambda x: f64(x)

    return impl


overload(_softplus, jit_options=_JIT)(_by_dtype(_softplus_f32, _softplus_f64))
overload(_sigmoid, jit_options=_JIT)(_by_dtype(_sigmoid_f32, _sigmoid_f64))
overload(_silu, jit_options=_JIT)(_by_dtype(_silu_f32, _silu_f64))


# matrix products over (rows, L) arrays, L = a work item's steps
@njit(**_JIT)
def _matmul(W, X, out):
    """out (P, L) = W (P, Q) @ X (Q, L) as multiply-adds over the L steps, in blocks of two rows of out and four
    of X: a pass per (p, q) would load and store ``out[p]`` once per multiply-add (store-bound); measured
    here, 2 x 4 blocks ran 1.3-1.6x faster than 1 x 4 and 4 x 4 at the paper's and d_model 32's sizes."""
    npp, nq = out.shape[0], X.shape[0]
    q4 = nq - nq % 4
    zero = out.dtype.type(0)
    for p in range(0, npp - 1, 2):
        o0, o1 = out[p], out[p + 1]
        o0[:] = zero
        o1[:] = zero
        for q in range(0, q4, 4):
            x0, x1, x2, x3 = X[q], X[q + 1], X[q + 2], X[q + 3]
            a0, a1, a2, a3 = W[p, q], W[p, q + 1], W[p, q + 2], W[p, q + 3]
            b0, b1, b2, b3 = W[p + 1, q], W[p + 1, q + 1], W[p + 1, q + 2], W[p + 1, q + 3]
            for i in range(o0.shape[0]):
                v0, v1, v2, v3 = x0[i], x1[i], x2[i], x3[i]
                o0[i] += a0 * v0 + a1 * v1 + a2 * v2 + a3 * v3
                o1[i] += b0 * v0 + b1 * v1 + b2 * v2 + b3 * v3
        for q in range(q4, nq):
            xq, a, c = X[q], W[p, q], W[p + 1, q]
            for i in range(o0.shape[0]):
                o0[i] += a * xq[i]
                o1[i] += c * xq[i]
    if npp % 2:
        p = npp - 1
        o = out[p]
        o[:] = zero
        for q in range(nq):
            xq, a = X[q], W[p, q]
            for i in range(o.shape[0]):
                o[i] += a * xq[i]


@njit(**_JIT)
def _matmul_tn(W, G, out):
    """out (Q, L) = W (P, Q)ᵀ @ G (P, L): the input gradient of :func:`_matmul`."""
    _matmul(W.T, G, out)


@njit(**_JIT)
def _matmul_nt(G, X, gW):
    """gW (P, Q) += G (P, L) @ X (Q, L)ᵀ: the weight gradient of :func:`_matmul`; dot products over the L steps
    in blocks of two rows of G and four of X (eight sums per pass over the steps)."""
    npp, nq = G.shape[0], X.shape[0]
    q4 = nq - nq % 4
    zero = gW.dtype.type(0)
    for p in range(0, npp - 1, 2):
        g0, g1 = G[p], G[p + 1]
        for q in range(0, q4, 4):
            x0, x1, x2, x3 = X[q], X[q + 1], X[q + 2], X[q + 3]
            a0, a1, a2, a3, b0, b1, b2, b3 = zero, zero, zero, zero, zero, zero, zero, zero
            for i in range(g0.shape[0]):
                u, v = g0[i], g1[i]
                a0 += u * x0[i]
                a1 += u * x1[i]
                a2 += u * x2[i]
                a3 += u * x3[i]
                b0 += v * x0[i]
                b1 += v * x1[i]
                b2 += v * x2[i]
                b3 += v * x3[i]
            gW[p, q] += a0
            gW[p, q + 1] += a1
            gW[p, q + 2] += a2
            gW[p, q + 3] += a3
            gW[p + 1, q] += b0
            gW[p + 1, q + 1] += b1
            gW[p + 1, q + 2] += b2
            gW[p + 1, q + 3] += b3
        for q in range(q4, nq):
            xq = X[q]
            a0, b0 = zero, zero
            for i in range(g0.shape[0]):
                a0 += g0[i] * xq[i]
                b0 += g1[i] * xq[i]
            gW[p, q] += a0
            gW[p + 1, q] += b0
    if npp % 2:
        p = npp - 1
        gp = G[p]
        for q in range(nq):
            xq = X[q]
            acc = zero
            for i in range(gp.shape[0]):
                acc += gp[i] * xq[i]
            gW[p, q] += acc


@njit(**_JIT)
def _transpose(src, dst):
    """dst (L, P) = src (P, L)ᵀ."""
    for s in range(dst.shape[0]):
        row = dst[s]
        for p in range(row.shape[0]):
            row[p] = src[p, s]
