"""Per-track α and K of short tracks (a few to ~20 frames): the exact likelihood of noisy fBm.

The network is trained and validated on tracks of ≥ 20 frames; Fast-SPT / sptPALM data are mostly
shorter. For those, :func:`estimate_short` returns one α and one K per track (no change points),
from the exact Gaussian likelihood of the track's increments, averaged over the unknowns on a grid.
Measured errors by length and the rule behind ``SHORT_MIN_LENGTH``: ``docs/short_tracks.md``.

Glossary: b = tracks, l = padded length, T = frames of one track, n = T − 1 increments per
coordinate, m = n(n+1)/2 distinct entries of an n × n symmetric matrix, g = grid points (α, r).

Model (the simulator's conventions, ``andimamba.sim``): positions in px, time in frames,
x_t = X_t + e_t per coordinate with X a fractional Brownian motion of exponent α, so that
MSD(τ) = 4·K·τ^α in 2-D (K in px²/frame^α), and e_t i.i.d. N(0, σ²) localisation noise (σ in px).
The increments d_t = x_t − x_{t−1}, t = 1 … n, of each coordinate are Gaussian with covariance

    C = 2K·(Γ_α + r·N),   Γ_α[i, j] = γ_α(|i − j|),   N = tridiag(−1, 2, −1),   r = σ² / (2K),

γ_α the unit-variance fGn autocovariance (``sim.fbm.fgn_autocovariance``) and N the MA(1)
covariance of differenced white noise. x and y are independent with the same C.

Estimator. With S = Σ_{x,y} dᵀ(Γ_α + rN)⁻¹d, the likelihood of both coordinates is
(2K)^{−n} det(Γ_α + rN)^{−1} exp(−S / 4K). With a flat prior on log K (scale invariance),
K integrates out analytically: p(α, r | d) ∝ prior(α, r) · S^{−n} det(Γ_α + rN)^{−1}, and given
(α, r), 1/K is Gamma-distributed, so E[log K | α, r, d] = log(S/4) − ψ(n). The prior is uniform on
α ∈ [0, 2] and on log₁₀ r ∈ [−4, 0.5], i.e. a localisation noise std between 1 % and 1.8× the
one-frame step std per coordinate (dimensionless, so the estimator is exactly scale invariant; the
range was chosen on tuning seeds of ``benchmarks/bench_short_tracks.py``: short tracks barely
separate K from σ, so this prior sets the bias of K at either end of the range). We return the
posterior **median** of α (the MAE-optimal point estimate) and exp of the posterior mean of log K.
With ``sigma`` given (known localisation precision), r fixes K = σ²/(2r) on the grid
log₁₀ r ∈ [−7, 1], i.e. a flat prior on log K over K ∈ [σ²/20, 5·10⁶ σ²].

Computation: S for every grid point is one matrix product, S = D · P with D (b, m) the flattened
outer products Σ ddᵀ of the tracks and P (m, g) the flattened inverses (Γ_α + rN)⁻¹, cached per n;
tracks are grouped by length. Deterministic (no randomness, no iteration).

Not done here: change points (use the network on ≥ 20 frames), states, confinement or drift
models; immobile tracks come out with a small K and an uninformative α.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .sim.fbm import fgn_autocovariance

__all__ = ["ALPHA_CELLS", "LOG10_R_GRID", "LOG10_R_KNOWN", "MAX_FRAMES", "SHORT_MAX_LENGTH", "SHORT_MIN_LENGTH", "estimate_short"]

SHORT_MIN_LENGTH: int = 6  # frames; the rule and its measurement: docs/short_tracks.md
SHORT_MAX_LENGTH: int = 19  # frames; from 20 frames on the network (with change points) takes over
MAX_FRAMES: int = 40  # longest track accepted (the cached P grows as T² · g)

_N_ALPHA = 50
ALPHA_CELLS: np.ndarray = (np.arange(_N_ALPHA) + 0.5) * (2.0 / _N_ALPHA)  # (na,) α cell centres; cells tile [0, 2]
LOG10_R_GRID: np.ndarray = np.linspace(-4.0, 0.5, 46)  # (nr,) log₁₀ r, r = σ² / (2K): the prior's support, σ unknown
LOG10_R_KNOWN: np.ndarray = np.linspace(-7.0, 1.0, 81)  # (nr,) the same with σ known: K from σ²/20 to 5·10⁶ σ²
_CHUNK = 2048  # tracks per matrix product (bounds memory at ~_CHUNK · g · 8 bytes per array)


@lru_cache(maxsize=2 * MAX_FRAMES)
def _grid(n: int, log10_r: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Flattened inverses P (m, g) and log-determinants (g,) of Γ_α + rN for n increments."""
    gam = fgn_autocovariance(ALPHA_CELLS / 2.0, np.arange(n))  # (na, n): γ_α(k), H = α/2
    lag = np.abs(np.arange(n)[:, None] - np.arange(n)[None, :])  # (n, n)
    mn = 2.0 * np.eye(n) - np.eye(n, k=1) - np.eye(n, k=-1)  # (n, n): MA(1) of differenced white noise
    M = gam[:, lag][:, None] + (10.0 ** np.asarray(log10_r))[None, :, None, None] * mn  # (na, nr, n, n)
    L = np.linalg.cholesky(M)
    logdet = 2.0 * np.log(np.diagonal(L, axis1=-2, axis2=-1)).sum(-1).ravel()  # (g,)
    P = np.linalg.inv(M)  # (na, nr, n, n)
    iu = np.triu_indices(n)
    twice = np.where(iu[0] == iu[1], 1.0, 2.0)  # off-diagonal entries appear twice in dᵀPd
    Pf = np.ascontiguousarray((P[..., iu[0], iu[1]] * twice).reshape(-1, len(twice)).T)  # (m, g)
    return Pf, logdet, iu


def _quad(d: np.ndarray, log10_r: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """S (c, g) = Σ_{x,y} dᵀ(Γ_α + rN)⁻¹d for increments d (c, n, 2) px, with logdet (g,) and n."""
    n = d.shape[1]
    Pf, logdet, iu = _grid(n, tuple(float(v) for v in log10_r))
    D = np.einsum("bix,bjx->bij", d, d)[:, iu[0], iu[1]]  # (c, m)
    return np.maximum(D @ Pf, np.finfo(np.float64).tiny), logdet, n


def _loglik_known(S: np.ndarray, logdet: np.ndarray, n: int, log_sigma: np.ndarray, log10_r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log-likelihood (c, g) with σ known (log σ (c,)), K = σ²/(2r) on the grid, and log 2K (c, g)."""
    log2k = 2.0 * log_sigma[:, None] - np.asarray(log10_r)[None, :] * np.log(10.0)  # (c, nr): 2K = σ²/r
    log2k = np.tile(log2k, (1, _N_ALPHA))  # (c, g), α-major like the grid
    return -n * log2k - logdet - 0.5 * S * np.exp(-log2k), log2k


def _posterior(d: np.ndarray, sigma: np.ndarray | None, log10_r: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Posterior weights over the grid and E[log K | grid point] for tracks of one length.

    d (c, n, 2) increments in px; sigma (c,) px or None; log10_r (nr,) the grid of log₁₀ r (its
    range is the prior's support; default ``LOG10_R_GRID``, or ``LOG10_R_KNOWN`` with sigma).
    Returns w (c, na, nr), summing to 1 per track, and logk (c, na, nr). With sigma None, argmax
    w is the maximum-likelihood point and the profile estimate there is log K̂ = logk + ψ(n) − log n.
    """
    if log10_r is None:
        log10_r = LOG10_R_GRID if sigma is None else LOG10_R_KNOWN
    S, logdet, n = _quad(d, log10_r)
    if sigma is None:
        logS = np.log(S)
        ll = -n * logS - logdet  # (c, g): K integrated out under the flat prior on log K
        from scipy.special import digamma  # here: scipy.special costs 0.1 s of every start, short tracks or not

        logk = logS - np.log(4.0) - digamma(n)  # (c, g)
    else:
        ll, log2k = _loglik_known(S, logdet, n, np.log(sigma), log10_r)
        logk = log2k - np.log(2.0)
    ll -= ll.max(axis=1, keepdims=True)
    w = np.exp(ll)
    w /= w.sum(axis=1, keepdims=True)
    shape = (len(d), _N_ALPHA, len(log10_r))
    return w.reshape(shape), logk.reshape(shape)


def _median_alpha(wa: np.ndarray) -> np.ndarray:
    """Median of a piecewise-uniform density on the α cells: wa (c, na) cell masses → (c,)."""
    h = 2.0 / _N_ALPHA
    cdf = np.cumsum(wa, axis=1)  # (c, na): mass below each cell's upper edge
    j = np.argmax(cdf >= 0.5, axis=1)  # (c,) cell holding the median
    below = np.where(j > 0, cdf[np.arange(len(j)), j - 1], 0.0)  # (c,)
    mass = np.maximum(wa[np.arange(len(j)), j], np.finfo(np.float64).tiny)
    return j * h + np.clip((0.5 - below) / mass, 0.0, 1.0) * h


def _check(positions, lengths, sigma) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    pos = np.asarray(positions, dtype=np.float64)
    if pos.ndim != 3 or pos.shape[-1] != 2:
        raise ValueError(f"positions must have shape (n_tracks, n_frames, 2) in pixels, got {pos.shape}")
    b, l, _ = pos.shape
    lengths = np.asarray(lengths)
    if lengths.shape != (b,) or (b and not np.issubdtype(lengths.dtype, np.integer)):
        raise ValueError(f"lengths must be {b} integers (frames per track), got shape {lengths.shape}, dtype {lengths.dtype}")
    if b and (lengths.min() < 3 or lengths.max() > min(l, MAX_FRAMES)):
        raise ValueError(f"track lengths must lie in [3, {min(l, MAX_FRAMES)}] frames (got {lengths.min()} to "
                         f"{lengths.max()}); longer tracks go to the network (andimamba.predict)")
    valid = np.arange(l)[None, :] < lengths[:, None]  # (b, l)
    if not np.all(np.isfinite(pos[valid])):
        raise ValueError("positions contain NaN or infinite values inside a track; remove or interpolate those frames")
    if sigma is not None:
        sigma = np.broadcast_to(np.asarray(sigma, dtype=np.float64), (b,))
        if not np.all((sigma > 0) & np.isfinite(sigma)):
            raise ValueError("sigma (localisation noise std in px) must be finite and > 0, or None if unknown")
    return pos, lengths.astype(np.int64), sigma


def estimate_short(positions: np.ndarray, lengths: np.ndarray, sigma: float | np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One anomalous exponent α and one diffusion coefficient K per (short) track.

    Parameters
    ----------
    positions : array_like, shape (b, l, 2)
        x, y in pixels, padded: frames ``t >= lengths[i]`` of row ``i`` are ignored (any value).
    lengths : array_like of int, shape (b,)
        Frames of each track, 3 to ``min(l, MAX_FRAMES)``; the measured regime is
        ``SHORT_MIN_LENGTH`` to ``SHORT_MAX_LENGTH``.
    sigma : float or array_like of shape (b,), optional
        Localisation noise std per coordinate, in px, when known. Default None: unknown,
        integrated out per track under the noise-to-step prior of the module docstring.

    Returns
    -------
    alpha : ndarray, shape (b,)
        Posterior median of α, in [0, 2].
    K : ndarray, shape (b,)
        Generalized diffusion coefficient in px²/frame^α (MSD = 4·K·t^α), exp of the posterior
        mean of log K; 0 for a track that never moves.

    Notes
    -----
    Invariant to translation and padding; K scales as s² when positions are scaled by s (with
    ``sigma`` scaled too when given). With ``sigma`` given, K is confined to [σ²/20, 5·10⁶ σ²].
    Cost ∝ T² per track, vectorised over tracks of equal length; errors by length and throughput:
    ``benchmarks/bench_short_tracks.py``, ``docs/short_tracks.md``.

    Examples
    --------
    >>> import numpy as np
    >>> xy = np.cumsum(np.random.default_rng(0).normal(0, 1, (100, 10, 2)), axis=1)  # K = 0.5, α = 1
    >>> a, K = estimate_short(xy, np.full(100, 10))
    >>> bool(abs(a.mean() - 1) < 0.15 and abs(np.log10(np.median(K) / 0.5)) < 0.15)
    True
    """
    pos, lengths, sigma = _check(positions, lengths, sigma)
    b = pos.shape[0]
    alpha = np.zeros(b)
    K = np.zeros(b)
    for r, d in _chunks(pos, lengths, np.arange(b)):
        w, logk = _posterior(d, None if sigma is None else sigma[r])  # (c, na, nr) each
        alpha[r] = _median_alpha(w.sum(axis=2))
        K[r] = np.exp((w * logk).sum(axis=(1, 2)))
        K[r[~np.any(d != 0, axis=(1, 2))]] = 0.0  # motionless: K = 0 exactly
    return alpha, K


def _chunks(pos: np.ndarray, lengths: np.ndarray, rows: np.ndarray):
    """(rows (c,), increments (c, n, 2)) of the given rows, grouped by length, ≤ _CHUNK at a time."""
    for T in np.unique(lengths[rows]):
        same = rows[lengths[rows] == T]
        for s in range(0, same.size, _CHUNK):
            r = same[s : s + _CHUNK]
            yield r, np.diff(pos[r, :T], axis=1)
