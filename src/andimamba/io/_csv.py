"""Writing a results table as CSV fast, byte for byte as ``DataFrame.to_csv(index=False, float_format=...)``.

pandas formats every float cell through several Python calls (about 3 µs a cell: writing a
400,000-row ``frames.csv`` took 6 s, more than running the network), and even one printf call per
row leaves Python's float formatting (0.2 µs a cell) the largest cost of ``andimamba predict`` with
the per-frame table. :func:`write_csv` hands chunks of rows to a compiled kernel
(:mod:`andimamba.io._csv_kernels`): float cells ``%.Pg`` (P <= 12, the ``float_format``s predict
uses), integers ``%d``, text copied from UTF-8 bytes encoded once per run of equal cells (a track's
id repeats on each of its frames); the few float cells the kernel cannot round with certainty are
formatted by Python and inserted. NaN is an empty cell, as pandas writes it. The output is the
same bytes as pandas' (tests/io/test_csv.py and tests/io/test_csv_kernels.py check it, NaN,
infinities, signed zeros, ties and powers of ten included). Tables it does not cover — another
``float_format``, a text cell or column name that CSV would quote (a comma, a quote, a line
break), a missing text cell, a dtype other than float, integer or text — go to pandas unchanged.
"""

from __future__ import annotations

import re
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import TextIO

import numpy as np
import pandas as pd

from .. import threads

__all__ = ["write_csv"]

CHUNK_ROWS = 50_000
_QUOTE = (",", '"', "\n", "\r")  # what makes CSV quote a cell
_G = re.compile(r"%\.(\d+)g")


def _text_cells(s: pd.Series) -> tuple[bytes, np.ndarray, np.ndarray] | None:
    """A text column as (UTF-8 bytes of its distinct runs, (n,) start and (n,) end of each row's cell in
    them), or None when a cell is not a str or holds a character CSV quotes."""
    v = np.asarray(s.array, dtype=object)  # (n,) the column's str objects, no copy for pandas' str dtype
    try:
        starts = np.r_[0, np.flatnonzero(v[1:] != v[:-1]) + 1] if len(v) else np.zeros(0, np.int64)  # runs
    except TypeError:  # pd.NA cells (pandas' "string" dtype) cannot be compared: pandas' rules
        return None
    first = v[starts].tolist()
    if not all(type(x) is str for x in first):
        return None  # missing values or other objects: pandas' rules
    text = "".join(first)  # one C-level scan for characters that CSV quotes
    if any(q in text for q in _QUOTE):
        return None
    enc = [x.encode() for x in first]
    size = np.fromiter(map(len, enc), np.int64, len(enc))
    end = np.cumsum(size)
    runs = np.diff(np.r_[starts, len(v)])
    return b"".join(enc), np.repeat(end - size, runs), np.repeat(end, runs)


def _columns(df: pd.DataFrame):
    """(kinds (k,), index (k,), floats (nf, n), ints (ni, n), text starts (nt, n), ends (nt, n), blob,
    widest cell bytes) of the columns, or None when a column is not covered."""
    from ._csv_kernels import FLOAT, INT, TEXT
    n = len(df)
    kinds, index, floats, ints, starts, ends, blobs = [], [], [], [], [], [], []
    width, offset = 0, 0
    for j in range(df.shape[1]):
        s = df.iloc[:, j]
        dt = s.dtype
        if pd.api.types.is_bool_dtype(dt) or isinstance(dt, pd.CategoricalDtype):
            return None
        if isinstance(dt, np.dtype) and dt.kind == "f":
            kinds.append(FLOAT), index.append(len(floats)), floats.append(s.to_numpy(np.float64))
            width += 20
        elif isinstance(dt, np.dtype) and dt.kind in "iu":
            v = s.to_numpy()
            if dt.kind == "u" and len(v) and v.max() > np.iinfo(np.int64).max:
                return None
            kinds.append(INT), index.append(len(ints)), ints.append(v.astype(np.int64))
            width += 20
        elif pd.api.types.is_string_dtype(dt):
            cells = _text_cells(s)
            if cells is None:
                return None
            blob, a, b = cells
            kinds.append(TEXT), index.append(len(starts)), starts.append(a + offset), ends.append(b + offset)
            blobs.append(blob)
            offset += len(blob)
            width += int((b - a).max()) if n else 0
        else:
            return None

    def stack(arrays, dtype):
        return np.stack(arrays) if arrays else np.zeros((0, n), dtype)
    blob = np.frombuffer(bytearray(b"".join(blobs)), np.uint8) if offset else np.zeros(1, np.uint8)  # writable: one kernel type
    return (np.array(kinds, np.int64), np.array(index, np.int64), stack(floats, np.float64), stack(ints, np.int64),
            stack(starts, np.int64), stack(ends, np.int64), blob, width + len(kinds))


def write_csv(f: TextIO, df: pd.DataFrame, float_format: str, workers: int | None = None) -> None:
    """Write ``df`` to the open text file ``f`` as ``df.to_csv(f, index=False, float_format=float_format)``.

    Parameters
    ----------
    f : text file
        Opened for writing (newlines untranslated on POSIX, as pandas writes ``os.linesep``).
    df : DataFrame
        The table; its index is not written.
    float_format : str
        printf-style format of float cells, e.g. ``"%.10g"``; NaN is written as an empty cell.
    workers : int, optional
        Threads formatting chunks of rows at once (the kernel releases the GIL); the chunks are written in
        order, so the bytes do not depend on it. Default: :func:`andimamba.threads.io_threads`.
    """
    names = [str(c) for c in df.columns]
    g = _G.fullmatch(float_format)
    from ._csv_kernels import MAX_P, format_rows, preload
    ok = g is not None and 1 <= int(g.group(1)) <= MAX_P and bool(names) and not df.columns.has_duplicates \
        and not any(q in n for n in names for q in _QUOTE)
    cols = _columns(df) if ok else None
    if cols is None:
        df.to_csv(f, index=False, float_format=float_format)
        return
    kinds, index, floats, ints, starts, ends, blob, width = cols
    P = int(g.group(1))
    preload()  # loaded from numba's cache (or waits for the pipeline's background load)

    def chunk(a: int) -> str:
        b = min(a + CHUNK_ROWS, len(df))
        m = b - a
        out = np.empty(m * width, np.uint8)  # (bytes,) room for the widest row m times
        missed_at, missed_value = np.empty(m * len(floats), np.int64), np.empty(m * len(floats))
        size, missed = format_rows(kinds, index, np.ascontiguousarray(floats[:, a:b]), np.ascontiguousarray(ints[:, a:b]),
                                   np.ascontiguousarray(starts[:, a:b]), np.ascontiguousarray(ends[:, a:b]), blob, P,
                                   out, missed_at, missed_value)
        text = out[:size].tobytes()
        if missed:  # the cells the kernel could not round with certainty, formatted by Python
            cuts = [0, *missed_at[:missed].tolist(), size]
            fills = [(float_format % x).encode() for x in missed_value[:missed].tolist()]
            text = b"".join(p for i, fill in enumerate(fills) for p in (text[cuts[i]:cuts[i + 1]], fill)) \
                + text[cuts[-2]:]
        return text.decode()

    f.write(",".join(names) + "\n")
    firsts = list(range(0, len(df), CHUNK_ROWS))
    n = min(workers or threads.io_threads(), len(firsts))
    if n <= 1:
        for a in firsts:
            f.write(chunk(a))
        return
    with ThreadPoolExecutor(n) as pool:
        pending: deque = deque()  # futures in chunk order; at most n in flight, so memory stays at n chunks' text
        for a in firsts:
            if len(pending) == n:
                f.write(pending.popleft().result())  # a worker's exception is raised here, in order
            pending.append(pool.submit(chunk, a))
        while pending:
            f.write(pending.popleft().result())
