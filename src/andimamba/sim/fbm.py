"""Exact fractional Gaussian noise (fGn), batched, by circulant embedding (Davies & Harte 1987).

Glossary: n = number of sequences, T = sequence length, H = α/2 the Hurst exponent.

For unit-variance fGn the autocovariance is
``γ(k) = ½ (|k+1|^{2H} − 2|k|^{2H} + |k−1|^{2H})``. Embedding the T×T Toeplitz covariance in a
circulant matrix of size M = 2T gives eigenvalues ``λ = FFT(c)`` with
``c = [γ(0), …, γ(T), γ(T−1), …, γ(1)]``, all non-negative for fGn (Craigmile 2003). With
``Z = Z₁ + iZ₂`` i.i.d. standard normal, ``Y = FFT(√(λ/M) · Z)`` has real and imaginary parts that
are two *independent* exact fGn sequences (their cross-covariance vanishes because λ is symmetric),
so one complex FFT yields both coordinates of a 2-D track. Every row may have its own α.

This mirrors ``andi_datasets.models_phenom.disp_fbm`` (which calls ``stochastic``'s
``FractionalGaussianNoise`` row by row, then rescales to unit variance): the result has
⟨ξ²⟩ = 1 per step, so ``√(2K)·ξ`` has per-coordinate MSD 2·K·t^α.
"""

from __future__ import annotations

import numpy as np

__all__ = ["fgn_autocovariance", "fgn_amplitude", "fgn_2d", "fgn_2d_from_amplitude"]


def fgn_autocovariance(hurst: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """Autocovariance of unit-variance fGn.

    Parameters
    ----------
    hurst : ndarray, shape (n,)
        Hurst exponents in (0, 1).
    lags : ndarray, shape (m,)
        Non-negative integer lags.

    Returns
    -------
    ndarray, shape (n, m)
    """
    h2 = 2.0 * np.asarray(hurst, dtype=np.float64)[:, None]  # (n, 1)
    lags = np.asarray(lags, dtype=np.int64)
    kmax = int(lags.max()) if lags.size else 0
    pw = np.arange(kmax + 2, dtype=np.float64)[None, :] ** h2  # (n, kmax + 2): |k|^{2H}
    m = lags.size
    if np.array_equal(lags, np.arange(m)):  # the common case, with slices instead of gathers
        # 0.5 · (|k+1|^{2H} − 2|k|^{2H} + |k−1|^{2H}), in place: the same operations in the same order
        g = pw[:, :m] * 2
        np.subtract(pw[:, 1 : m + 1], g, out=g)
        g[:, 0] += pw[:, 1]  # |0 − 1|^{2H}
        g[:, 1:] += pw[:, : m - 1]
        g *= 0.5
        return g
    return 0.5 * (pw[:, lags + 1] - 2 * pw[:, lags] + pw[:, np.abs(lags - 1)])


def _check(alpha: np.ndarray, T: int) -> np.ndarray:
    alpha = np.atleast_1d(np.asarray(alpha, dtype=np.float64))
    if alpha.ndim != 1:
        raise ValueError(f"alpha must be a 1-D array of exponents, got shape {alpha.shape}")
    if not np.all((alpha > 0) & (alpha < 2)):
        bad = alpha[~((alpha > 0) & (alpha < 2))][0]
        raise ValueError(f"alpha={bad!r} is outside the allowed range (0, 2) for fractional Gaussian noise")
    if int(T) < 1:
        raise ValueError(f"T={T!r}: the number of increments must be >= 1")
    return alpha


def fgn_amplitude(alpha: np.ndarray, T: int) -> np.ndarray:
    """Circulant-embedding amplitudes ``√(λ/M)`` of each row's fGn, the α-dependent half of ``fgn_2d``.

    Parameters
    ----------
    alpha : array_like, shape (n,)
        Anomalous exponent of each row, in (0, 2) (H = α/2).
    T : int
        Number of increments per sequence (≥ 2; M = 2T).

    Returns
    -------
    ndarray, shape (n, 2T), float64
        Rows to pass to ``fgn_2d_from_amplitude``; a row depends only on its own α, so amplitudes can
        be computed once per (particle, state) and reused for every fresh sequence.
    """
    alpha = _check(alpha, T)
    M = 2 * int(T)
    if alpha.shape[0] == 0:
        return np.empty((0, M))
    # Rows sharing one α share the eigenvalues: compute λ once per distinct α.
    uniq, inv = np.unique(alpha, return_inverse=True)
    c = fgn_autocovariance(uniq / 2.0, np.arange(int(T) + 1))  # (u, T + 1): first half of the circulant row
    from scipy import fft as sp_fft  # here, not at the top: importing scipy.fft (and scipy.special with it) costs
    # ~0.1 s, and andimamba.short_tracks imports this module at every start of ``andimamba predict``

    lam = sp_fft.irfft(c, n=M, axis=1) * M  # (u, M): FFT of the symmetric row, real by symmetry
    np.maximum(lam, 0.0, out=lam)  # ≥ 0 for fGn; clip rounding
    return np.sqrt(lam / M)[inv]  # (n, M)


def fgn_2d_from_amplitude(amp: np.ndarray, T: int, rng: np.random.Generator, scale: np.ndarray | None = None, out: np.ndarray | None = None) -> np.ndarray:
    """Two independent unit-variance fGn sequences per row, from ``fgn_amplitude`` rows.

    Draws ``rng.standard_normal((n, 4T))`` and makes one complex FFT per row, exactly as
    ``fgn_2d`` (same numbers for the same generator state).

    Parameters
    ----------
    amp : ndarray, shape (n, 2T)
    T : int
    rng : numpy.random.Generator
    scale : ndarray, shape (n,), optional
        Per-row factor (e.g. √(2K)) applied to the result, as ``fgn_2d(...) * scale[:, None, None]``.
    out : ndarray, shape (n, T, 2), optional
        Where to write the result (saves a copy).

    Returns
    -------
    ndarray, shape (n, T, 2), float64
    """
    T = int(T)
    n, M = amp.shape
    if out is None:
        out = np.empty((n, T, 2))
    if n == 0:
        return out
    if T == 1:  # a single increment: plain white noise
        out[:] = rng.standard_normal((n, 1, 2))
    else:
        z = rng.standard_normal((n, 2 * M)).view(np.complex128)  # (n, M) complex, Re and Im i.i.d.
        z *= amp
        from scipy import fft as sp_fft

        y = sp_fft.fft(z, axis=1, overwrite_x=True)[:, :T]  # (n, T) complex
        out[..., 0] = y.real
        out[..., 1] = y.imag
    if scale is not None:
        out *= scale[:, None, None]
    return out


def fgn_2d(alpha: np.ndarray, T: int, rng: np.random.Generator) -> np.ndarray:
    """Two independent unit-variance fGn sequences per row (x and y), exact.

    Parameters
    ----------
    alpha : array_like, shape (n,)
        Anomalous exponent of each row, in (0, 2) (H = α/2).
    T : int
        Number of increments per sequence.
    rng : numpy.random.Generator
        Source of randomness (no global state is used).

    Returns
    -------
    ndarray, shape (n, T, 2), float64
        Increments with unit variance and fGn correlations.
    """
    alpha = _check(alpha, T)
    T = int(T)
    if alpha.shape[0] == 0:
        return np.empty((0, T, 2))
    if T == 1:  # a single increment: plain white noise
        return rng.standard_normal((alpha.shape[0], 1, 2))
    return fgn_2d_from_amplitude(fgn_amplitude(alpha, T), T, rng)
