"""numba kernels of the fused Mamba block: everything from the block input to the output projection's input.

Imported lazily by :mod:`andimamba.nn.mamba_fused`. The kernels compile on first use (measured here: 15 s for
the forward, 40 s more for the backward) and are then cached on disk by ``cache=True``.

Glossary (as :mod:`andimamba.nn.mamba`): b batch, l padded length, D = d_model, E = d_inner, N = d_state,
R = dt_rank, M = R + 2N, K = d_conv, Δ step sizes, A decay rates, B / C input / output projections, D skip
(``Dp`` in code, D being d_model), h hidden state. A kernel call runs ``ndir`` directions (the two of a Bi-Mamba
layer, or one) on the same block input v (b, l, D). A reversed direction runs each track from its last valid frame
to its first (``reverse_padded`` done by indexing: step s of a track of length L reads frame L - 1 - s) and
writes its output back at that frame. Frames at and after a track's length are padding: never read, 0 in the
outputs.

One step s (frame t) of one direction, as ``Mamba.forward`` computes it op by op for all frames at once::

    [x_t, z_t] = W_in v_t                                in_proj, (E,), (E,)
    xc_t = conv_b + Σ_m conv_w[:, K-1-m] x_{s-m}        causal depthwise conv, (E,)
    u_t  = silu(xc_t)
    [δ_t, B_t, C_t] = W_x u_t                            x_proj, (R,), (N,), (N,)
    Δ_t  = softplus(W_Δ δ_t + b_Δ)                       dt_proj, (E,)
    h_t  = exp(Δ_t A) h_{t-1} + Δ_t B_t u_t              (N, E)
    y_t  = (<C_t, h_t> + D u_t) · silu(z_t)              gate, (E,): the out_proj input

Work item = (batch element, direction). Only the scan is sequential in time, so each item runs in phases:
everything before the scan in (channel, step) layout, where every loop is a long, contiguous, vectorisable
loop over the L steps (per-step loops over E = 24 channels spent most of their time in loop overheads); then
the scan step by step in (step, channel) layout, vectorised over E as in :mod:`andimamba.nn.scan_numba`;
transposed copies of a few (E, L) arrays connect the two. The backward recomputes the item's forward into
these scratch arrays (h and exp(Δ A) are (L, N, E) each, ~150 kB at L 200, N 8, E 24, so they stay in cache),
runs the adjoint scan backwards in time, then the adjoints of the pre-scan phases, again as long loops.
Parameter gradients are per-item partial sums, reduced by the caller.

Per-channel decay (A (E,), Mamba-2-style) is passed broadcast to At (ndir, N, E): the same exp N times per
(step, channel), so that variant runs as fast as Mamba-1 here, not faster (a run-time switch between the two
layouts inside the loops cost a third of the backward's time).

Elementwise functions and the small matrix products are in :mod:`andimamba.nn.numba_ops`. What made the
difference in speed, for whoever edits these loops: ``error_model="numpy"`` (a division must not raise), no
array rows unpacked from one allocation (numba types them non-contiguous), never the same array under two
names in one loop (LLVM's run-time overlap check then fails and the loop runs scalar), scalars hoisted out of
inner loops, and no run-time branch between loop variants inside the time loop.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from andimamba.nn.numba_ops import (
    _JIT,
    _matmul,
    _matmul_nt,
    _matmul_tn,
    _sigmoid,
    _silu,
    _softplus,
    _transpose,
)
from andimamba.nn.scan_numba import _exp2

_LOG2E = 1.4426950408889634


@njit(**_JIT)
def _pre_scan(x, b, rev, Win, cw, cb, Wx, Wdt, bdt, XT, XI, Z, XC, U, DBL, PRE, DL):
    """Everything before the scan for one item, in (channel, step) layout; L = XT.shape[1] steps.

    XT (D, L) the input frames in step order; XI, Z (E, L) in_proj; XC (E, L) conv; U (E, L) = silu(XC);
    DBL (M, L) = [δ, B, C]; PRE (E, L) = W_Δ δ + b_Δ; DL (E, L) = Δ. All distinct: LLVM vectorises a loop only
    after a run-time check that its arrays do not overlap, and an in-place map through two names fails it.
    """
    nd, L = XT.shape
    ne, nk, nrank = XI.shape[0], cw.shape[1], Wdt.shape[1]
    for s in range(L):  # gather the item's frames, transposed
        row = x[b, L - 1 - s if rev else s]
        for d in range(nd):
            XT[d, s] = row[d]
    _matmul(Win[:ne], XT, XI)
    _matmul(Win[ne:], XT, Z)
    for j in range(ne):  # causal depthwise conv: tap m reads the step m back
        xc, xi = XC[j], XI[j]
        xc[:] = cb[j]
        for m in range(min(nk, L)):
            w, dst, src = cw[j, nk - 1 - m], xc[m:], xi[: L - m]
            for s in range(L - m):
                dst[s] += w * src[s]
        u = U[j]
        for s in range(L):
            u[s] = _silu(xc[s])
    _matmul(Wx, U, DBL)
    for j in range(ne):
        pre, dl = PRE[j], DL[j]
        pre[:] = bdt[j]
        for q in range(nrank):
            w, dq = Wdt[j, q], DBL[q]
            for s in range(L):
                pre[s] += w * dq[s]
        for s in range(L):
            dl[s] = _softplus(pre[s])


# Parameters of every kernel, stacked over directions: Win (ndir, 2E, D) in_proj weight; cw (ndir, E, K) conv
# weight; cb (ndir, E); Wx (ndir, M, E) x_proj weight; Wdt (ndir, E, R) dt_proj weight; bdt (ndir, E);
# At (ndir, N, E) = Aᵀ (a per-channel decay broadcast over N); Dp (ndir, E). lengths (b,) int64; rev (ndir,) uint8.


@njit(**_JIT)
def _balanced_order(lengths, nr):
    """(b·ndir,) the work items in an order whose contiguous slices hold similar work: a parallel loop splits
    its range into one contiguous slice per thread, and an item costs its track's length, so a batch sorted by
    length (as the predictor makes them) left one thread the long tracks. Items by length, longest first,
    interleaved with the shortest: long, short, second longest, second shortest, ..."""
    n = lengths.shape[0] * nr
    top = 0
    for b in range(lengths.shape[0]):
        top = max(top, lengths[b])
    start = np.zeros(top + 2, np.int64)  # counting sort by length, longest first (cheap to compile, unlike argsort)
    for i in range(n):
        start[top - lengths[i // nr] + 1] += 1
    for v in range(1, top + 2):
        start[v] += start[v - 1]
    srt = np.empty(n, np.int64)
    for i in range(n):  # stable: ties keep their order
        v = top - lengths[i // nr]
        srt[start[v]] = i
        start[v] += 1
    order = np.empty(n, np.int64)
    for m in range(n):
        order[m] = srt[m // 2] if m % 2 == 0 else srt[n - 1 - m // 2]
    return order


@njit(parallel=True, **_JIT)
def _fwd(x, lengths, rev, Win, cw, cb, Wx, Wdt, bdt, At, Dp, y):
    """y (ndir, b, l, E) = the gated scan output of every direction, in frame order, 0 on padding frames."""
    nb, nl, nd = x.shape
    nr, ne, nrank, nm = cw.shape[0], cw.shape[1], Wdt.shape[2], Wx.shape[1]
    nn = (nm - nrank) // 2
    dtype = x.dtype
    zero = dtype.type(0)
    At2 = At * dtype.type(_LOG2E)  # exp(Δ A) = 2**(Δ A log₂e): the factor once, not per step
    order = _balanced_order(lengths, nr)
    for ii in prange(nb * nr):
        i = order[ii]
        b, r = i // nr, i % nr
        L, rv = lengths[b], rev[r]
        XT = np.empty((nd, L), dtype)
        XI, Z, XC, U = np.empty((ne, L), dtype), np.empty((ne, L), dtype), np.empty((ne, L), dtype), np.empty((ne, L), dtype)
        PRE, DL = np.empty((ne, L), dtype), np.empty((ne, L), dtype)
        DBL = np.empty((nm, L), dtype)
        _pre_scan(x, b, rv, Win[r], cw[r], cb[r], Wx[r], Wdt[r], bdt[r], XT, XI, Z, XC, U, DBL, PRE, DL)
        for j in range(ne):  # silu(z), in place
            z = Z[j]
            for s in range(L):
                z[s] = _silu(z[s])
        Us, DLs, SZs = np.empty((L, ne), dtype), np.empty((L, ne), dtype), np.empty((L, ne), dtype)
        _transpose(U, Us)
        _transpose(DL, DLs)
        _transpose(Z, SZs)
        h = np.zeros((nn, ne), dtype)  # (N, E)
        acc = np.empty(ne, dtype)
        Dr, Ar = Dp[r], At2[r]
        for s in range(L):
            u, dl = Us[s], DLs[s]
            for j in range(ne):
                acc[j] = Dr[j] * u[j]
            for k in range(nn):
                bk, ck, hk, ak = DBL[nrank + k, s], DBL[nrank + nn + k, s], h[k], Ar[k]
                for j in range(ne):
                    hk[j] = _exp2(dl[j] * ak[j]) * hk[j] + dl[j] * u[j] * bk
                    acc[j] += ck * hk[j]
            yt, sz = y[r, b, L - 1 - s if rv else s], SZs[s]
            for j in range(ne):
                yt[j] = acc[j] * sz[j]
        for t in range(L, nl):
            y[r, b, t, :] = zero


@njit(**_JIT)
def _adjoint_scan(Us, DLs, DBL, Ar, Ar2, Dr, GOs, nrank, Os, gUs, gDLs, gDBL, gA, gD):
    """Recompute the scan of one item, then run its adjoint backwards in time.

    Us, DLs (L, E) u and Δ; DBL (M, L); Ar (N, E) = Aᵀ and Ar2 = Ar log₂e (exp(Δ A) = 2**(Δ Ar2), as the forward
    computes it); GOs (L, E) = dL/d(ungated output). Writes Os (L, E) the ungated
    output, gUs, gDLs (L, E) and the B, C rows of gDBL (M, L); adds into gA (N, E) and gD (E,). With g_t = GOs[t], backwards in t:
    gh_t = g_t C_t + exp(Δ_{t+1} A) gh_{t+1};  dL/dΔ_t = Σ_N gh_t h_{t-1} exp(Δ_t A) A + u_t Σ_N gh_t B_t;
    dL/dA += Δ_t gh_t h_{t-1} exp(Δ_t A);  dL/du_t = Δ_t Σ_N gh_t B_t + g_t D;
    dL/dB_t = Σ_E gh_t Δ_t u_t;  dL/dC_t = Σ_E g_t h_t.
    """
    L, ne = Us.shape
    nn = Ar.shape[0]
    dtype = Us.dtype
    zero = dtype.type(0)
    H = np.empty((L + 1, nn, ne), dtype)  # H[s + 1] = h after step s
    H[0] = zero
    DA = np.empty((L, nn, ne), dtype)  # exp(Δ A)
    for s in range(L):
        u, dl, o = Us[s], DLs[s], Os[s]
        for k in range(nn):
            ak2, dAk = Ar2[k], DA[s, k]
            for j in range(ne):
                dAk[j] = _exp2(dl[j] * ak2[j])  # as the forward computes it
        for j in range(ne):
            o[j] = Dr[j] * u[j]
        for k in range(nn):
            bk, ck, hp, hn, dAk = DBL[nrank + k, s], DBL[nrank + nn + k, s], H[s, k], H[s + 1, k], DA[s, k]
            for j in range(ne):
                hn[j] = dAk[j] * hp[j] + dl[j] * u[j] * bk
                o[j] += ck * hn[j]
    gh = np.zeros((nn, ne), dtype)
    sd, su = np.empty(ne, dtype), np.empty(ne, dtype)
    for s in range(L - 1, -1, -1):
        u, dl, g, gu = Us[s], DLs[s], GOs[s], gUs[s]
        for j in range(ne):
            gD[j] += g[j] * u[j]
            sd[j] = zero  # Σ_N gh h_{t-1} exp(Δ A) A
            su[j] = zero  # Σ_N gh B
        for k in range(nn):
            bk, ck = DBL[nrank + k, s], DBL[nrank + nn + k, s]
            ghk, hn, hp, dAk, ak, gAk = gh[k], H[s + 1, k], H[s, k], DA[s, k], Ar[k], gA[k]
            gb = zero
            gc = zero
            for j in range(ne):
                ghj = ghk[j] + g[j] * ck
                gc += g[j] * hn[j]
                v = ghj * hp[j] * dAk[j]  # dL/d(Δ_t A)
                sd[j] += v * ak[j]
                gAk[j] += v * dl[j]
                su[j] += ghj * bk
                gb += ghj * dl[j] * u[j]
                ghk[j] = ghj * dAk[j]
            gDBL[nrank + k, s] = gb
            gDBL[nrank + nn + k, s] = gc
        gdl = gDLs[s]
        for j in range(ne):
            gdl[j] = sd[j] + su[j] * u[j]
            gu[j] = su[j] * dl[j] + g[j] * Dr[j]


@njit(parallel=True, **_JIT)
def _bwd(x, lengths, rev, Win, cw, cb, Wx, Wdt, bdt, At, Dp, gy, gx, gWin, gcw, gcb, gWx, gWdt, gbdt, gAt, gD):
    """Adjoint of :func:`_fwd`. gy (ndir, b, l, E) in; gx (ndir, b, l, D) out, one input gradient per direction,
    0 on padding frames; the parameter gradients are per-item partials with leading axes (b, ndir).

    With gy_t = dL/dy_t and o_t the ungated scan output: dL/do_t = gy_t silu(z_t), dL/dz_t = gy_t o_t silu'(z_t);
    the scan's adjoint (:func:`_adjoint_scan`), then those of softplus, dt_proj, x_proj, SiLU, the conv
    (dL/dx_s collects the taps of steps s .. s+K-1) and in_proj, each over all L steps at once.
    """
    nb, nl, nd = x.shape
    nr, ne, nk, nrank, nm = cw.shape[0], cw.shape[1], cw.shape[2], Wdt.shape[2], Wx.shape[1]
    dtype = x.dtype
    At2 = At * dtype.type(_LOG2E)  # as in _fwd
    zero, one, threshold = dtype.type(0), dtype.type(1), dtype.type(20)
    order = _balanced_order(lengths, nr)
    for ii in prange(nb * nr):
        i = order[ii]
        b, r = i // nr, i % nr
        L, rv = lengths[b], rev[r]
        Wr, cwr = Win[r], cw[r]
        XT = np.empty((nd, L), dtype)
        XI, Z, XC, U = np.empty((ne, L), dtype), np.empty((ne, L), dtype), np.empty((ne, L), dtype), np.empty((ne, L), dtype)
        PRE, DL = np.empty((ne, L), dtype), np.empty((ne, L), dtype)
        DBL = np.empty((nm, L), dtype)
        _pre_scan(x, b, rv, Wr, cwr, cb[r], Wx[r], Wdt[r], bdt[r], XT, XI, Z, XC, U, DBL, PRE, DL)
        # gate: silu(z) and silu'(z), then per step dL/do = gy silu(z) (the scan's output gradient)
        SZ, DSZ = np.empty((ne, L), dtype), np.empty((ne, L), dtype)
        for j in range(ne):
            z, sz, dsz = Z[j], SZ[j], DSZ[j]
            for s in range(L):
                sg = _sigmoid(z[s])
                sz[s] = z[s] * sg
                dsz[s] = sg * (one + z[s] * (one - sg))
        Us, DLs, SZs, DSZs = np.empty((L, ne), dtype), np.empty((L, ne), dtype), np.empty((L, ne), dtype), np.empty((L, ne), dtype)
        _transpose(U, Us)
        _transpose(DL, DLs)
        _transpose(SZ, SZs)
        _transpose(DSZ, DSZs)
        GOs = np.empty((L, ne), dtype)
        for s in range(L):
            g, gys, sz = GOs[s], gy[r, b, L - 1 - s if rv else s], SZs[s]
            for j in range(ne):
                g[j] = gys[j] * sz[j]
        gUs, gDLs, gZs = np.empty((L, ne), dtype), np.empty((L, ne), dtype), np.empty((L, ne), dtype)
        gDBL = np.empty((nm, L), dtype)
        gA = np.zeros((At.shape[1], ne), dtype)
        gDr = np.zeros(ne, dtype)
        _adjoint_scan(Us, DLs, DBL, At[r], At2[r], Dp[r], GOs, nrank, gZs, gUs, gDLs, gDBL, gA, gDr)  # gZs = o
        for s in range(L):  # dL/dz = gy o silu'(z)
            gz, gys, dsz = gZs[s], gy[r, b, L - 1 - s if rv else s], DSZs[s]
            for j in range(ne):
                gz[j] = gys[j] * gz[j] * dsz[j]
        gXIZ = np.empty((2 * ne, L), dtype)  # dL/d[x, z] of in_proj, (2E, L)
        gU, gPRE = np.empty((ne, L), dtype), np.empty((ne, L), dtype)
        _transpose(gUs, gU)
        _transpose(gDLs, gPRE)
        _transpose(gZs, gXIZ[ne:])
        gbd, gcbr = np.zeros(ne, dtype), np.zeros(ne, dtype)
        for j in range(ne):  # Δ = softplus(pre)
            gp, pre = gPRE[j], PRE[j]
            acc = zero
            for s in range(L):
                gp[s] = gp[s] if pre[s] > threshold else gp[s] * _sigmoid(pre[s])
                acc += gp[s]
            gbd[j] = acc
        gWd = np.zeros((ne, nrank), dtype)
        _matmul_nt(gPRE, DBL[:nrank], gWd)  # dt_proj weight
        gDelta = np.empty((nrank, L), dtype)
        _matmul_tn(Wdt[r], gPRE, gDelta)
        gDBL[:nrank] = gDelta
        gW = np.zeros((nm, ne), dtype)
        _matmul_nt(gDBL, U, gW)  # x_proj weight
        gUx = np.empty((ne, L), dtype)
        _matmul_tn(Wx[r], gDBL, gUx)
        gc = np.zeros((ne, nk), dtype)
        gXI = gXIZ[:ne]
        for j in range(ne):  # u = silu(xc), then the conv
            gu, gux, xc, xi, gxi = gU[j], gUx[j], XC[j], XI[j], gXI[j]
            acc = zero
            for s in range(L):
                sg = _sigmoid(xc[s])
                gu[s] = (gu[s] + gux[s]) * sg * (one + xc[s] * (one - sg))  # now dL/dxc
                acc += gu[s]
            gcbr[j] = acc
            gxi[:] = zero
            for m in range(min(nk, L)):  # tap m of step s read step s - m
                w, g_, x_, dst = cwr[j, nk - 1 - m], gu[m:], xi[: L - m], gxi[: L - m]
                acc = zero
                for s in range(L - m):
                    acc += g_[s] * x_[s]
                gc[j, nk - 1 - m] = acc
                for s in range(L - m):
                    dst[s] += w * g_[s]
        gWi = np.zeros((2 * ne, nd), dtype)
        _matmul_nt(gXIZ, XT, gWi)  # in_proj weight
        gXT = XT  # reuse (D, L): XT is not needed any more
        _matmul_tn(Wr, gXIZ, gXT)
        for s in range(L):
            row = gx[r, b, L - 1 - s if rv else s]
            for d in range(nd):
                row[d] = gXT[d, s]
        for t in range(L, nl):
            gx[r, b, t, :] = zero
        gWin[b, r] = gWi
        gcw[b, r] = gc
        gcb[b, r] = gcbr
        gWx[b, r] = gW
        gWdt[b, r] = gWd
        gbdt[b, r] = gbd
        gAt[b, r] = gA
        gD[b, r] = gDr
