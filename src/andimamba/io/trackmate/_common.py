"""What the TrackMate readers share: units and calibration, cutting branched tracks, streaming XML."""

from __future__ import annotations

import logging
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd

from .. import _text
from .._tidy import _Ctx, _track_ids
from ..columns import unit_of
from ..errors import TrackFileError, opt

logger = logging.getLogger("andimamba.io")

_SPOT_COLUMNS = {"track": "TRACK_ID", "frame": "FRAME", "x": "POSITION_X", "y": "POSITION_Y"}
_SPOT_KEYS = ("FRAME", "POSITION_X", "POSITION_Y", "POSITION_Z", "POSITION_T")
_NO_TRACK = {"", "none", "nan", "null"}
_SAVE_XML = "save the TrackMate XML model file (the Save button in TrackMate) and read that instead"


def _float(v: str | None) -> float | None:
    try:
        return float(v) if v is not None else None
    except ValueError:
        return None


def _positive(v: str | None) -> float | None:
    """A finite positive number from a file's text, else None; float32 values as TrackMate was given them."""
    x = _float(v)
    if x is None or not (math.isfinite(x) and x > 0):
        return None
    f32 = np.float32(x)
    # TrackMate 2-6 kept dx and dt as float32: 0.16 was written 0.1599999964237213
    return float(str(f32)) if float(f32) == x else x


def _interval_from_times(t: np.ndarray, frame: np.ndarray) -> float | None:
    """Median seconds per frame from spot times and frames (None when it cannot be told)."""
    ok = np.isfinite(t) & np.isfinite(frame) & (frame > 0)
    if not ok.any():
        return None
    dt = float(np.median(t[ok] / frame[ok]))
    return dt if dt > 0 else None


def _check_agree(p: Path, unit: str | None, declared: str | None) -> None:
    """A unit the user gives must agree with the one the file declares (one units policy for all readers)."""
    if unit and declared and unit_of(unit) and unit_of(declared) and unit_of(unit) != unit_of(declared):
        raise TrackFileError(p, f"{opt('units', unit)} contradicts the file, which declares its positions in {declared}",
                             f"leave out {opt('units', unit)}: TrackMate files carry their own unit")


def _resolve_space(p: Path, unit: str | None, declared: str | None, pixel_size: float | None,
                   file_pixel: float | None, missing: str) -> tuple[float, float | None]:
    """(scale to px, pixel size in µm) from the unit used, the file's pixel width and the user's value.

    ``unit`` is the unit the positions are read in (the user's ``units`` or the file's), ``declared``
    the file's own, in which ``file_pixel`` is expressed; ``missing`` says why the file has no
    usable pixel size, for the error.
    """
    if not unit:
        raise TrackFileError(p, "the file does not declare its spatial unit",
                             f"pass {opt('units', 'px')} or {opt('units', 'um')}")
    kind = unit_of(unit)  # None: unit_scale names the unknown unit
    _check_agree(p, unit, declared)
    pixel_size = _text.check_positive("pixel_size", pixel_size)
    source = unit_of(declared) if declared else kind
    file_um = file_pixel * (1e-3 if source == "nm" else 1.0) if file_pixel and source in ("um", "nm") else None
    pixel_size = _text.resolve("pixel_size", pixel_size, file_um, p)
    if kind in ("um", "nm") and pixel_size is None:
        raise TrackFileError(p, f"positions are in {unit} and {missing}",
                             f"give the image's pixel size in µm per pixel with {opt('pixel_size')}")
    return _text.unit_scale(unit, pixel_size, p), pixel_size


def _cut_at_shared_frames(raw: pd.DataFrame, path: Path, names: dict[str, str], loc: str) -> tuple[pd.DataFrame, int]:
    """Cut tracks with several spots in one frame at those frames (for files without links).

    Such frames cannot be linked unambiguously: their spots are dropped and each run of single-spot
    frames between them becomes a piece ``"<id>.b<k>"`` (k = 1, 2, ... by frame). Returns the table
    and the number of tracks cut (logged as a warning).
    """
    frame = pd.to_numeric(raw["frame"], errors="coerce").to_numpy(np.float64)  # (n,)
    if len(raw) == 0 or not np.isfinite(frame).all():
        return raw, 0  # build_tracks names the bad cell
    raw = raw.reset_index(drop=True)
    code, uniq = _track_ids(_Ctx(raw, path, names, loc))
    tid = uniq[code]  # (n,) ids as build_tracks will spell them
    shared = pd.DataFrame({"t": tid, "f": frame}).duplicated(keep=False).to_numpy()  # (n,)
    if not shared.any():
        return raw, 0
    cut = pd.unique(tid[shared])
    rows = np.flatnonzero(np.isin(tid, cut))
    rows = rows[np.lexsort((frame[rows], tid[rows]))]  # by track, then frame
    t, sh = tid[rows], shared[rows]
    first = np.r_[True, t[1:] != t[:-1]]
    start = ~sh & (first | np.r_[False, sh[:-1]])  # a run begins after a shared frame
    k = pd.Series(start.astype(np.int64)).groupby(t).cumsum().to_numpy()
    name = raw["track"].to_numpy(dtype=object).copy()
    name[rows[~sh]] = [f"{a}.b{b}" for a, b in zip(t[~sh], k[~sh])]
    i = rows[np.argmax(sh)]
    logger.warning("%s: %d track(s) have several spots in one frame (TrackMate split/merge events; e.g. track "
                   "%s, frame %d), which this file cannot link: they were cut at those frames into %d piece(s) "
                   "named '<id>.b<k>' and the %d spot(s) of those frames dropped; the TrackMate XML model file "
                   "keeps the links", path, len(cut), tid[i], int(frame[i]), int(start.sum()), int(shared.sum()))
    return raw.assign(track=name)[~shared].reset_index(drop=True), len(cut)


def _iterparse(path: Path, events=("start", "end")):
    """``ET.iterparse`` whose ParseError becomes a TrackFileError (with the line)."""
    try:
        with open(path, "rb") as f:
            yield from ET.iterparse(f, events=events)
    except ET.ParseError as exc:
        raise TrackFileError(path, f"is not valid XML ({exc})", "re-save it from TrackMate; it may be truncated",
                             line=exc.position[0]) from None
