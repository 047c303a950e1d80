"""TrackMate's spots table CSV ("Export to CSV" of the spots table)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from .. import _text
from .._tidy import build_tracks
from ..errors import TrackFileError, opt
from ..tracks import Tracks
from ._common import (
    _NO_TRACK,
    _SPOT_COLUMNS,
    _check_agree,
    _cut_at_shared_frames,
    _interval_from_times,
    logger,
)


def _header_rows(path: Path) -> tuple[int, list[str], list[str]]:
    """Number of header rows, the column keys and the units row (``[]`` when absent)."""
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as f:
        first = f.readline()
        sep = _text.delimiter(first)
        rows = list(csv.reader([first] + [f.readline() for _ in range(3)], delimiter=sep))
    keys = [c.strip() for c in rows[0]]
    n = 1
    ix = keys.index("FRAME")
    for r in rows[1:]:
        cell = r[ix].strip() if len(r) > ix else ""
        if cell and cell.lstrip("-").replace(".", "", 1).isdigit():
            break
        n += 1
        if n == 4:
            break
    units = [c.strip() for c in rows[n - 1]] if n > 1 else []
    return n, keys, units


def read_trackmate_spots(path, *, pixel_size: float | None = None, frame_interval: float | None = None,
                         units: str | None = None, min_length: int = 20) -> Tracks:
    """Read a TrackMate spots table CSV export.

    Parameters
    ----------
    path : str or path-like
        The CSV file.
    pixel_size : float, optional
        µm per pixel; required when the units row says micron (or nm).
    frame_interval : float, optional
        Seconds per frame; default: from POSITION_T / FRAME when POSITION_T is in a time unit.
    units : {"px", "nm", "um"}, optional
        Overrides the spatial unit of the file (needed for exports without a units row).
    min_length : int
        Shortest track kept, in frames.

    Returns
    -------
    Tracks
        Positions in pixels; tracks with several spots in one frame cut into pieces
        ``"<TRACK_ID>.b<k>"`` (see the module docstring), counted in ``n_branched``; spots without
        a track counted in ``n_unlinked_spots``.
    """
    p = _text.check_file(path)
    kind, found, cols = _text.sniff(p)
    if kind != "csv" or "FRAME" not in cols:
        raise TrackFileError(p, f"is not a TrackMate spots table (found {found})",
                             "export the Spots table from TrackMate's table view as CSV", line=1)
    n_head, keys, unit_row = _header_rows(p)
    wanted = dict(_SPOT_COLUMNS)
    if "POSITION_Z" in keys:
        wanted["z"] = "POSITION_Z"
    if "POSITION_T" in keys:
        wanted["t"] = "POSITION_T"
    raw = _text.read_cells(p, wanted, header_rows=n_head)
    unit_of = dict(zip(keys, unit_row))
    space = units or unit_of.get("POSITION_X", "")
    _check_agree(p, units, unit_of.get("POSITION_X", ""))
    if not space:
        raise TrackFileError(p, "the file has no units row, so the unit of POSITION_X is unknown",
                             f"pass {opt('units', 'px')}, or {opt('units', 'um')} with {opt('pixel_size')}")
    pixel_size = _text.check_positive("pixel_size", pixel_size)
    scale = _text.unit_scale(space, pixel_size, p)
    track = raw["track"]
    untracked = track.isna().to_numpy()
    if not pd.api.types.is_numeric_dtype(track):
        untracked |= track.astype(str).str.strip().str.lower().isin(_NO_TRACK).to_numpy()
    n_unlinked = int(untracked.sum())
    if n_unlinked:
        logger.info("%s: %d spot(s) belong to no track and are not analysed", p, n_unlinked)
        raw = raw[~untracked]
    file_dt = None
    ts = _text.time_scale(unit_of.get("POSITION_T"))
    if "t" in raw.columns and ts is not None:
        t = pd.to_numeric(raw["t"], errors="coerce").to_numpy(np.float64)
        fr = pd.to_numeric(raw["frame"], errors="coerce").to_numpy(np.float64)
        file_dt = _interval_from_times(t, fr)
        file_dt = file_dt * ts if file_dt else None
    raw = raw.drop(columns=[c for c in ("t",) if c in raw.columns])
    raw, n_branched = _cut_at_shared_frames(raw, p, wanted, "line")
    return build_tracks(raw, path=p, fmt="trackmate_spots", names=dict(wanted), scale=scale, min_length=min_length,
                        pixel_size=pixel_size, n_branched=n_branched, n_unlinked_spots=n_unlinked,
                        frame_interval=_text.resolve("frame_interval",
                                                     _text.check_positive("frame_interval", frame_interval), file_dt, p))
