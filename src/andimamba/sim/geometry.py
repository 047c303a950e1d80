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
    centres = np.full((n_sets, Nc, 2), np.nan)
    centres[:, 0] = rng.random((n_sets, 2)) * (L - 2 * r) + r
    count = np.ones(n_sets, dtype=np.int64)
    attempts = 0
    while attempts < Nc * 100:
        todo = np.flatnonzero(count < Nc)
        if todo.size == 0:
            break
        cand = rng.random((todo.size, 2)) * (L - 2 * r) + r  # (m, 2)
        d = np.linalg.norm(centres[todo] - cand[:, None, :], axis=2)  # (m, Nc), NaN for empty
        ok = ~np.any(d <= 2 * r, axis=1)  # NaN compares False
        rows = todo[ok]
        centres[rows, count[rows]] = cand[ok]
        count[rows] += 1
        attempts += 1
    return centres, count
