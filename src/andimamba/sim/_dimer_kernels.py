"""Compiled inner loops of the dimerization model: pairing particles that meet (one sweep over each box's
particles sorted by x) and the walk with fresh fGn sequences drawn inside the kernel (numba, cached on disk)."""

from __future__ import annotations

import numba as nb
import numpy as np

from ._fgn_kernels import fgn_amplitude_nb, fgn_sequence_nb
from ._kernels import _reflect1


@nb.njit(cache=True)
def _sort_by_key(order, key, lo, hi):  # pragma: no cover
    """Insertion sort of order[lo:hi] by key[order[·]]: linear when nearly sorted (last frame's order)."""
    for i in range(lo + 1, hi):
        v = order[i]
        kv = key[v]
        j = i - 1
        while j >= lo and key[order[j]] > kv:
            order[j + 1] = order[j]
            j -= 1
        order[j + 1] = v


@nb.njit(cache=True)
def _pair_box(lo, hi, xs, ys, order, partner, newp, r, Pb, rng, pairs, deg, adj_start, adj):  # pragma: no cover
    """Greedy pairing of the free particles of one box (particles lo … hi − 1), as the reference
    loop: in particle order, n binds to the first free m (by index) closer than 2r, each candidate
    trying its coin (drawn from rng when 0 < Pb < 1).

    Instead of testing all N particles for every n: one sweep along order[lo:hi] (kept sorted by x)
    finds the close pairs of particles not in a dimer (each pair once, from its left member, among
    the next particles within 2r in x); almost always there are none. The particles of the close
    pairs then bind in particle order, each trying its close partners by index, as the reference.
    pairs (cap, 2) is scratch, grown here when full (returned); deg, adj_start (P + 1,), adj scratch.
    """
    r2 = 4 * r * r
    w = 2 * r * (1 + 1e-9) + 1e-12  # window half-width: a superset of |dx| < 2r, the test below decides
    _sort_by_key(order, xs, lo, hi)
    npairs = 0
    for i in range(lo, hi):
        a = order[i]
        if partner[a] >= 0:
            continue
        xa, ya = xs[a], ys[a]
        for j in range(i + 1, hi):
            b = order[j]
            if xs[b] > xa + w:
                break
            if partner[b] >= 0:
                continue
            dx = xa - xs[b]  # = −(x_b − x_a) exactly, so d2 is the reference's bit for bit
            dy = ya - ys[b]
            d2 = dx * dx + dy * dy
            if d2 < r2 and d2 > 0:
                if npairs == pairs.shape[0]:
                    grown = np.empty((2 * pairs.shape[0], 2), dtype=np.int64)
                    grown[:npairs] = pairs
                    pairs = grown
                pairs[npairs, 0] = a
                pairs[npairs, 1] = b
                npairs += 1
    if npairs == 0:
        return pairs
    # adjacency of the close pairs (CSR over the box's particles), each list sorted by index
    for n in range(lo, hi + 1):
        deg[n] = 0
    for k in range(npairs):
        deg[pairs[k, 0]] += 1
        deg[pairs[k, 1]] += 1
    if adj.shape[0] < 2 * npairs:
        adj = np.empty(4 * npairs, dtype=np.int64)
    adj_start[lo] = 0
    for n in range(lo, hi):
        adj_start[n + 1] = adj_start[n] + deg[n]
        deg[n] = 0
    for k in range(npairs):
        a, b = pairs[k, 0], pairs[k, 1]
        adj[adj_start[a] + deg[a]] = b
        deg[a] += 1
        adj[adj_start[b] + deg[b]] = a
        deg[b] += 1
    for n in range(lo, hi):
        s, e = adj_start[n], adj_start[n + 1]
        if s == e or newp[n] >= 0:
            continue
        if e - s > 1:
            _sort_by_key_self(adj[s:e], e - s)
        for i in range(s, e):
            m = adj[i]
            if newp[m] >= 0:
                continue
            if Pb >= 1.0 or (Pb > 0.0 and rng.random() < Pb):
                newp[n] = m
                newp[m] = n
                break
    return pairs


@nb.njit(cache=True)
def _sort_by_key_self(a, n):  # pragma: no cover
    """Insertion sort of a[:n] (a handful of candidate indices)."""
    for i in range(1, n):
        v = a[i]
        j = i - 1
        while j >= 0 and a[j] > v:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = v


@nb.njit(cache=True)
def dimer_kernel(pos, partner, reg, box_end, r, Pu, Pb, L, cur, ptr, alpha, scale, rng, tw, rev):  # pragma: no cover
    """dimerization (``models_phenom.dimerization``): each dimer splits with prob Pu; free
    particles that did not just split bind, greedily in particle order, to the first free
    particle of their box closer than 2r (prob Pb); a new dimer moves with one shared noise
    sequence drawn from its lower-index particle's dimer-state parameters.

    pos (P, T, 2) (frame 0 set), reg (P, T). Boxes are contiguous particle
    ranges ending at box_end[p]. cur (P, T, 2) holds the initial
    sequences (state 0); fresh ones (after a split: state 0 of each particle; a new pair: state 1 of
    its lower-index particle) are generated here, in particle order, with ``_fgn_kernels`` from
    alpha, scale = √(2K) (P, 2) and rng (tw, rev: ``fft_plan(T)``).
    """
    P, T, _ = pos.shape
    M = rev.shape[0]
    xs = np.empty(P)
    ys = np.empty(P)
    esc = np.zeros(P, dtype=np.bool_)
    newp = np.full(P, -1, dtype=np.int64)
    order = np.arange(P)  # per box, kept sorted by x from frame to frame
    pairs = np.empty((64, 2), dtype=np.int64)  # _pair_box scratch
    deg = np.zeros(P + 1, dtype=np.int64)
    adj_start = np.zeros(P + 1, dtype=np.int64)
    adj = np.empty(128, dtype=np.int64)
    state_now = np.zeros(P, dtype=np.int8)
    amp = np.empty((P, 2, M))  # fgn amplitudes per (particle, state), for the circulant size amp_m
    amp_m = np.zeros((P, 2), dtype=np.int64)
    buf = np.empty(M, dtype=np.complex128)
    for p in range(P):  # positions of the last frame (written to pos, never read back)
        xs[p] = pos[p, 0, 0]
        ys[p] = pos[p, 0, 1]
    for t in range(1, T):
        for p in range(P):
            esc[p] = False
            newp[p] = -1
        for p in range(P):
            q = partner[p]
            if q > p and (Pu >= 1.0 or (Pu > 0.0 and rng.random() < Pu)):
                esc[p] = True
                esc[q] = True
        lo = 0
        while lo < P:
            hi = box_end[lo]
            pairs = _pair_box(lo, hi, xs, ys, order, partner, newp, r, Pb, rng, pairs, deg, adj_start, adj)
            if adj.shape[0] < 2 * pairs.shape[0]:
                adj = np.empty(2 * pairs.shape[0], dtype=np.int64)
            lo = hi
        for p in range(P):
            if esc[p]:
                partner[p] = -1
                state_now[p] = 0
                _fresh(p, 0, T - t, alpha, scale, amp, amp_m, rng, cur, buf, tw, rev)
                ptr[p] = 0
            q = newp[p]
            if q > p:
                _fresh(p, 1, T - t, alpha, scale, amp, amp_m, rng, cur, buf, tw, rev)
                cur[q, : T - t] = cur[p, : T - t]
                ptr[p] = 0
                ptr[q] = 0
        for p in range(P):
            q = newp[p]
            if q > p:
                partner[p] = q
                partner[q] = p
                state_now[p] = 1
                state_now[q] = 1
        for p in range(P):
            k = min(ptr[p], T - 1)
            ptr[p] += 1
            x = _reflect1(xs[p] + cur[p, k, 0], L)
            y = _reflect1(ys[p] + cur[p, k, 1], L)
            pos[p, t, 0] = x
            pos[p, t, 1] = y
            xs[p] = x
            ys[p] = y
            reg[p, t] = state_now[p]


@nb.njit(cache=True)
def _fresh(p, s, n, alpha, scale, amp, amp_m, rng, cur, buf, tw, rev):  # pragma: no cover
    """cur[p, :n] = a fresh fGn sequence of n values of particle p in state s (the frames left:
    like andi, a sequence started at frame t is drawn for the T − t frames that remain), from the
    smallest power-of-two circulant M ≥ 2n; the amplitudes of (p, s) are kept for the last M used."""
    m = 4
    while m < 2 * n:
        m *= 2
    if amp_m[p, s] != m:
        fgn_amplitude_nb(alpha[p, s], amp[p, s, :m], buf[:m], tw, rev)
        amp_m[p, s] = m
    fgn_sequence_nb(amp[p, s, :m], scale[p, s], rng, cur[p, :n], buf[:m], tw, rev)
