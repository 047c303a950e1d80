"""Low-level helpers shared by the readers: file sniffing, raw CSV cells, units.

Nothing here is public API; see :mod:`andimamba.io.readers`.
"""

from __future__ import annotations

import csv
import logging
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import TrackFileError

logger = logging.getLogger("andimamba.io")

_PX = {"px", "pixel", "pixels", "pix"}
_UM = {"um", "µm", "μm", "micron", "microns", "micrometer", "micrometers", "micrometre", "micrometres"}
_NM = {"nm", "nanometer", "nanometers", "nanometre", "nanometres"}
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

    The first line is the column header; ``header_rows - 1`` further header lines are skipped.
    Returns columns named by the internal names plus ``_loc``, the 1-based line number. Empty
    cells (and pandas' NA words such as ``NaN``, ``None``) are NaN; blank lines are dropped
    after numbering.
    """
    kind, found, cols = sniff(path)
    if kind != "csv":
        raise TrackFileError(path, f"is not a text table (found {found})",
                             "export the tracks as CSV" if kind != "empty" else "choose a non-empty file")
    missing = [v for v in wanted.values() if v not in cols]
    if missing:
        raise TrackFileError(path, f"missing column(s) {', '.join(missing)} (found: {', '.join(cols)})",
                             "rename the columns, or pass columns={'track': ..., 'frame': ..., 'x': ..., "
                             "'y': ...} naming yours", line=1)
    file_names = set(wanted.values())
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        sep = delimiter(first_line(f.read(65536)))
    try:
        df = pd.read_csv(path, sep=sep, skip_blank_lines=False, skiprows=range(1, header_rows), low_memory=False,
                         encoding="utf-8-sig", encoding_errors="replace", skipinitialspace=True,
                         usecols=lambda c: c.strip() in file_names)
    except (pd.errors.ParserError, ValueError) as exc:
        msg = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise TrackFileError(path, f"cannot be parsed as a table ({msg})",
                             "check that every row has as many fields as the header and one separator") from None
    df.columns = [c.strip() for c in df.columns]
    out = pd.DataFrame({k: df[v] for k, v in wanted.items()})
    out["_loc"] = np.arange(header_rows + 1, header_rows + 1 + len(out))  # 1-based line of each row
    blank = out.drop(columns="_loc").isna().all(axis=1).to_numpy()
    return out[~blank].reset_index(drop=True)


def unit_scale(unit: str | None, pixel_size: float | None, path, what: str = "positions") -> float:
    """Factor taking positions in ``unit`` to pixels (error when µm/nm and no pixel size)."""
    u = (unit or "").strip().strip("()[]").strip().lower()
    if u in _PX:
        return 1.0
    if u in _UM or u in _NM:
        if pixel_size is None:
            raise TrackFileError(path, f"{what} are in {unit.strip('()')} and the pixel size is unknown",
                                 "pass the pixel size in µm per pixel (pixel_size=..., or --pixel-size on the "
                                 "command line) so that positions can be converted to pixels")
        return (1.0 if u in _UM else 1e-3) / pixel_size
    raise TrackFileError(path, f"{what} are in an unknown unit {unit!r}",
                         "andimamba understands pixel, micron (µm) and nm: pass units='px' or units='um'")


def time_scale(unit: str | None) -> float | None:
    """Seconds per ``unit`` (None for frames or an unknown unit)."""
    u = (unit or "").strip().strip("()[]").strip().lower()
    return _TIME.get(u)


def check_positive(name: str, value: float | None) -> float | None:
    """``value`` as float when given; ValueError unless finite and > 0."""
    if value is None:
        return None
    v = float(value)
    if not v > 0 or v == float("inf"):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return v


def resolve(name: str, user: float | None, from_file: float | None, path) -> float | None:
    """The user's value wins over the file's; warn when they disagree by more than 1 %."""
    if user is not None:
        if from_file and abs(user - from_file) > 0.01 * from_file:
            logger.warning("%s: using %s=%g given by you, not %g written in the file", path, name, user, from_file)
        return user
    return from_file if from_file and from_file > 0 else None
