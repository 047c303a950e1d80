"""Ensemble metrics of one experiment (official ``error_Ensemble_dataset``).

The ensemble matrix of ``ensemble_labels.txt`` (5 × k: mean α, var α, mean K, var K, weight) is
read as a mixture of truncated normals, α on ``ALPHA_BOUNDS`` and K on ``K_BOUNDS``
(:mod:`andimamba.andi2`); the metric is the 1-Wasserstein distance between the truth's and the
prediction's mixtures, their densities sampled on the official 10⁶-point grids (linear for α,
logarithmic for K) and used as weights, as ``scipy.stats.wasserstein_distance`` does — in O(n).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import special

from ..andi2 import ALPHA_BOUNDS, K_BOUNDS

__all__ = ["ensemble_scores", "ENSEMBLE_FAILURE"]

ENSEMBLE_FAILURE = (abs(ALPHA_BOUNDS[1] - ALPHA_BOUNDS[0]), abs(K_BOUNDS[1] - K_BOUNDS[0]))  # when_error_ensemble
_LOG_SQRT_2PI = np.log(np.sqrt(2 * np.pi))  # scipy's _norm_pdf_logC


@lru_cache(maxsize=1)
def _supports():
    """Official grids (x, dx): 10⁶ points, linear on the α bounds, logarithmic on the K bounds."""
    n = int(1e6)
    x_a = np.linspace(ALPHA_BOUNDS[0], ALPHA_BOUNDS[1], n)
    x_k = np.logspace(np.log10(K_BOUNDS[0]), np.log10(K_BOUNDS[1]), n)
    return (x_a, np.diff(x_a)), (x_k, np.diff(x_k))


def _log_gauss_mass(a: float, b: float) -> float:
    """log(Φ(b) − Φ(a)), as scipy's truncnorm (left tail / right tail by symmetry / central)."""
    if b <= 0 or a > 0:
        a, b = (a, b) if b <= 0 else (-b, -a)
        return float(np.real(special.logsumexp([special.log_ndtr(b), special.log_ndtr(a) + np.pi * 1j], axis=0)))
    return float(special.log1p(-special.ndtr(a) - special.ndtr(-b)))


def _truncnorm_pdf(x, mean, var, lower, upper):
    """scipy.stats.truncnorm.pdf(x, (lower-mean)/sd, (upper-mean)/sd, loc=mean, scale=sd) on sorted x.

    Same operations as scipy (var floored at 1e-9 as multimode_dist), evaluated only where it can
    be non-zero: returns (i0, values of x[i0:i1]), zero elsewhere; None where scipy gives NaN.
    """
    var = 1e-9 if var < 1e-9 else var
    sd = np.sqrt(var)
    a, b = (lower - mean) / sd, (upper - mean) / sd
    if not (a < b and sd > 0):
        return None
    y = x - mean
    y /= sd  # (x - mean) / sd, non-decreasing in x
    log_mass = _log_gauss_mass(a, b)
    y_max = np.sqrt(2 * (760 - min(log_mass, 0)))  # beyond: exponent < -760, exp() == 0 exactly
    i0 = np.searchsorted(y, max(a, -y_max), "left")
    i1 = np.searchsorted(y, min(b, y_max), "right")
    t = y[i0:i1]  # in place, same rounding as exp((-y**2 / 2.0 - logC) - log_mass) / sd
    np.square(t, out=t)
    t /= -2.0
    t -= _LOG_SQRT_2PI
    t -= log_mass
    np.exp(t, out=t)
    t /= sd
    return i0, t


def _mixture(data: np.ndarray, which: str, x: np.ndarray) -> np.ndarray:
    """Mixture density on x of the α (rows 0, 1) or K (rows 2, 3) modes of a 5 × k ensemble matrix."""
    data = np.array(data, dtype=float)
    if data.ndim == 2 and data.shape[0] == 5:
        w = data[-1]
        if w.sum() > 1:
            w = w / w.sum()
        modes = data[:2].T if which == "alpha" else data[2:4].T
    elif data.ndim == 1 and data.shape[0] == 5:  # one state: weight 1 whatever row 5 says
        w, modes = np.ones(1), (data[:2] if which == "alpha" else data[2:4])[None]
    else:
        raise ValueError("ensemble matrix must be 5 × n_states (mean α, var α, mean K, var K, weight); "
                         f"got shape {data.shape}")
    lo, hi = ALPHA_BOUNDS if which == "alpha" else K_BOUNDS
    dist = np.zeros_like(x)
    for (mean, var), wi in zip(modes, w):
        pdf = _truncnorm_pdf(x, mean, var, lo, hi)
        if pdf is None or not np.isfinite(wi):  # official: NaN everywhere, rejected by wasserstein_distance
            return np.full_like(x, np.nan)
        i0, vals = pdf
        dist[i0:i0 + len(vals)] += wi * vals
    return dist


def _w1_same_support(dx, p, q) -> float:
    """scipy.stats.wasserstein_distance(x, x, p, q) for sorted x (dx = diff(x)), in O(n)."""
    for w in (p, q):
        if np.any(w < 0):
            raise ValueError("All weights must be non-negative.")
        if not 0 < np.sum(w) < np.inf:
            raise ValueError("Weight array-like sum must be positive and finite.")
    u, v = np.cumsum(p), np.cumsum(q)  # CDFs, as scipy's sorted cumulative weights
    u /= u[-1]
    v /= v[-1]
    u -= v
    np.abs(u, out=u)
    return float(np.dot(u[:-1], dx))


def ensemble_scores(true_matrix, pred_matrix) -> tuple[float, float]:
    """Ensemble-task distances, as the official ``error_Ensemble_dataset``.

    Parameters
    ----------
    true_matrix, pred_matrix : array_like, shape (5, n_states) or (5,)
        Rows: mean α, variance α, mean K, variance K, weight (``ensemble_labels.txt``).

    Returns
    -------
    (alpha_distance, K_distance) : tuple of float
        W1 between the mixtures of truncated normals (α on [0, 1.999], K on [1e-12, 1e6]), with the
        densities sampled on the official 10⁶-point grids (linear for α, log for K) used as weights.

    Raises
    ------
    ValueError
        For a matrix of another shape, or negative / NaN / all-zero densities (the official
        scorer fails there too and ``score_directory`` then gives the maximum errors).
    """
    (x_a, dx_a), (x_k, dx_k) = _supports()
    return (_w1_same_support(dx_a, _mixture(true_matrix, "alpha", x_a), _mixture(pred_matrix, "alpha", x_a)),
            _w1_same_support(dx_k, _mixture(true_matrix, "K", x_k), _mixture(pred_matrix, "K", x_k)))
