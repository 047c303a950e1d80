"""Fused CPU selective scan: numba forward and backward kernels behind a ``torch.autograd.Function``.

Imported lazily by :func:`andimamba.nn.scan.scan_fused` (importing numba takes ~0.5 s; the kernels compile
once, 10–30 s for all of them, and are then cached on disk by ``cache=True``).

Glossary (as in :mod:`andimamba.nn.scan`): b batch, l sequence length, d channels (d_inner), n state size
(d_state), Δ ``delta`` step sizes, A decay rates (``(d, n)`` Mamba-1, or ``(d,)`` per-channel decay),
B / C input / output projections, D skip, h hidden state. A work item is one batch element and a group of
w contiguous channels; its state h is an ``(n, w)`` array.

What it does differently from the reference (and why):

* Never materialises a ``(b, l, d, n)`` tensor: exp(Δ·A) is computed inside the time loop.
* The innermost loop runs over the w channels of a group, with the n states one loop out. d (64–256) is
  longer than n (4–16), and these rows are contiguous in the (b, l, d) inputs, so LLVM fills its SIMD lanes;
  measured here (b 128, l 200, d 64, 1 thread), the innermost-n layout was 1.2–4x slower forward and 5x
  slower backward, its per-step overhead not being amortised over 16 states.
* numba has no vector exp without Intel SVML, so float32 uses :func:`_exp_f32`, a Cephes-style exp
  (range reduction + degree-6 polynomial + exponent bit trick, ~1 ulp) that LLVM can vectorise. float64
  keeps ``math.exp``: the float64 kernels are for gradient checks, not speed.
* The forward saves only its inputs. The backward recomputes h_t and exp(Δ_t·A) per work item into
  ``(l, n, w)`` scratch buffers (~1.6 MB at l 200, n 16, w 64), then runs the adjoint recurrence backwards.
* dL/dB and dL/dC sum over d; each channel group writes its own partial sum, reduced afterwards in PyTorch.
  There is one group per batch element unless b is smaller than the thread count.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import torch
from llvmlite import ir
from numba import njit, prange, types
from numba.extending import intrinsic, overload

from andimamba.threads import numba_threads

_JIT = dict(fastmath=True, cache=True)

# Cephes expf constants, float32 module globals so numba types them as float32 constants.
_LOG2E = np.float32(1.44269504088896341)
_LN2_HI = np.float32(0.693359375)
_LN2_LO = np.float32(-2.12194440e-4)
_X_MIN = np.float32(-87.3365447)  # exp(_X_MIN) = 2**-126, the smallest normal float32
_X_MAX = np.float32(88.3762626)
_P0, _P1, _P2 = np.float32(1.9875691500e-4), np.float32(1.3981999507e-3), np.float32(8.3334519073e-3)
_P3, _P4, _P5 = np.float32(4.1665795894e-2), np.float32(1.6666665459e-1), np.float32(5.0000001201e-1)
_HALF, _ONE = np.float32(0.5), np.float32(1.0)


@intrinsic
def _bits_to_f32(typingctx, bits):
    """Reinterpret an int32 as float32 (what ``np.int32(...).view(np.float32)`` would do on a scalar)."""
    sig = types.float32(types.int32)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())

    return sig, codegen


@njit(**_JIT)
def _exp_f32(x):
    """exp for float32 without a libm call, so that loops over it vectorise (Cephes ``expf``).

    Inputs below -87.34 return 2**-126 ≈ 1.2e-38 instead of a subnormal or 0: a harmless decay factor.
    """
    x = min(max(x, _X_MIN), _X_MAX)
    k = np.floor(x * _LOG2E + _HALF)  # float32; exp(x) = 2**k * exp(r), |r| <= ln2 / 2
    r = x - k * _LN2_HI - k * _LN2_LO
    p = ((((_P0 * r + _P1) * r + _P2) * r + _P3) * r + _P4) * r + _P5
    p = p * r * r + r + _ONE
    return p * _bits_to_f32((np.int32(k) + np.int32(127)) << np.int32(23))


# 2**t: a degree-6 polynomial fitted to 2**f on [-1/2, 1/2] (relative error 0.8 ulp in float32 evaluation).
_Q0, _Q1, _Q2, _Q3 = np.float32(1.0), np.float32(0.6931471824645996), np.float32(0.24022646248340607), np.float32(0.05550328642129898)
_Q4, _Q5, _Q6 = np.float32(0.009618489071726799), np.float32(0.0013399930903688073), np.float32(0.00015345810970757157)
_T_MIN, _T_MAX = np.float32(-126.0), np.float32(127.0)


@njit(**_JIT)
def _exp2_f32(t):
    """2**t for float32 without a libm call (vectorises): exp(x) as 2**(x log₂e) where log₂e is folded into a
    factor computed once (the scan's decay rates), so a call costs 13 operations against :func:`_exp_f32`'s 19
    (no multiply by log₂e, no two-part ln 2 reduction). The rounding of that product makes the relative error
    grow as |t| ε, as the rounding of Δ·A already does for exp(Δ·A); t below -126 gives 2**-126.
    """
    t = min(max(t, _T_MIN), _T_MAX)
    k = np.floor(t + _HALF)  # 2**t = 2**k * 2**f, |f| <= 1/2
    f = t - k
    p = (((((_Q6 * f + _Q5) * f + _Q4) * f + _Q3) * f + _Q2) * f + _Q1) * f + _Q0
    return p * _bits_to_f32((np.int32(k) + np.int32(127)) << np.int32(23))


def _exp2(t):  # pragma: no cover - only the numba overload below is ever called
    return 2.0**t


@overload(_exp2, jit_options=_JIT)
def _exp2_overload(t):
    if t == types.float32:
        return lambda t: _exp2_f32(t)
    return lambda t: math.exp(t * 0.6931471805599453)


def _exp(x):  # pragma: no cover - only the numba overload below is ever called
    return math.exp(x)


@overload(_exp, jit_options=_JIT)
def _exp_overload(x):
    if x == types.float32:
        return lambda x: _exp_f32(x)
    return lambda x: math.exp(x)


# Kernels. Shapes: u, Δ, y (b, l, d); At (n, d) = Aᵀ, or A (d,) for a per-channel decay; B, C (b, l, n);
# D (d,); work item i = (batch b, group g) covers channels [g w, min((g + 1) w, d)).
# Row views (u[b, t, d0:d1], h[k], ...) are C-contiguous 1-D arrays, which keeps the j-loops vectorisable.


@njit(parallel=True, **_JIT)
def _fwd(u, delta, At, B, C, D, y, w):
    """y_t = <C_t, h_t> + D u_t with h_t = exp(Δ_t A) h_{t-1} + Δ_t B_t u_t (A (d, n), as Aᵀ (n, d))."""
    nb, nl, nd = u.shape
    nn, ng = At.shape[0], -(-nd // w)
    for i in prange(nb * ng):
        b, d0 = i // ng, (i % ng) * w
        d1 = min(d0 + w, nd)
        h = np.zeros((nn, d1 - d0), u.dtype)  # (n, w)
        for t in range(nl):
            ut, dt, yt, Dg = u[b, t, d0:d1], delta[b, t, d0:d1], y[b, t, d0:d1], D[d0:d1]  # (w,)
            for j in range(d1 - d0):
                yt[j] = Dg[j] * ut[j]
            for k in range(nn):
                bk, ck, hk, ak = B[b, t, k], C[b, t, k], h[k], At[k, d0:d1]
                for j in range(d1 - d0):
                    hk[j] = _exp(dt[j] * ak[j]) * hk[j] + dt[j] * ut[j] * bk
                    yt[j] += ck * hk[j]


@njit(parallel=True, **_JIT)
def _bwd(u, delta, At, B, C, D, gy, gu, gdelta, gAt, gB, gC, gD, w):
    """Adjoint of :func:`_fwd`; with gh_t = dL/dh_t = gy_t C_t + exp(Δ_{t+1} A) gh_{t+1} (backwards in t):

    dL/dΔ_t = Σ_n gh_t h_{t-1} exp(Δ_t A) A + u_t Σ_n gh_t B_t,  dL/du_t = Δ_t Σ_n gh_t B_t + gy_t D,
    dL/dA += Δ_t gh_t h_{t-1} exp(Δ_t A),  dL/dB_t = Σ_d gh_t Δ_t u_t,  dL/dC_t = Σ_d gy_t h_t.
    gAt (b, n, d) and gD (b, d) are per-batch partials, gB and gC (b, groups, l, n) per-group partials.
    """
    nb, nl, nd = u.shape
    nn, ng = At.shape[0], gB.shape[1]
    zero = u.dtype.type(0)
    for i in prange(nb * ng):
        b, g = i // ng, i % ng
        d0 = g * w
        d1 = min(d0 + w, nd)
        H = np.zeros((nl + 1, nn, d1 - d0), u.dtype)  # (l + 1, n, w): H[t + 1] = h_t, H[0] = 0
        dA = np.empty((nl, nn, d1 - d0), u.dtype)  # (l, n, w): exp(Δ_t A)
        h, gh, gA = np.zeros((3, nn, d1 - d0), u.dtype)  # each (n, w)
        sd, su, gDg = np.zeros((3, d1 - d0), u.dtype)  # each (w,)
        Dg = D[d0:d1]
        for t in range(nl):  # recompute the forward
            ut, dt = u[b, t, d0:d1], delta[b, t, d0:d1]
            for k in range(nn):
                bk, hk, ak, dAk, Hk = B[b, t, k], h[k], At[k, d0:d1], dA[t, k], H[t + 1, k]
                for j in range(d1 - d0):
                    dAk[j] = _exp(dt[j] * ak[j])
                    hk[j] = dAk[j] * hk[j] + dt[j] * ut[j] * bk
                    Hk[j] = hk[j]
        for t in range(nl - 1, -1, -1):
            go, ut, dt = gy[b, t, d0:d1], u[b, t, d0:d1], delta[b, t, d0:d1]
            sd[:] = zero  # Σ_n gh_t h_{t-1} exp(Δ_t A) A
            su[:] = zero  # Σ_n gh_t B_t
            for k in range(nn):
                bk, ck, ak = B[b, t, k], C[b, t, k], At[k, d0:d1]
                ghk, gAk, hn, hp, dAk = gh[k], gA[k], H[t + 1, k], H[t, k], dA[t, k]
                gb = zero
                gc = zero
                for j in range(d1 - d0):
                    ghj = ghk[j] + go[j] * ck
                    x = ghj * hp[j] * dAk[j]  # dL/d(Δ_t A)
                    sd[j] += x * ak[j]
                    su[j] += ghj * bk
                    gAk[j] += x * dt[j]
                    gb += ghj * dt[j] * ut[j]
                    gc += go[j] * hn[j]
                    ghk[j] = ghj * dAk[j]
                gB[b, g, t, k] = gb
                gC[b, g, t, k] = gc
            for j in range(d1 - d0):
                gdelta[b, t, d0 + j] = sd[j] + su[j] * ut[j]
                gu[b, t, d0 + j] = su[j] * dt[j] + go[j] * Dg[j]
                gDg[j] += go[j] * ut[j]
        gAt[b, :, d0:d1] = gA
        gD[b, d0:d1] = gDg


@njit(parallel=True, **_JIT)
def _fwd_chan(u, delta, A, B, C, D, y, w):
    """As :func:`_fwd` with a per-channel decay A (d,): one exp per (b, t, d), then n multiply-adds."""
    nb, nl, nd = u.shape
    nn, ng = B.shape[2], -(-nd // w)
    for i in prange(nb * ng):
        b, d0 = i // ng, (i % ng) * w
        d1 = min(d0 + w, nd)
        h = np.zeros((nn, d1 - d0), u.dtype)  # (n, w)
        a, du = np.empty((2, d1 - d0), u.dtype)  # each (w,)
        Ag, Dg = A[d0:d1], D[d0:d1]
        for t in range(nl):
            ut, dt, yt = u[b, t, d0:d1], delta[b, t, d0:d1], y[b, t, d0:d1]
            for j in range(d1 - d0):
                a[j] = _exp(dt[j] * Ag[j])
                du[j] = dt[j] * ut[j]
                yt[j] = Dg[j] * ut[j]
            for k in range(nn):
                bk, ck, hk = B[b, t, k], C[b, t, k], h[k]
                for j in range(d1 - d0):
                    hk[j] = a[j] * hk[j] + du[j] * bk
                    yt[j] += ck * hk[j]


@njit(parallel=True, **_JIT)
def _bwd_chan(u, delta, A, B, C, D, gy, gu, gdelta, gA, gB, gC, gD, w):
    """Adjoint of :func:`_fwd_chan`; outputs as :func:`_bwd` except gA, (b, d)."""
    nb, nl, nd = u.shape
    nn, ng = B.shape[2], gB.shape[1]
    zero = u.dtype.type(0)
    for i in prange(nb * ng):
        b, g = i // ng, i % ng
        d0 = g * w
        d1 = min(d0 + w, nd)
        H = np.zeros((nl + 1, nn, d1 - d0), u.dtype)  # (l + 1, n, w): H[t + 1] = h_t
        dA = np.empty((nl, d1 - d0), u.dtype)  # (l, w): exp(Δ_t A)
        h, gh = np.zeros((2, nn, d1 - d0), u.dtype)  # each (n, w)
        sh, su, gAg, gDg = np.zeros((4, d1 - d0), u.dtype)  # each (w,)
        Ag, Dg = A[d0:d1], D[d0:d1]
        for t in range(nl):
            ut, dt, a = u[b, t, d0:d1], delta[b, t, d0:d1], dA[t]
            for j in range(d1 - d0):
                a[j] = _exp(dt[j] * Ag[j])
            for k in range(nn):
                bk, hk, Hk = B[b, t, k], h[k], H[t + 1, k]
                for j in range(d1 - d0):
                    hk[j] = a[j] * hk[j] + dt[j] * ut[j] * bk
                    Hk[j] = hk[j]
        for t in range(nl - 1, -1, -1):
            go, ut, dt, a = gy[b, t, d0:d1], u[b, t, d0:d1], delta[b, t, d0:d1], dA[t]
            sh[:] = zero  # Σ_n gh_t h_{t-1}
            su[:] = zero  # Σ_n gh_t B_t
            for k in range(nn):
                bk, ck, ghk, hn, hp = B[b, t, k], C[b, t, k], gh[k], H[t + 1, k], H[t, k]
                gb = zero
                gc = zero
                for j in range(d1 - d0):
                    ghj = ghk[j] + go[j] * ck
                    sh[j] += ghj * hp[j]
                    su[j] += ghj * bk
                    gb += ghj * dt[j] * ut[j]
                    gc += go[j] * hn[j]
                    ghk[j] = ghj * a[j]
                gB[b, g, t, k] = gb
                gC[b, g, t, k] = gc
            for j in range(d1 - d0):
                x = sh[j] * a[j]  # dL/d(Δ_t A)
                gdelta[b, t, d0 + j] = x * Ag[j] + su[j] * ut[j]
                gu[b, t, d0 + j] = su[j] * dt[j] + go[j] * Dg[j]
                gAg[j] += x * dt[j]
                gDg[j] += go[j] * ut[j]
        gA[b, d0:d1] = gAg
        gD[b, d0:d1] = gDg


# --------------------------------------------------------------------------------------------------
# autograd wrapper
# --------------------------------------------------------------------------------------------------
@numba.njit(parallel=True, cache=True)
def _touch_pool(x):  # pragma: no cover - compiled
    for i in numba.prange(x.shape[0]):
        x[i] = i
    return x


def _group_width(nb: int, nd: int, threads: int) -> int:
    """Channels per work item: all d when b alone gives each thread work, else ≥ 32 (SIMD-friendly) per group."""
    groups = min(-(-threads // nb), max(1, nd // 32))
    return 8 * -(-nd // (8 * groups))  # a multiple of 8 (an AVX2 float32 vector)


def _np(x: torch.Tensor) -> np.ndarray:
    return x.detach().contiguous().numpy()


class SelectiveScanFn(torch.autograd.Function):
    """Fused selective scan; inputs are CPU tensors of one dtype (float32 fast, float64 exact)."""

    @staticmethod
    def forward(ctx, u, delta, A, B, C, D):
        # u, delta (b, l, d); A (d, n) or (d,); B, C (b, l, n); D (d,)
        w = _group_width(u.shape[0], u.shape[2], numba_threads())
        y = torch.empty(u.shape, dtype=u.dtype)  # (b, l, d)
        if A.dim() == 2:
            _fwd(_np(u), _np(delta), _np(A.t()), _np(B), _np(C), _np(D), y.numpy(), w)
        else:
            _fwd_chan(_np(u), _np(delta), _np(A), _np(B), _np(C), _np(D), y.numpy(), w)
        ctx.save_for_backward(u, delta, A, B, C, D)
        return y

    @staticmethod
    def backward(ctx, gy):
        u, delta, A, B, C, D = ctx.saved_tensors
        (nb, nl, nd), nn = u.shape, B.shape[2]
        w = _group_width(nb, nd, numba_threads())
        gu, gdelta = torch.empty(u.shape, dtype=u.dtype), torch.empty(u.shape, dtype=u.dtype)  # (b, l, d)
        gB, gC = (torch.empty(nb, -(-nd // w), nl, nn, dtype=u.dtype) for _ in range(2))  # (b, groups, l, n)
        gD = torch.empty(nb, nd, dtype=u.dtype)  # (b, d)
        ins = [_np(x) for x in (u, delta, A.t() if A.dim() == 2 else A, B, C, D, gy)]
        if A.dim() == 2:
            gA = torch.empty(nb, nn, nd, dtype=u.dtype)  # (b, n, d)
            _bwd(*ins, gu.numpy(), gdelta.numpy(), gA.numpy(), gB.numpy(), gC.numpy(), gD.numpy(), w)
            gA = gA.transpose(1, 2)  # (b, d, n)
        else:
            gA = torch.empty(nb, nd, dtype=u.dtype)  # (b, d)
            _bwd_chan(*ins, gu.numpy(), gdelta.numpy(), gA.numpy(), gB.numpy(), gC.numpy(), gD.numpy(), w)
        # the batch reductions sum b · l terms: accumulate them in float64
        gA = gA.sum(0, dtype=torch.float64).to(u.dtype)
        gD = gD.sum(0, dtype=torch.float64).to(u.dtype)
        return gu, gdelta, gA, gB.sum(1), gC.sum(1), gD
