"""Placement of the confinement model's circular compartments (reflections at walls and circles
are in the compiled time loops of ``_kernels``).

Glossary: L = box side (px), r = compartment radius, Nc = compartments per layout.
"""

from __future__ import annotations

import numpy as np


def place_compartments(n_sets: int, Nc: int, r: float, L: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Non-overlapping circular compartments by rejection, ``n_sets`` independent layouts.

    As ``_distribute_circular_compartments``: centres uniform in [r, L − r]², a candidate is kept
    if its distance to every kept centre exceeds 2r, giving up after Nc·100 attempts.

    Returns
    -------
    centres : ndarray, shape (n_sets, Nc, 2)
        Unfilled slots are NaN (only when the box cannot hold Nc compartments).
    count : ndarray, shape (n_sets,)
    """
    cx = np.full((n_sets, Nc), np.nan)  # x and y of the centres, kept apart: contiguous (m, Nc) rows
    cy = np.full((n_sets, Nc), np.nan)
    first = rng.random((n_sets, 2)) * (L - 2 * r) + r
    cx[:, 0], cy[:, 0] = first[:, 0], first[:, 1]
    count = np.ones(n_sets, dtype=np.int64)
    attempts = 0
    while attempts < Nc * 100:
        todo = np.flatnonzero(count < Nc)
        if todo.size == 0:
            break
        cand = rng.random((todo.size, 2)) * (L - 2 * r) + r  # (m, 2)
        k = int(count[todo].max())  # slots beyond every row's count are empty (NaN)
        dx = cx[todo, :k] - cand[:, 0, None]  # (m, k)
        dy = cy[todo, :k] - cand[:, 1, None]
        d = np.sqrt(dx * dx + dy * dy)  # = np.linalg.norm over (x, y), NaN for empty
        ok = ~np.any(d <= 2 * r, axis=1)  # NaN compares False
        rows = todo[ok]
        cx[rows, count[rows]] = cand[ok, 0]
        cy[rows, count[rows]] = cand[ok, 1]
        count[rows] += 1
        attempts += 1
    return np.stack([cx, cy], axis=2), count
