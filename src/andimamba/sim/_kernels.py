"""Compiled inner loops of the simulator (numba, cached on disk after the first call)."""

from __future__ import annotations

import numba as nb
import numpy as np



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
# every frame, runs once and draws its fresh sequences and coins itself (sim._fgn_kernels; it lives in
# sim._dimer_kernels).
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
