"""Compiled CSV row formatting for :mod:`andimamba.io._csv`: ``%.Pg`` floats and ``%d`` integers byte for
byte as Python's ``%`` operator, text cells copied from pre-encoded bytes.

``%.Pg`` rounds the exact binary value of a float to P significant digits (half to even). Here the
value is scaled to ``D = |v| · 10^(P-1-e)`` in float64 (``e`` its decimal exponent), whose relative
error is below 2.3e-16 — an absolute error below ``10^P · 2.3e-16`` — and ``D`` is rounded to an
integer. When ``D`` lies within ``MARGIN · 10^P`` of a rounding boundary (a fraction of ½, or a power
of ten that decides ``e``) that error could flip the result: such a cell is *uncertain* and Python
formats it instead (about 2 cells in 10⁵ at P = 10: :func:`format_rows` leaves them out and
reports where they go). Zero, NaN (an empty cell, pandas' ``na_rep``), infinities and
magnitudes outside [1e-280, 1e280] are handled as Python writes them or sent to Python.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..numba_cache import CachedKernel

MAX_P = 12  # largest precision the float64 scaling decides with a safe margin
MARGIN = 1e-15  # uncertainty band, relative to 10^P (4x the scaling's error bound)
_POW10 = np.array([float(f"1e{k}") for k in range(-330, 331)])  # correctly rounded powers of ten
_JIT = dict(cache=True, nogil=True)

# cell kinds
FLOAT, INT, TEXT = 0, 1, 2


@njit(**_JIT)
def _scaled(a, P, pow10):
    """(N, e, ok) for a finite a > 0: N the P-digit integer of a rounded to P significant digits,
    e the decimal exponent of that rounded value; ok False when the float64 scaling cannot decide it."""
    if a < 1e-280 or a > 1e280:
        return 0, 0, False
    lo, hi = pow10[P - 1 + 330], pow10[P + 330]  # 10^(P-1), 10^P (exact for P <= 12)
    margin = MARGIN * hi
    e = int(math.floor(math.log10(a)))
    D = a * pow10[P - 1 - e + 330]
    if D < lo:  # log10 rounded up across a power of ten
        e -= 1
        D = a * pow10[P - 1 - e + 330]
    elif D >= hi:
        e += 1
        D = a * pow10[P - 1 - e + 330]
    if abs(D - lo) < margin or abs(D - hi) < margin:
        return 0, 0, False
    fl = math.floor(D)
    fr = D - fl
    if abs(fr - 0.5) < margin:
        return 0, 0, False
    N = int(fl) + (1 if fr > 0.5 else 0)
    if N == int(hi):  # rounded up to the next power of ten
        N = int(lo)
        e += 1
    return N, e, True


@njit(**_JIT)
def _put_int(x, out, pos):
    """Write the decimal digits of the int64 ``x`` at ``out[pos:]``; return the new position."""
    if x < 0:
        out[pos] = 45  # '-'
        pos += 1
        u = np.uint64(-(x + 1)) + np.uint64(1)  # |x|, also for the smallest int64
    else:
        u = np.uint64(x)
    n = 1
    t = u
    while t >= np.uint64(10):
        t //= np.uint64(10)
        n += 1
    for j in range(n - 1, -1, -1):
        out[pos + j] = np.uint8(48 + u % np.uint64(10))
        u //= np.uint64(10)
    return pos + n


@njit(**_JIT)
def _put_g(v, P, pow10, digits, out, pos):
    """Write ``"%.{P}g" % v`` at ``out[pos:]`` (NaN as an empty cell); return the new position, or -1
    when the cell is uncertain."""
    if v != v:
        return pos
    if v < 0.0 or (v == 0.0 and math.copysign(1.0, v) < 0.0):
        out[pos] = 45  # '-'
        pos += 1
    a = abs(v)
    if math.isinf(a):
        out[pos], out[pos + 1], out[pos + 2] = 105, 110, 102  # inf
        return pos + 3
    if a == 0.0:
        out[pos] = 48
        return pos + 1
    N, e, ok = _scaled(a, P, pow10)
    if not ok:
        return -1
    u = np.uint64(N)
    for j in range(P - 1, -1, -1):  # digits[0] the most significant (unsigned: cheaper division)
        digits[j] = np.uint8(48 + u % np.uint64(10))
        u //= np.uint64(10)
    last = P - 1  # last non-zero digit (trailing zeros are dropped, as %g does)
    while last > 0 and digits[last] == 48:
        last -= 1
    if -4 <= e < P:  # fixed notation
        if e < 0:
            out[pos], out[pos + 1] = 48, 46  # "0."
            pos += 2
            for _ in range(-e - 1):
                out[pos] = 48
                pos += 1
            for j in range(last + 1):
                out[pos] = digits[j]
                pos += 1
        else:
            for j in range(e + 1):
                out[pos] = digits[j]
                pos += 1
            if last > e:
                out[pos] = 46
                pos += 1
                for j in range(e + 1, last + 1):
                    out[pos] = digits[j]
                    pos += 1
        return pos
    out[pos] = digits[0]  # exponent notation: d[.ddd]e±XX
    pos += 1
    if last > 0:
        out[pos] = 46
        pos += 1
        for j in range(1, last + 1):
            out[pos] = digits[j]
            pos += 1
    out[pos] = 101  # 'e'
    out[pos + 1] = 45 if e < 0 else 43
    pos += 2
    x = -e if e < 0 else e
    if x < 10:
        out[pos] = 48
        pos += 1
    return _put_int(x, out, pos)


@njit(**_JIT)
def format_rows(kinds, index, floats, ints, starts, ends, blob, P, out, missed_at, missed_value):
    """Write m CSV rows into ``out`` (uint8, large enough); return (bytes written, cells missed).

    An uncertain float cell is left empty: its position in ``out`` and its value go to
    ``missed_at`` / ``missed_value`` (capacity nf·m, in order), for Python to format and insert.

    Parameters
    ----------
    kinds, index : (k,) int64
        Cell kind of each column (FLOAT, INT, TEXT) and its row in the array of that kind.
    floats : (nf, m) float64
    ints : (ni, m) int64
    starts, ends : (nt, m) int64
        Byte range in ``blob`` of each text cell.
    blob : (nb,) uint8
        UTF-8 text of the text cells.
    P : int
        Precision of the float cells (``%.{P}g``).
    out : (nbytes,) uint8
    missed_at : (nf·m,) int64
    missed_value : (nf·m,) float64
    """
    digits = np.empty(P, np.uint8)
    k = kinds.shape[0]
    m = floats.shape[1] if floats.shape[0] else (ints.shape[1] if ints.shape[0] else starts.shape[1])
    pos = 0
    missed = 0
    for i in range(m):
        for c in range(k):
            if c:
                out[pos] = 44  # ','
                pos += 1
            j = index[c]
            if kinds[c] == FLOAT:
                new = _put_g(floats[j, i], P, _POW10, digits, out, pos)
                if new < 0:
                    missed_at[missed] = pos
                    missed_value[missed] = floats[j, i]
                    missed += 1
                else:
                    pos = new
            elif kinds[c] == INT:
                pos = _put_int(ints[j, i], out, pos)
            else:
                for b in range(starts[j, i], ends[j, i]):
                    out[pos] = blob[b]
                    pos += 1
        out[pos] = 10  # '\n'
        pos += 1
    return pos, missed


def _example_args() -> tuple:
    """Arguments of the types :func:`andimamba.io._csv.write_csv` passes (C-contiguous, writable)."""
    i1, i2 = np.zeros(1, np.int64), np.zeros((0, 1), np.int64)
    return (i1, i1, np.zeros((1, 1)), i2, i2, i2, np.zeros(1, np.uint8), 10, np.zeros(32, np.uint8), i1, np.zeros(1))


KERNEL = CachedKernel(format_rows, _example_args, __name__)
preload = KERNEL.load  # ~2 s in a child process once per install, then a load from numba's cache
