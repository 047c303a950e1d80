"""Exact fGn generated inside compiled time loops (numba), for kernels that need fresh noise sequences
at unpredictable frames: generating them here saves a return to Python (and a replay of the frame)
per event.

Same method as :mod:`.fbm` (Davies & Harte circulant embedding, one complex FFT giving the x and y
sequences), with two differences that change the numbers but not the distribution: the circulant
has size M = the power of two ≥ 2T (a radix-2 FFT written here; pocketfft's size-2T FFT cannot be
called from numba), and the normals come from the caller's ``numpy.random.Generator`` through
numba's implementation of it (the same stream as NumPy's ``standard_normal``).

``normals_times_amplitude`` and ``scaled_xy`` are the steps of ``sim.fbm.fgn_2d_from_amplitude``
around its FFT, compiled, giving the same numbers (scipy's FFT stays in between).

Glossary: T = sequence length, M = circulant size (power of two, M/2 ≥ T), H = α/2.
"""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["fft_plan", "fgn_amplitude_nb", "fgn_sequence_nb", "normals_times_amplitude", "scaled_xy"]


def fft_plan(T: int) -> tuple[np.ndarray, np.ndarray]:
    """Twiddles and bit-reversal permutation of the radix-2 FFT used for length-``T`` sequences.

    Returns
    -------
    tw : ndarray, shape (M/2,), complex128
        exp(−2πik/M).
    rev : ndarray, shape (M,), int64
        Bit-reversed index of each position.
    """
    M = 1 << max(2, int(np.ceil(np.log2(2 * int(T)))))
    bits = M.bit_length() - 1
    i = np.arange(M)
    rev = np.zeros(M, dtype=np.int64)
    for b in range(bits):
        rev |= ((i >> b) & 1) << (bits - 1 - b)
    return np.exp(-2j * np.pi * np.arange(M // 2) / M), rev


@nb.njit(cache=True)
def _fft_pow2(a, tw, rev):  # pragma: no cover - compiled
    """In-place iterative radix-2 FFT (forward, unnormalised) of a (n,) complex128, n a power of two
    ≤ M, with the plan (tw, rev) of size M (``fft_plan``)."""
    n = a.shape[0]
    M = rev.shape[0]
    shift = 0  # bit reversal over log2(n) bits = over log2(M) bits, shifted
    while (n << shift) < M:
        shift += 1
    for i in range(n):
        j = rev[i] >> shift
        if j > i:
            tmp = a[i]
            a[i] = a[j]
            a[j] = tmp
    size = 2
    while size <= n:
        half = size // 2
        step = M // size  # exp(−2πik/size) = tw[k · M/size]
        for start in range(0, n, size):
            for k in range(half):
                w = tw[k * step]
                u = a[start + k]
                v = a[start + k + half] * w
                a[start + k] = u + v
                a[start + k + half] = u - v
        size *= 2


@nb.njit(cache=True)
def fgn_amplitude_nb(alpha, out, buf, tw, rev):  # pragma: no cover - compiled
    """out[:] = √(λ/M) of unit-variance fGn with exponent alpha (H = α/2): λ = FFT of the
    circulant row [γ(0), …, γ(M/2), γ(M/2 − 1), …, γ(1)], γ(k) = ½(|k+1|^{2H} − 2|k|^{2H} + |k−1|^{2H}).
    out (M,) float64, buf (M,) complex128 scratch; M a power of two ≤ the plan's (sequences of up to
    M/2 + 1 values)."""
    M = out.shape[0]
    m = M // 2
    pw = out  # out[k] = k^{2H} = k^α = exp(α ln k) for k ≤ m + 1 (scratch until the end)
    pw[0] = 0.0
    for k in range(1, m + 2):
        pw[k] = np.exp(alpha * np.log(float(k)))
    for k in range(m + 1):
        g = 0.5 * (pw[k + 1] - 2.0 * pw[k] + pw[abs(k - 1)])
        buf[k] = g
        if 0 < k < m:
            buf[M - k] = g
    _fft_pow2(buf, tw, rev)
    for j in range(M):
        lam = buf[j].real
        out[j] = np.sqrt(lam / M) if lam > 0 else 0.0


@nb.njit(cache=True)
def fgn_sequence_nb(amp, scale, rng, seq, buf, tw, rev):  # pragma: no cover - compiled
    """seq (T, 2) = scale · (x, y) fGn increments from amplitudes amp (M,) (``fgn_amplitude_nb``,
    T ≤ M/2 + 1): M complex normals (real then imaginary part, drawn from rng), times amp, one FFT,
    first T values."""
    M = amp.shape[0]
    T = seq.shape[0]
    for j in range(M):
        re = rng.standard_normal()
        im = rng.standard_normal()
        buf[j] = complex(re * amp[j], im * amp[j])
    _fft_pow2(buf, tw, rev)
    for t in range(T):
        seq[t, 0] = buf[t].real * scale
        seq[t, 1] = buf[t].imag * scale


@nb.njit(cache=True)
def normals_times_amplitude(rng, amp, z):  # pragma: no cover - compiled
    """z[i, j] = (N, N') · amp[i, j] with N, N' standard normals drawn from rng row by row, real
    part first: the numbers of ``rng.standard_normal((n, 2M)).view(complex128) * amp`` (``sim.fbm``)
    in one pass. amp (n, M) float64 (rows may be strided), z (n, M) complex128."""
    n, M = amp.shape
    for i in range(n):
        for j in range(M):
            re = rng.standard_normal()
            im = rng.standard_normal()
            a = amp[i, j]
            z[i, j] = complex(re * a, im * a)


@nb.njit(cache=True)
def scaled_xy(y, scale, out):  # pragma: no cover - compiled
    """out[i, t] = (Re, Im) y[i, t] · scale[i] for t < T = out.shape[1] (``sim.fbm``'s last step)."""
    n, T, _ = out.shape
    for i in range(n):
        s = scale[i]
        for t in range(T):
            out[i, t, 0] = y[i, t].real * s
            out[i, t, 1] = y[i, t].imag * s
