"""Compiled inner loops of the simulator (numba, cached on disk after the first call)."""

from __future__ import annotations

import numba as nb
import numpy as np

from ._fgn_kernels import fgn_amplitude_nb, fgn_sequence_nb


@nb.njit(cache=True)
def _reflect1(x, L):  # pragma: no cover - compiled
    """Fold x into [0, L] by mirror reflections at the walls: andi's loop (x > L → 2L − x, x < 0 → −x,
    repeated until inside)."""
    while x > L or x < 0:
        if x > L:
            x = 2 * L - x
        if x < 0:
            x = -x
    return x


@nb.njit(cache=True)
def walk_reflect(pos0, disp, L):  # pragma: no cover - compiled
    """pos[p, t] = reflect(pos[p, t−1] + disp[p, t]) in the box [0, L]², t ≥ 1 (``_reflect1``).

    pos0 (P, 2), disp (P, T, 2) → (P, T, 2).
    """
    P, T, _ = disp.shape
    pos = np.empty((P, T, 2))
    for p in range(P):
        for d in range(2):
            x = pos0[p, d]
            pos[p, 0, d] = x
            for t in range(1, T):
                x = _reflect1(x + disp[p, t, d], L)
                pos[p, t, d] = x
    return pos


# ---------------------------------------------------------------------------------------------
# Time loops of the interacting models. The traps and confinement kernels advance all particles
# from frame t0 and return the frame at which they stopped: T when done, or an earlier t when some
# particle needs a fresh noise sequence that has not been generated yet (need[p, s] is then set and
# nothing of frame t has been committed). The caller generates those sequences (scipy's FFT, as
# sim.fbm, outside numba) and calls again from t. All their random coins are pre-drawn arrays, so
# a re-entry replays frame t exactly. The dimerization kernel, where such events happen at almost
# every frame, runs once and draws its fresh sequences and coins itself (sim._fgn_kernels).
#   cur  (P, T, 2): each particle's current scaled fGn sequence, read at ptr[p]
#   pend (P, S, T, 2), has_pend (P, S): the next sequence of particle p in state s
# ---------------------------------------------------------------------------------------------


def trap_buckets(traps_x: np.ndarray, L: float, max_buckets: int = 4096) -> tuple[np.ndarray, float]:
    """Bucket index of each box's x-sorted traps for ``traps_kernel``.

    Parameters
    ----------
    traps_x : ndarray, shape (E, Nt)
        Sorted x coordinates of each box's traps.
    L : float
        Box side (buckets of width w = L / nc cover [0, L]).

    Returns
    -------
    first : ndarray, shape (E, nc + 1), int64
        first[e, c] = index of the first trap of box e with x ≥ c·w.
    w : float
    """
    E, Nt = traps_x.shape
    nc = int(min(max_buckets, max(1, 4 * Nt)))
    w = float(L) / nc
    edges = np.arange(nc + 1) * w
    first = np.stack([np.searchsorted(traps_x[e], edges, side="left") for e in range(E)]) if E else np.zeros((0, nc + 1))
    return first.astype(np.int64), w


@nb.njit(cache=True)
def traps_kernel(t0, pos, bound, xs, ys, bnow, box, traps_x, traps, first, w, r, Pu, Pb, L, coin_u, coin_b, cur, ptr, pend, has_pend, need, dec, dec_t):  # pragma: no cover
    """immobile_traps (``models_phenom.immobile_traps``): free particles closer than r to a
    trap of their box bind with prob Pb, bound ones unbind with prob Pu (not rebinding in the
    same frame); bound particles do not move; unbinding restarts the noise.

    pos (P, T, 2) and bound (P, T) are written, never read: xs, ys, bnow (P,) hold frame t − 1
    (set from frame 0 by the caller). coin_u (P, T) is read for bound particles only, coin_b (T, P)
    (time-major: a frame's coins contiguous) for every free one. traps_x (E, Nt) is traps[:, :, 0] (sorted) as a contiguous array;
    first (E, nc + 1) indexes it by buckets of width w (``trap_buckets``). dec (P,)
    holds the bound flags decided for frame dec_t[0]: they depend only on frame t − 1 and the coins,
    so a re-entry at that frame (after fresh noise was generated) reuses them instead of deciding again.
    """
    P, T, _ = pos.shape
    Nt = traps.shape[1]
    nc = first.shape[1] - 1
    r2 = r * r
    for t in range(t0, T):
        if dec_t[0] != t:
            for p in range(P):
                if bnow[p]:
                    dec[p] = not coin_u[p, t] < Pu  # stays bound unless it unbinds
                    continue
                close = False
                if coin_b[t, p] < Pb:
                    x, y = xs[p], ys[p]
                    e = box[p]
                    # traps of each box are sorted by x: scan only the window |dx| < r, from the
                    # first trap with x ≥ x − r (np.searchsorted(traps_x[e], x − r), found from the
                    # bucket index: first[e, c] = first trap with x ≥ c·w, one bucket early for rounding)
                    xl = x - r
                    c = min(max(int(np.floor(xl / w)) - 1, 0), nc)
                    lo = first[e, c]
                    while lo < Nt and traps_x[e, lo] < xl:
                        lo += 1
                    for j in range(lo, Nt):
                        dx = x - traps_x[e, j]
                        if dx < -r:
                            break
                        dy = y - traps[e, j, 1]
                        if dx * dx + dy * dy < r2:
                            close = True
                            break
                dec[p] = close
            dec_t[0] = t
        missing = False
        for p in range(P):
            if bnow[p] and not dec[p] and not has_pend[p, 0]:
                need[p, 0] = True
                missing = True
        if missing:
            return t
        for p in range(P):
            new = dec[p]
            if bnow[p] and not new:
                cur[p, :, :] = pend[p, 0]
                has_pend[p, 0] = False
                ptr[p] = 0
            bnow[p] = new
            bound[p, t] = new
            k = min(ptr[p], T - 1)
            ptr[p] += 1
            if not new:
                xs[p] = _reflect1(xs[p] + cur[p, k, 0], L)
                ys[p] = _reflect1(ys[p] + cur[p, k, 1], L)
            pos[p, t, 0] = xs[p]
            pos[p, t, 1] = ys[p]
    return T


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


@nb.njit(cache=True)
def _circle_reflect(bx, by, ex, ey, cx, cy, r):  # pragma: no cover
    """Specular reflection inside a circle until the end point is inside (andi's
    ``_reflected_position`` loop, start pulled to r − 1e-4 when on the boundary)."""
    eps = 1e-4
    for _ in range(1000):
        if (ex - cx) ** 2 + (ey - cy) ** 2 <= r * r:
            break
        rx, ry = bx - cx, by - cy
        db = np.sqrt(rx * rx + ry * ry)
        if db > r - eps:
            bx = cx + (r - eps) * rx / db
            by = cy + (r - eps) * ry / db
            rx, ry = bx - cx, by - cy
        vx, vy = ex - bx, ey - by
        a2 = vx * vx + vy * vy
        b1 = 2 * (vx * rx + vy * ry)
        c0 = rx * rx + ry * ry - r * r
        disc = b1 * b1 - 4 * a2 * c0
        if disc < 0:
            disc = 0.0
        s = (-b1 + np.sqrt(disc)) / (2 * a2)
        ix, iy = bx + s * vx, by + s * vy
        nx, ny = (ix - cx) / r, (iy - cy) / r
        mx, my = ex - ix, ey - iy
        dot = mx * nx + my * ny
        mx -= 2 * dot * nx
        my -= 2 * dot * ny
        bx, by = ix, iy
        ex, ey = ix + mx, iy + my
    return ex, ey


@nb.njit(cache=True)
def confinement_kernel(t0, pos, st, comp, centres, r, trans, L, coin_t, cur, ptr, pend, has_pend, need):  # pragma: no cover
    """confinement (``models_phenom._confinement_traj``): a confined particle that steps out of
    its compartment crosses with prob ``trans`` (landing free or in another compartment), else is
    reflected inside; a free particle entering any compartment becomes confined; every state
    change restarts the noise; the new noise drives the next step."""
    P, T, _ = pos.shape
    Nc = centres.shape[1]
    r2 = r * r
    xn = np.empty((P, 2))
    newst = np.zeros(P, dtype=np.int8)
    newc = np.zeros(P, dtype=np.int64)
    for t in range(t0, T):
        missing = False
        for p in range(P):
            k = min(ptr[p], T - 1)
            x = pos[p, t - 1, 0] + cur[p, k, 0]
            y = pos[p, t - 1, 1] + cur[p, k, 1]
            s = st[p, t - 1]
            c = comp[p]
            check_any = s == 0
            if s == 1:
                dx, dy = centres[p, c, 0] - x, centres[p, c, 1] - y
                if dx * dx + dy * dy > r2:
                    if coin_t[p, t] < trans:
                        check_any = True
                    else:
                        x, y = _circle_reflect(pos[p, t - 1, 0], pos[p, t - 1, 1], x, y, centres[p, c, 0], centres[p, c, 1], r)
            if check_any:
                best = 1e300
                bj = -1
                for j in range(Nc):
                    dx, dy = centres[p, j, 0] - x, centres[p, j, 1] - y
                    d2 = dx * dx + dy * dy
                    if d2 < best:
                        best = d2
                        bj = j
                if best < r2:
                    s = 1
                    c = bj
                else:
                    s = 0
            xn[p, 0], xn[p, 1] = x, y
            newst[p] = s
            newc[p] = c
            if s != st[p, t - 1] and not has_pend[p, s]:
                need[p, s] = True
                missing = True
        if missing:
            return t
        for p in range(P):
            s = newst[p]
            if s != st[p, t - 1]:
                cur[p, :, :] = pend[p, s]
                has_pend[p, s] = False
                ptr[p] = 0
            else:
                ptr[p] += 1
            comp[p] = newc[p]
            st[p, t] = s
            pos[p, t, 0] = _reflect1(xn[p, 0], L)
            pos[p, t, 1] = _reflect1(xn[p, 1], L)
    return T
