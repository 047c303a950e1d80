"""Compiled inner loops of the simulator (numba, cached on disk after the first call)."""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True)
def walk_reflect(pos0, disp, L):  # pragma: no cover - compiled
    """pos[p, t] = reflect(pos[p, t−1] + disp[p, t]) in the box [0, L]², t ≥ 1.

    pos0 (P, 2), disp (P, T, 2) → (P, T, 2). The reflection loop is andi's: x > L → 2L − x,
    x < 0 → −x, repeated until inside.
    """
    P, T, _ = disp.shape
    pos = np.empty((P, T, 2))
    for p in range(P):
        for d in range(2):
            x = pos0[p, d]
            pos[p, 0, d] = x
            for t in range(1, T):
                x = x + disp[p, t, d]
                while x > L or x < 0:
                    if x > L:
                        x = 2 * L - x
                    if x < 0:
                        x = -x
                pos[p, t, d] = x
    return pos
