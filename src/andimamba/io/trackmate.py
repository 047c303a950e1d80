"""Readers for TrackMate (Fiji) exports: spots table CSV, XML model file, simple tracks XML.

- **Spots table CSV** (Tracks/Spots table -> "Export to CSV"): a header row of feature keys
  (``LABEL, ID, TRACK_ID, QUALITY, POSITION_X, POSITION_Y, POSITION_Z, POSITION_T, FRAME, ...``),
  then up to three more header rows (feature names, short names — each omitted by TrackMate when
  identical to the previous one — and units such as ``(micron)``, ``(sec)``), then one spot
  per row. Spots that belong to no track (empty or ``None`` TRACK_ID) are ignored.
- **XML model file** (File -> Save): ``<TrackMate><Model spatialunits= timeunits=>``, spots in
  ``<AllSpots><SpotsInFrame><Spot ID= POSITION_X= POSITION_Y= POSITION_Z= FRAME=/>``, tracks in
  ``<AllTracks><Track TRACK_ID=><Edge SPOT_SOURCE_ID= SPOT_TARGET_ID=/>``, the tracks shown in
  ``<FilteredTracks><TrackID TRACK_ID=/>``, and the image calibration in
  ``<Settings><ImageData pixelwidth= timeinterval=/>``. Only filtered (visible) tracks are read.
- **Simple tracks XML** (action "Export tracks to XML file"): ``<Tracks spaceUnits= frameInterval=
  timeUnits=><particle><detection t= x= y= z=/>``; ``t`` is the frame number; tracks are named
  by their order, ``0, 1, ...``.

Positions are converted to pixels following the units policy of :mod:`andimamba.io.readers`.
Branching tracks (TrackMate's split/merge events) put two spots of one track in one frame and
are refused with the duplicate-frame error. XML is streamed with ``xml.etree.ElementTree.iterparse``.
"""

from __future__ import annotations

import csv
import logging
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd

from . import _text
from ._tidy import build_tracks
from .errors import TrackFileError
from .tracks import Tracks

logger = logging.getLogger("andimamba.io")

_SPOT_COLUMNS = {"track": "TRACK_ID", "frame": "FRAME", "x": "POSITION_X", "y": "POSITION_Y"}
_NO_TRACK = {"", "none", "nan", "null"}


def _interval_from_times(t: np.ndarray, frame: np.ndarray) -> float | None:
    """Median seconds per frame from spot times and frames (None when it cannot be told)."""
    ok = np.isfinite(t) & np.isfinite(frame) & (frame > 0)
    if not ok.any():
        return None
    dt = float(np.median(t[ok] / frame[ok]))
    return dt if dt > 0 else None


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


def read_trackmate_spots(path, pixel_size: float | None = None, frame_interval: float | None = None,
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
    units : {"px", "um"}, optional
        Overrides the spatial unit of the file (needed for exports without a units row).
    min_length : int
        Shortest track kept, in frames.

    Returns
    -------
    Tracks
        Positions in pixels.
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
    if not space:
        raise TrackFileError(p, "the file has no units row, so the unit of POSITION_X is unknown",
                             "pass units='px' or units='um' (with pixel_size)")
    pixel_size = _text.check_positive("pixel_size", pixel_size)
    scale = _text.unit_scale(space, pixel_size, p)
    track = raw["track"]
    untracked = track.isna().to_numpy()
    if not pd.api.types.is_numeric_dtype(track):
        untracked |= track.astype(str).str.strip().str.lower().isin(_NO_TRACK).to_numpy()
    if untracked.any():
        logger.info("%s: ignored %d spot(s) that belong to no track", p, int(untracked.sum()))
        raw = raw[~untracked]
    file_dt = None
    ts = _text.time_scale(unit_of.get("POSITION_T"))
    if "t" in raw.columns and ts is not None:
        t = pd.to_numeric(raw["t"], errors="coerce").to_numpy(np.float64)
        fr = pd.to_numeric(raw["frame"], errors="coerce").to_numpy(np.float64)
        file_dt = _interval_from_times(t, fr)
        file_dt = file_dt * ts if file_dt else None
    raw = raw.drop(columns=[c for c in ("t",) if c in raw.columns])
    names = {k: v for k, v in wanted.items()}
    return build_tracks(raw, path=p, fmt="trackmate_spots", names=names, scale=scale, min_length=min_length,
                        pixel_size=pixel_size, frame_interval=_text.resolve(
                            "frame_interval", _text.check_positive("frame_interval", frame_interval), file_dt, p))


def _iterparse(path: Path, events=("start", "end")):
    """``ET.iterparse`` whose ParseError becomes a TrackFileError (with the line)."""
    try:
        with open(path, "rb") as f:
            yield from ET.iterparse(f, events=events)
    except ET.ParseError as exc:
        raise TrackFileError(path, f"is not valid XML ({exc})", "re-save it from TrackMate; it may be truncated",
                             line=exc.position[0]) from None


def _float(v: str | None) -> float | None:
    try:
        return float(v) if v is not None else None
    except ValueError:
        return None


def _resolve_space(p: Path, space: str | None, units: str | None, pixel_size: float | None,
                   file_pixel: float | None) -> tuple[float, float | None]:
    """(scale to px, pixel size in µm) from the file's unit, its calibration and the user's values."""
    unit = units or space
    if not unit:
        raise TrackFileError(p, "the file does not declare its spatial unit", "pass units='px' or units='um'")
    pixel_size = _text.check_positive("pixel_size", pixel_size)
    u = unit.strip().lower()
    if file_pixel and u not in ("px", "pixel", "pixels"):
        file_pixel = file_pixel * (1e-3 if u in ("nm", "nanometer", "nanometers") else 1.0)
    else:
        file_pixel = None
    pixel_size = _text.resolve("pixel_size", pixel_size, file_pixel, p)
    return _text.unit_scale(unit, pixel_size, p), pixel_size


def read_trackmate_xml(path, pixel_size: float | None = None, frame_interval: float | None = None,
                       units: str | None = None, min_length: int = 20) -> Tracks:
    """Read a TrackMate XML model file (the file TrackMate saves and reloads).

    Parameters
    ----------
    path : str or path-like
        The ``.xml`` file with a ``<TrackMate>`` root.
    pixel_size : float, optional
        µm per pixel; default: ``ImageData pixelwidth`` when the model is calibrated in µm.
    frame_interval : float, optional
        Seconds per frame; default: ``ImageData timeinterval`` (or spot times).
    units : {"px", "um"}, optional
        Overrides the model's ``spatialunits``.
    min_length : int
        Shortest track kept, in frames.

    Returns
    -------
    Tracks
        The filtered (visible) tracks, named by TRACK_ID, positions in pixels.
    """
    p = _text.check_file(path)
    spots: dict[str, tuple] = {}  # spot ID -> (FRAME, X, Y, Z, T) as strings
    tracks: dict[str, list[str]] = {}  # TRACK_ID -> spot IDs (with repeats)
    shown: set[str] | None = None
    space = time = pix = dt = None
    current = None
    for event, el in _iterparse(p):
        tag = el.tag
        if event == "start":
            if tag == "Model":
                space, time = el.get("spatialunits"), el.get("timeunits")
            elif tag == "Track":
                current = el.get("TRACK_ID")
                tracks[current] = []
            elif tag == "FilteredTracks":
                shown = set()
            continue
        if tag == "Spot":
            sid = el.get("ID")
            spots[sid] = tuple(el.get(k) for k in ("FRAME", "POSITION_X", "POSITION_Y", "POSITION_Z", "POSITION_T"))
            el.clear()
        elif tag == "Edge" and current is not None:
            tracks[current] += [el.get("SPOT_SOURCE_ID"), el.get("SPOT_TARGET_ID")]
            el.clear()
        elif tag == "TrackID" and shown is not None:
            shown.add(el.get("TRACK_ID"))
        elif tag == "ImageData":
            pix, dt = _float(el.get("pixelwidth")), _float(el.get("timeinterval"))
        elif tag in ("SpotsInFrame", "Track"):
            el.clear()
    keep = [t for t in tracks if shown is None or t in shown]
    if not keep:
        raise TrackFileError(p, "holds no (visible) track", "run the tracking step in TrackMate and save again")
    rows = []
    for tid in keep:
        for sid in dict.fromkeys(tracks[tid]):  # unique, in edge order
            if sid not in spots:
                raise TrackFileError(p, f"an edge refers to spot ID={sid}, which is not in <AllSpots>",
                                     "the file is incomplete: re-save it from TrackMate", track=tid)
            rows.append((tid, *spots[sid], sid))
    raw = pd.DataFrame(rows, columns=["track", "frame", "x", "y", "z", "t", "_loc"], dtype=object)
    scale, pixel_size = _resolve_space(p, space, units, pixel_size, pix)
    ts = _text.time_scale(time)
    file_dt = dt * ts if dt and ts else None
    if file_dt is None and ts:
        t, fr = (pd.to_numeric(raw[c], errors="coerce").to_numpy(np.float64) for c in ("t", "frame"))
        file_dt = (_interval_from_times(t, fr) or 0) * ts or None
    raw = raw.drop(columns="t").fillna("")
    names = {"track": "TRACK_ID", "frame": "FRAME", "x": "POSITION_X", "y": "POSITION_Y", "z": "POSITION_Z"}
    return build_tracks(raw, path=p, fmt="trackmate_xml", names=names, loc="spot ID={}", scale=scale,
                        min_length=min_length, pixel_size=pixel_size, frame_interval=_text.resolve(
                            "frame_interval", _text.check_positive("frame_interval", frame_interval), file_dt, p))


def read_trackmate_tracks(path, pixel_size: float | None = None, frame_interval: float | None = None,
                          units: str | None = None, min_length: int = 20) -> Tracks:
    """Read TrackMate's simple "Export tracks to XML file" output (``<Tracks>`` root).

    Parameters
    ----------
    path : str or path-like
        The ``.xml`` file.
    pixel_size : float, optional
        µm per pixel; required when ``spaceUnits`` is micron (this file has no calibration).
    frame_interval : float, optional
        Seconds per frame; default: the file's ``frameInterval``.
    units : {"px", "um"}, optional
        Overrides ``spaceUnits``.
    min_length : int
        Shortest track kept, in frames.

    Returns
    -------
    Tracks
        Tracks named ``0, 1, ...`` in file order, positions in pixels.
    """
    p = _text.check_file(path)
    rows = []
    space = time = dt = None
    n = -1
    k = 0
    for event, el in _iterparse(p):
        if event == "start":
            if el.tag == "Tracks":
                space, time, dt = el.get("spaceUnits"), el.get("timeUnits"), _float(el.get("frameInterval"))
            elif el.tag == "particle":
                n, k = n + 1, 0
            continue
        if el.tag == "detection":
            k += 1
            rows.append((str(n), el.get("t"), el.get("x"), el.get("y"), el.get("z"), k))
            el.clear()
        elif el.tag == "particle":
            el.clear()
    raw = pd.DataFrame(rows, columns=["track", "frame", "x", "y", "z", "_loc"], dtype=object).fillna("")
    scale, pixel_size = _resolve_space(p, space, units, pixel_size, None)
    ts = _text.time_scale(time)
    file_dt = dt * ts if dt and ts else None
    return build_tracks(raw, path=p, fmt="trackmate_tracks", names={"frame": "t"}, loc="detection {}",
                        scale=scale, min_length=min_length, pixel_size=pixel_size, frame_interval=_text.resolve(
                            "frame_interval", _text.check_positive("frame_interval", frame_interval), file_dt, p))
