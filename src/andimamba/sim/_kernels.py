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
# Time loops of the interacting models. Each kernel advances all particles from frame t0 and
# returns the frame at which it stopped: T when done, or an earlier t when some particle needs a
# fresh noise sequence that has not been generated yet (need[p, s] is then set and nothing of
# frame t has been committed). The caller generates those sequences (FFT, outside numba) and calls
# again from t. All random coins are pre-drawn arrays, so a re-entry replays frame t exactly.
#   cur  (P, T, 2): each particle's current scaled fGn sequence, read at ptr[p]
#   pend (P, S, T, 2), has_pend (P, S): the next sequence of particle p in state s
# ---------------------------------------------------------------------------------------------


@nb.njit(cache=True)
def traps_kernel(t0, pos, bound, box, traps, r, Pu, Pb, L, coin_u, coin_b, cur, ptr, pend, has_pend, need):  # pragma: no cover
    """immobile_traps (``models_phenom.immobile_traps``): free particles closer than r to a
    trap of their box bind with prob Pb, bound ones unbind with prob Pu (not rebinding in the
    same frame); bound particles do not move; unbinding restarts the noise."""
    P, T, _ = pos.shape
    Nt = traps.shape[1]
    r2 = r * r
    nb_ = np.zeros(P, dtype=np.bool_)
    for t in range(t0, T):
        missing = False
        for p in range(P):
            b = bound[p, t - 1]
            stay_free = not (b and coin_u[p, t] < Pu)
            close = False
            if stay_free and not b and coin_b[p, t] < Pb:
                x, y = pos[p, t - 1, 0], pos[p, t - 1, 1]
                e = box[p]
                # traps of each box are sorted by x: scan only the window |dx| < r
                j = np.searchsorted(traps[e, :, 0], x - r)
                for j in range(j, Nt):
                    dx = x - traps[e, j, 0]
                    if dx < -r:
                        break
                    dy = y - traps[e, j, 1]
                    if dx * dx + dy * dy < r2:
                        close = True
                        break
            new = (b and stay_free) or (close and stay_free)
            nb_[p] = new
            if b and not new and not has_pend[p, 0]:
                need[p, 0] = True
                missing = True
        if missing:
            return t
        for p in range(P):
            if bound[p, t - 1] and not nb_[p]:
                cur[p, :, :] = pend[p, 0]
                has_pend[p, 0] = False
                ptr[p] = 0
            bound[p, t] = nb_[p]
            k = min(ptr[p], T - 1)
            ptr[p] += 1
            for d in range(2):
                x = pos[p, t - 1, d]
                if not nb_[p]:
                    x = _reflect1(x + cur[p, k, d], L)
                pos[p, t, d] = x
    return T


@nb.njit(cache=True)
def dimer_kernel(t0, pos, partner, reg, box_start, box_end, r, Pu, Pb, L, coin_u, coin_b, cur, ptr, pend, has_pend, need, state_now):  # pragma: no cover
    """dimerization (``models_phenom.dimerization``): each dimer splits with prob Pu; free
    particles that did not just split bind, greedily in particle order, to the first free
    particle of their box closer than 2r (prob Pb); a new dimer moves with one shared noise
    sequence drawn from its lower-index particle's dimer-state parameters."""
    P, T, _ = pos.shape
    r2 = 4 * r * r
    esc = np.zeros(P, dtype=np.bool_)
    newp = np.full(P, -1, dtype=np.int64)
    for t in range(t0, T):
        missing = False
        for p in range(P):
            esc[p] = False
            newp[p] = -1
        for p in range(P):
            q = partner[p]
            if q > p and coin_u[p, t] < Pu:
                esc[p] = True
                esc[q] = True
        for n in range(P):
            if partner[n] >= 0 or newp[n] >= 0:
                continue
            xn, yn = pos[n, t - 1, 0], pos[n, t - 1, 1]
            attempt = 0
            for m in range(box_start[n], box_end[n]):
                if m == n or partner[m] >= 0 or newp[m] >= 0:
                    continue
                dx = xn - pos[m, t - 1, 0]
                dy = yn - pos[m, t - 1, 1]
                d2 = dx * dx + dy * dy
                if d2 < r2 and d2 > 0:
                    ok = Pb >= 1.0 or coin_b[(n + 7919 * attempt) % P, t] < Pb
                    attempt += 1
                    if ok:
                        newp[n] = m
                        newp[m] = n
                        break
        for p in range(P):
            if esc[p] and not has_pend[p, 0]:
                need[p, 0] = True
                missing = True
            q = newp[p]
            if q > p and not has_pend[p, 1]:
                need[p, 1] = True
                missing = True
        if missing:
            return t
        for p in range(P):
            if esc[p]:
                partner[p] = -1
                state_now[p] = 0
                cur[p, :, :] = pend[p, 0]
                has_pend[p, 0] = False
                ptr[p] = 0
        for p in range(P):
            q = newp[p]
            if q > p:
                partner[p] = q
                partner[q] = p
                state_now[p] = 1
                state_now[q] = 1
                cur[p, :, :] = pend[p, 1]
                cur[q, :, :] = pend[p, 1]
                has_pend[p, 1] = False
                ptr[p] = 0
                ptr[q] = 0
        for p in range(P):
            k = min(ptr[p], T - 1)
            ptr[p] += 1
            for d in range(2):
                pos[p, t, d] = _reflect1(pos[p, t - 1, d] + cur[p, k, d], L)
            reg[p, t] = state_now[p]
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
