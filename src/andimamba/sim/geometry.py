"""Geometry shared by the models: reflecting box, circular compartments and their reflection,
and neighbour search across many independent boxes.

Glossary: P = number of particles (all boxes together), E = number of boxes, L = box side (px).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree


def reflect_box(x: np.ndarray, L: float) -> np.ndarray:
    """Fold coordinates back into [0, L] by repeated mirror reflection at the walls, in place.

    Mirrors the loop of ``andi_datasets.models_phenom`` (``x > L → 2L − x``, ``x < 0 → −x``,
    repeated until inside). Returns ``x``.
    """
    while True:
        hi = x > L
        lo = x < 0
        if not (hi.any() or lo.any()):
            return x
        x[hi] = 2 * L - x[hi]
        x[lo] = -x[lo]


def box_offsets(box: np.ndarray, L: float, margin: float) -> np.ndarray:
    """(P, 2) shifts that place box e at x + e·(L + margin), so that one KD-tree over all boxes
    never pairs points from different boxes when the search radius is below ``margin``."""
    off = np.zeros((box.shape[0], 2))
    off[:, 0] = box * (L + margin)
    return off


def close_to_any(points: np.ndarray, tree: cKDTree, radius: float) -> np.ndarray:
    """(P,) bool: is each point strictly closer than ``radius`` to a point of ``tree``?"""
    if tree.n == 0:
        return np.zeros(points.shape[0], dtype=bool)
    d, _ = tree.query(points, k=1, distance_upper_bound=radius)
    return d < radius


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


def reflect_in_circle(beg: np.ndarray, end: np.ndarray, centre: np.ndarray, r: float, eps: float = 1e-4) -> np.ndarray:
    """Specular reflection of the steps ``beg → end`` on the inside of circles, until inside.

    Mirrors ``models_phenom._reflected_position`` (a start point closer than ``eps`` to the
    boundary is first pulled inward to distance ``r − eps`` from the centre).

    Parameters
    ----------
    beg, end, centre : ndarray, shape (m, 2)
    r : float or ndarray, shape (m,)

    Returns
    -------
    ndarray, shape (m, 2)
        End points after reflection(s), inside their circle.
    """
    beg = beg.copy()
    end = end.copy()
    r = np.broadcast_to(np.asarray(r, dtype=np.float64), (beg.shape[0],))
    todo = np.linalg.norm(end - centre, axis=1) > r
    for _ in range(1000):
        if not todo.any():
            break
        b, e, c, rr = beg[todo], end[todo], centre[todo], r[todo]
        rel = b - c
        db = np.linalg.norm(rel, axis=1)
        near = db > rr - eps
        if near.any():
            b[near] = c[near] + (rr[near] - eps)[:, None] * rel[near] / db[near][:, None]
        v = e - b  # (m, 2)
        a2 = np.einsum("ij,ij->i", v, v)
        rel = b - c
        b1 = 2 * np.einsum("ij,ij->i", v, rel)
        c0 = np.einsum("ij,ij->i", rel, rel) - rr**2  # < 0: start inside
        s = (-b1 + np.sqrt(np.maximum(b1**2 - 4 * a2 * c0, 0.0))) / (2 * a2)  # exit root in (0, 1]
        inter = b + s[:, None] * v
        nrm = (inter - c) / rr[:, None]
        rem = e - inter
        rem = rem - 2 * np.einsum("ij,ij->i", rem, nrm)[:, None] * nrm
        e_new = inter + rem
        idx = np.flatnonzero(todo)
        beg[idx] = inter
        end[idx] = e_new
        todo[idx] = np.linalg.norm(e_new - c, axis=1) > rr
    return end
