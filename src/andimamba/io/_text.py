"""Low-level helpers shared by the readers: file sniffing, raw CSV cells (rows checked whole), units.

Nothing here is public API; see :mod:`andimamba.io.readers`.
"""

from __future__ import annotations

import csv
import logging
import mmap
import re
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd

from .. import threads
from .columns import unit_of
from ..errors import UserError
from .errors import TrackFileError, opt

logger = logging.getLogger("andimamba.io")

_TIME = {"s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0, "ms": 1e-3, "msec": 1e-3,
         "millisecond": 1e-3, "milliseconds": 1e-3, "min": 60.0, "minute": 60.0, "minutes": 60.0}


def check_file(path) -> Path:
    """``path`` as a Path, or TrackFileError when it is missing, a folder or unreadable."""
    p = Path(path)
    if not p.exists():
        raise TrackFileError(p, "does not exist", "check the path and the file name")
    if p.is_dir():
        raise TrackFileError(p, "is a folder, not a track file",
                             "give one file, or read the AnDi-2 challenge layout with read_andi_folder")
    try:
        with open(p, "rb") as f:
            f.read(1)
    except OSError as exc:
        raise TrackFileError(p, f"cannot be read ({exc.strerror or exc})", "check the file's permissions") from None
    return p


def sniff(path: Path) -> tuple[str, str, list[str] | str]:
    """Look at the start of a file.

    Returns
    -------
    kind : {"csv", "xml", "binary", "empty"}
    found : str
        What the file looks like, for messages (e.g. "columns a, b, c").
    detail : list of str or str
        For "csv" the column names (stripped), for "xml" the root tag, else "".
    """
    with open(path, "rb") as f:
        head = f.read(65536)
    if not head.strip():
        return "empty", "an empty file", ""
    if head.startswith(b"PK\x03\x04") or b"\x00" in head[:4096]:
        what = "a ZIP or Excel (.xlsx) file" if head.startswith(b"PK") else "binary content or UTF-16 text"
        return "binary", what, ""
    text = head.decode("utf-8-sig", errors="replace").lstrip()
    if text.startswith("<"):
        try:
            with open(path, "rb") as f:
                for _, el in ET.iterparse(f, events=("start",)):
                    return "xml", f"an XML file with root <{el.tag}>", el.tag
        except ET.ParseError as exc:
            raise TrackFileError(path, f"is not valid XML ({exc})", "re-export the file; it may be truncated",
                                 line=exc.position[0]) from None
        return "xml", "an XML file without elements", ""
    line = first_line(text)
    cols = [c.strip() for c in next(csv.reader([line], delimiter=delimiter(line)))]
    return "csv", "columns " + ", ".join(cols[:12]) + (", ..." if len(cols) > 12 else ""), cols


def first_line(text: str) -> str:
    """The first non-blank line of ``text``."""
    return next((ln for ln in text.splitlines() if ln.strip()), "")


def delimiter(header: str) -> str:
    """The most frequent of ``,``, tab and ``;`` in the header line (default ``,``)."""
    counts = {s: header.count(s) for s in (",", "\t", ";")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def read_cells(path: Path, wanted: dict[str, str], header_rows: int = 1) -> pd.DataFrame:
    """Read the columns ``wanted`` (internal name -> file column name); numbers parsed, text kept.

    Returns columns named by the internal names plus ``_loc``, the 1-based line number of each
    row; see :func:`read_columns` for the checks made on the way.
    """
    cols = sniff_table(path)
    missing = [v for v in wanted.values() if v not in cols]
    if missing:
        example = {k: v if v in cols else "..." for k, v in wanted.items() if k in ("track", "frame", "x", "y")}
        raise TrackFileError(path, f"missing column(s) {', '.join(missing)} (found: {', '.join(cols)})",
                             f"rename the columns, or name yours with {opt('columns', example)}", line=1)
    df = read_columns(path, list(dict.fromkeys(wanted.values())), header_rows)
    out = pd.DataFrame({k: df[v] for k, v in wanted.items()})
    out["_loc"] = df["_loc"]
    return out


def sniff_table(path: Path) -> list[str]:
    """The header of a text table, or TrackFileError when the file is not one."""
    kind, found, cols = sniff(path)
    if kind != "csv":
        raise TrackFileError(path, f"is not a text table (found {found})",
                             "export the tracks as CSV" if kind != "empty" else "choose a non-empty file")
    return cols


def read_columns(path: Path, names: list[str], header_rows: int = 1) -> pd.DataFrame:
    """Read the named columns of a text table, after checking that every row is whole.

    The first non-blank line is the column header; ``header_rows - 1`` further header lines are
    skipped. Every data row must have as many fields as the header (:func:`check_fields`), so
    that a stray separator (a decimal comma) cannot shift values between columns unnoticed.
    Numbers are parsed by pandas' C parser, text is kept. Returns the columns under their header
    names plus ``_loc``, the 1-based line number; blank lines are dropped after numbering.
    """
    cols = sniff_table(path)
    with open(path, "rb") as f:
        text = f.read(65536).decode("utf-8-sig", errors="replace")
    sep = delimiter(first_line(text))
    lead = next(i for i, ln in enumerate(text.split("\n")) if ln.strip())  # blank lines above the header
    skip = [*range(lead), *range(lead + 1, lead + header_rows)] or None
    # by position: robust to empty, repeated or oddly spaced names; the last column shows short rows
    use = sorted({cols.index(n) for n in names} | {len(cols) - 1})
    try:
        with warnings.catch_warnings():  # rows ending with a separator: the empty last field is dropped
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            df = _parse_in_parts(path, sep, len(cols), use, lead + header_rows)
            if df is None:
                # index_col=False: a row with one field more than the header must not make the first column an index
                df = pd.read_csv(path, sep=sep, header=0, usecols=use, skip_blank_lines=False, skiprows=skip,
                                 index_col=False, low_memory=False, encoding="utf-8-sig", encoding_errors="replace",
                                 skipinitialspace=True)
    except (pd.errors.ParserError, ValueError) as exc:
        msg = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise TrackFileError(path, f"cannot be parsed as a table ({msg})",
                             "check that every row has as many fields as the header and one separator") from None
    df.columns = [cols[i] for i in use]
    first = lead + header_rows + 1  # line number of the first data row
    check_fields(path, sep, len(cols), first, len(df), suspect=bool(df[cols[-1]].isna().any()))
    out = pd.DataFrame({n: df[n] for n in dict.fromkeys(names)})
    blank = out.isna().all(axis=1).to_numpy()
    out["_loc"] = np.arange(first, first + len(out))
    return out[~blank].reset_index(drop=True) if blank.any() else out


PARALLEL_BYTES = 8 << 20  # tables from this size on are parsed in parts at once (~120,000 rows of an AnDi CSV)


def _parse_in_parts(path: Path, sep: str, n_fields: int, use: list[int], body_line: int,
                    workers: int | None = None) -> pd.DataFrame | None:
    """The data rows (from 0-based line ``body_line`` on) parsed as ``workers`` byte ranges at once, or None.

    pandas' C tokenizer and number conversion release the GIL, so on two threads a 1,000,000-row AnDi CSV parses
    in about half the time (ad hoc: 0.25 → 0.13 s; docs/performance.md has ``read_tracks`` before and after). The ranges are cut after a newline, so every line
    lies whole in one part and the rows come back in file order, blank lines included (as the one-piece parse
    gives them). None, and the caller parses the file in one piece as before (same values, same errors), when
    that could differ: a small file, one thread (``workers`` default: :func:`andimamba.threads.io_threads`), quotes, no newline characters, any parse error, or a column that is numbers in
    one part and text in another (the one-piece parse then keeps every cell of it as text).
    """
    import io
    from concurrent.futures import ThreadPoolExecutor

    n = workers or threads.io_threads()
    if n <= 1 or path.stat().st_size < PARALLEL_BYTES:
        return None
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        body = _line_offset(data, body_line)
        if data.find(b'"', body) >= 0 or data.find(b"\n", body) < 0:
            return None
        cuts = [body]
        for k in range(1, n):
            at = data.find(b"\n", max(cuts[-1], body + k * (len(data) - body) // n))
            if at < 0 or at + 1 >= len(data):
                break
            cuts.append(at + 1)
        cuts.append(len(data))
        parts = [data[a:b] for a, b in zip(cuts[:-1], cuts[1:])]  # bytes copies: no view outlives the map
    if len(parts) < 2:
        return None

    def parse(blob: bytes) -> pd.DataFrame:
        return pd.read_csv(io.BytesIO(blob), sep=sep, header=None, names=list(range(n_fields)), usecols=use,
                           skip_blank_lines=False, index_col=False, low_memory=False, encoding="utf-8",
                           encoding_errors="replace", skipinitialspace=True)

    try:
        with ThreadPoolExecutor(len(parts), thread_name_prefix="andimamba-parse") as pool:
            frames = list(pool.map(parse, parts))
    except (pd.errors.ParserError, ValueError):
        return None
    for c in use:  # numbers in every part, or text in every part (its cells kept as written, as in one piece)
        kinds = {fr[c].dtype.kind for fr in frames}
        if not (kinds <= {"i", "f"} or kinds == {"O"}):
            return None
    return pd.concat(frames, ignore_index=True)


def check_fields(path, sep: str, n_fields: int, first: int, n_rows: int, suspect: bool = True) -> None:
    """TrackFileError at the first non-blank data line without exactly ``n_fields`` fields.

    ``first`` is the 1-based line number of the first data row and ``n_rows`` the number of rows
    pandas read. Fast path for clean files: when no row is short (``suspect`` False: pandas filled
    no missing last field) and the data hold exactly ``n_rows * (n_fields - 1)`` separators, no
    row can be long either (one pass over the memory-mapped file). Otherwise every line is
    counted (with numpy; with the csv module when the rows hold quotes, since a quoted separator
    does not separate).
    """
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        found = _first_ragged(data, sep, n_fields, first, n_rows, suspect)  # no view of `data` outlives this
    if found is not None:
        raise _ragged(path, *found, sep=sep, n_fields=n_fields)


def _first_ragged(data, sep: str, n_fields: int, first: int, n_rows: int, suspect: bool):
    """``(line number, line, a good line, fields, every row has one extra)`` of the first ragged row, or None."""
    body = _line_offset(data, first - 1)
    if not suspect:
        seps = np.count_nonzero(np.frombuffer(data, np.uint8)[body:] == ord(sep))
        if seps == n_rows * (n_fields - 1):
            return None
    quoted = data.find(b'"', body) >= 0
    n, blank, trail = _count_quoted(data[body:], sep) if quoted else _count_plain(data, body, sep)
    bad = np.flatnonzero((n != n_fields) & ~blank)
    if not len(bad) or np.all(((n == n_fields + 1) & trail) | blank):
        return None  # every row ends with a separator (an empty last field, as some exporters write)
    k, good = int(bad[0]), np.flatnonzero((n == n_fields) & ~blank)
    line, ref = (data[_line_offset(data, int(i), body):].split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8", "replace")
                 for i in (k, good[0] if len(good) else k))
    return first + k, line, ref, int(n[k]), bool(np.all((n == n_fields + 1) | blank))


def _line_offset(data: bytes, n: int, start: int = 0) -> int:
    """Byte offset of the start of the ``n``-th line (0-based) counted from offset ``start``."""
    pos = start
    for _ in range(n):
        nxt = data.find(b"\n", pos)
        if nxt < 0:
            return len(data)
        pos = nxt + 1
    return pos


def _count_plain(data, body: int, sep: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fields, blank, ends with an empty field) of every line from byte ``body`` on: (n_lines,) arrays."""
    a = np.frombuffer(data, np.uint8)[body:]
    nl = 10 if data.find(b"\n") >= 0 or data.find(b"\r") < 0 else 13  # old Mac files end lines with \r alone
    ends = np.flatnonzero(a == nl)  # (n_lines,) position of each line's end
    if len(a) and (not len(ends) or ends[-1] != len(a) - 1):
        ends = np.r_[ends, len(a)]  # a last line without newline
    if not len(ends):
        return np.zeros(0, np.int64), np.zeros(0, bool), np.zeros(0, bool)
    starts = np.r_[0, ends[:-1] + 1]  # (n_lines,)
    n = np.add.reduceat((a == ord(sep)).view(np.uint8), starts, dtype=np.int64) + 1  # (n_lines,)
    blank = (ends - starts) <= 1  # empty, or a lone \r
    for k in np.flatnonzero((n == 1) & ~blank):  # one "field": maybe only spaces
        blank[k] = not bytes(a[starts[k]:ends[k]]).strip()
    last = ends - 1 - (a[np.maximum(ends - 1, 0)] == 13)  # (n_lines,) last byte before \r\n
    trail = ~blank & (last >= starts) & (a[np.clip(last, 0, max(len(a) - 1, 0))] == ord(sep))
    return n, blank, trail


def _count_quoted(body: bytes, sep: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fields, blank, ends with an empty field) of every row, with the csv module (quote-aware; slower)."""
    rows = list(csv.reader(body.decode("utf-8", errors="replace").splitlines(), delimiter=sep))
    return (np.array([len(r) for r in rows], np.int64), np.array([not "".join(r).strip() for r in rows], bool),
            np.array([len(r) > 1 and not r[-1].strip() for r in rows], bool))


def _kind(field: str) -> str:
    """"int", "dec" (a number with a decimal point) or "other": the shape of a CSV field."""
    f = field.strip()
    if re.fullmatch(r"[-+]?\d+", f):
        return "int"
    return "dec" if re.fullmatch(r"[-+]?\d*\.\d+(e[-+]?\d+)?", f, re.IGNORECASE) else "other"


def _decimal_comma(fields: list[str], ref: list[str]) -> str | None:
    """The value (``"45,03"``) whose decimal comma explains one extra field, or None.

    Joining two adjacent whole numbers ``a,b`` into ``a.b`` must give a row whose fields have
    the shapes of a well-formed row ``ref`` (whole numbers where it has them, decimals where it
    has decimals), so that ``3,4,45,03,48.91`` blames ``45,03``, not the id and frame ``3,4``.
    """
    if len(fields) != len(ref) + 1:
        return None
    want = [_kind(f) for f in ref]
    for i in range(len(fields) - 1):
        a, b = fields[i], fields[i + 1]
        if _kind(a) == "int" and re.fullmatch(r"\d+", b.strip()):
            joined = fields[:i] + [f"{a.strip()}.{b.strip()}"] + fields[i + 2:]
            if [_kind(f) for f in joined] == want:
                return f"{a.strip()},{b.strip()}"
    return None


def _ragged(path, line: int, text: str, ref: str, n: int, every: bool, *, sep: str, n_fields: int) -> TrackFileError:
    """The error for a data line with ``n`` fields where the header has ``n_fields`` (``ref``: a good line)."""
    shown = {",": "','", "\t": "tab", ";": "';'"}[sep]
    if every and n == n_fields + 1:
        return TrackFileError(path, f"every row has {n} fields but the header has {n_fields} (its first column, a row "
                              "index, has no name)", f"give that column a name at the start of the header line "
                              f"(e.g. 'index{sep}')", line=1)
    problem = f"this row has {n} fields ({shown}-separated) but the header has {n_fields}"
    if n > n_fields:
        pair = _decimal_comma(*(next(csv.reader([t], delimiter=sep)) for t in (text, ref))) if sep == "," else None
        if pair:
            return TrackFileError(path, f"{problem}: {pair!r} looks like a number written with a decimal "
                                  "comma", "write decimals with a point (e.g. 45.03): export with an English number "
                                  "format, or separate the columns with ';'", line=line)
        return TrackFileError(path, problem, "remove the extra values, or put quotes around values that contain "
                              f"{shown}", line=line)
    other = next((s for s in (",", "\t", ";") if s != sep and s in text), None)
    if n == 1 and other:
        return TrackFileError(path, f"{problem}: it seems separated by {other!r} instead", "use one separator "
                              "throughout the file", line=line)
    return TrackFileError(path, problem, "fill in the missing values, or delete the row", line=line)


def unit_scale(unit: str | None, pixel_size: float | None, path, what: str = "positions",
               source: str = "") -> float:
    """Factor taking positions in ``unit`` to pixels (error when µm/nm and no pixel size).

    ``unit`` is any spelling :func:`andimamba.io.columns.unit_of` knows; ``source`` says where
    the unit comes from (e.g. "the header 'x [nm]'"), for the message.
    """
    u = unit_of(unit or "")
    if u == "px":
        return 1.0
    if u in ("um", "nm"):
        if pixel_size is None:
            word = str(unit).strip("()[] ")
            said = ("µm" if word == "um" else word) + (f" ({source})" if source else "")
            raise TrackFileError(path, f"{what} are in {said} and the pixel size is unknown",
                                 f"give the pixel size in µm per pixel with {opt('pixel_size')} so that positions "
                                 "can be converted to pixels")
        return (1.0 if u == "um" else 1e-3) / pixel_size
    raise TrackFileError(path, f"{what} are in an unknown unit {unit!r}",
                         f"andimamba understands px, nm and µm: say which with {opt('units', 'px')}")


def time_scale(unit: str | None) -> float | None:
    """Seconds per ``unit`` (None for frames or an unknown unit)."""
    u = (unit or "").strip().strip("()[]").strip().lower()
    return _TIME.get(u)


def check_positive(name: str, value: float | None) -> float | None:
    """``value`` as float when given; a UserError unless finite and > 0."""
    if value is None:
        return None
    v = float(value)
    if not v > 0 or v == float("inf"):
        raise UserError(f"{opt(name, value)}: must be a positive number")
    return v


def resolve(name: str, user: float | None, from_file: float | None, path) -> float | None:
    """The user's value wins over the file's; warn when they disagree by more than 1 %."""
    if user is not None:
        if from_file and abs(user - from_file) > 0.01 * from_file:
            logger.warning("%s: using %s=%g given by you, not %g written in the file", path, name, user, from_file)
        return user
    return from_file if from_file and from_file > 0 else None
