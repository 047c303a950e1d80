"""Reading 2-D single-particle tracks from the files biology labs have.

Formats (``format=`` names)
---------------------------
``"andi"``
    AnDi-2 challenge CSV ``traj_idx,frame,x,y`` (pixels, absolute frames, possibly written as
    floats such as ``12.0``); a whole challenge folder with :func:`read_andi_folder`.
``"trackpy"``
    trackpy-style CSV ``particle,frame,x,y`` (extra columns ignored; names overridable with
    ``columns=``); any other tidy CSV via ``columns=``. In-memory DataFrames (e.g. the output of
    ``trackpy.link``) with :func:`tracks_from_dataframe`.
``"trackmate_spots"``, ``"trackmate_xml"``, ``"trackmate_tracks"``
    TrackMate's spots table CSV, full XML model file and "Export tracks to XML" file
    (see :mod:`andimamba.io.trackmate`).

``format="auto"`` decides from the file's content (header columns, or the XML root element);
an explicit format that does not match the content is an error naming both.

Units policy
------------
Positions are returned in **pixels** and time in **frames**, the units the model works in.
CSV positions are taken as pixels unless ``units="um"`` (then divided by ``pixel_size``, µm/px).
TrackMate files declare their spatial unit: pixels are used as they are; µm (or nm) are
converted with ``pixel_size`` — given by you, else the image calibration stored in a TrackMate
XML model file — and without one the reader stops with an error asking for ``--pixel-size``
(guessing 1 px = 1 µm would silently mis-scale K by pixel_size²). The frame interval (s) is read
from the file when it has one; a value you pass wins (with a warning if they differ by > 1 %).

Gap policy
----------
Trackers that bridge missed detections (trackpy ``memory``, TrackMate gap closing) leave gaps in
a track's frame numbers. The model assumes one position per frame, so a track is **split at
every gap**: its pieces become separate tracks named ``"<id>.<k>"`` (k = 1, 2, ...), and the
number of split tracks is logged as a warning and kept in ``Tracks.n_split``. Pieces shorter than
``min_length`` are then skipped like any short track (listed in ``Tracks.skipped``, logged).

Errors
------
Anything unusable raises :class:`~andimamba.io.errors.TrackFileError` (a ValueError) whose one-line
message names the file, the track and the 1-based line (or XML element), and what to do:
missing columns, non-numeric or empty cells, NaN/inf coordinates, non-integer or duplicated
frames, 3-D tracks (z varying), empty files, no track of ``min_length`` frames, a wrong format.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Mapping

import pandas as pd

from . import _text
from ._tidy import build_tracks
from .errors import TrackFileError
from .tracks import Tracks

logger = logging.getLogger("andimamba.io")

FORMATS = {
    "andi": "an AnDi-2 challenge CSV (columns traj_idx, frame, x, y)",
    "trackpy": "a trackpy-style CSV (columns particle, frame, x, y)",
    "trackmate_spots": "a TrackMate spots table CSV (columns TRACK_ID, POSITION_X, POSITION_Y, FRAME)",
    "trackmate_xml": "a TrackMate XML model file (root <TrackMate>)",
    "trackmate_tracks": "a TrackMate 'Export tracks to XML' file (root <Tracks>)",
}
TRACKPY_COLUMNS = {"track": "particle", "frame": "frame", "x": "x", "y": "y"}
_ANDI_COLUMNS = {"track": "traj_idx", "frame": "frame", "x": "x", "y": "y"}
_UNITS = {"px": "px", "pixel": "px", "pixels": "px", "um": "um", "µm": "um", "μm": "um", "micron": "um"}


def detect_format(path) -> str | None:
    """The format of a track file judged from its content, or None when unrecognised.

    Parameters
    ----------
    path : str or path-like
        Track file.

    Returns
    -------
    str or None
        One of :data:`FORMATS`' keys.
    """
    return _detect(_text.check_file(path))[0]


def _detect(path: Path) -> tuple[str | None, str, str, list[str] | str]:
    kind, found, detail = _text.sniff(path)
    fmt = None
    if kind == "xml":
        fmt = {"TrackMate": "trackmate_xml", "Tracks": "trackmate_tracks"}.get(detail)
    elif kind == "csv":
        cols = set(detail)
        if {"TRACK_ID", "POSITION_X", "POSITION_Y", "FRAME"} <= cols:
            fmt = "trackmate_spots"
        elif set(_ANDI_COLUMNS.values()) <= cols:
            fmt = "andi"
        elif set(TRACKPY_COLUMNS.values()) <= cols:
            fmt = "trackpy"
    return fmt, found, kind, detail


def _units(units: str | None) -> str | None:
    if units is None:
        return None
    u = _UNITS.get(str(units).strip().lower())
    if u is None:
        raise ValueError(f"units must be 'px' or 'um', got {units!r}")
    return u


def _mapping(columns: Mapping[str, str] | None) -> dict[str, str]:
    cols = dict(TRACKPY_COLUMNS)
    for k, v in (columns or {}).items():
        if k not in ("track", "frame", "x", "y", "z"):
            raise ValueError(f"columns keys must be among track, frame, x, y, z; got {k!r}")
        cols[k] = str(v)
    return cols


def _andi_numbers(path: Path) -> tuple[int | None, int | None]:
    m_fov = re.fullmatch(r"trajs_fov_(\d+)\.csv", path.name)
    m_exp = re.fullmatch(r"exp_(\d+)", path.parent.name)
    return (int(m_exp.group(1)) if m_exp else None), (int(m_fov.group(1)) if m_fov else None)


def read_andi_csv(path, pixel_size: float | None = None, frame_interval: float | None = None,
                  min_length: int = 20) -> Tracks:
    """Read an AnDi-2 challenge ``trajs_fov_*.csv`` file (``traj_idx,frame,x,y``, pixels).

    Parameters
    ----------
    path : str or path-like
        The CSV file. When it sits at ``.../exp_E/trajs_fov_J.csv`` the experiment ``E`` and
        field of view ``J`` are stored in the result.
    pixel_size : float, optional
        µm per pixel (metadata only: positions stay in pixels).
    frame_interval : float, optional
        Seconds per frame (metadata only).
    min_length : int
        Shortest track kept, in frames (challenge tracks have at least 20).

    Returns
    -------
    Tracks
    """
    p = _text.check_file(path)
    raw = _text.read_cells(p, _ANDI_COLUMNS)
    exp, fov = _andi_numbers(p)
    return build_tracks(raw, path=p, fmt="andi", names=_ANDI_COLUMNS, min_length=min_length, experiment=exp,
                        fov=fov, pixel_size=_text.check_positive("pixel_size", pixel_size),
                        frame_interval=_text.check_positive("frame_interval", frame_interval))


def read_trackpy_csv(path, columns: Mapping[str, str] | None = None, units: str = "px",
                     pixel_size: float | None = None, frame_interval: float | None = None,
                     min_length: int = 20) -> Tracks:
    """Read a tidy CSV with one row per localisation (trackpy's ``particle,frame,x,y`` by default).

    Parameters
    ----------
    path : str or path-like
        The CSV file (``,``, tab or ``;`` separated; extra columns are ignored).
    columns : mapping, optional
        File column names for ``"track"``, ``"frame"``, ``"x"``, ``"y"`` (and optionally ``"z"``,
        refused when it varies), e.g. ``{"track": "TRACK_ID"}``; missing keys keep trackpy's names.
        A column named ``z`` is checked even when not mapped.
    units : {"px", "um"}
        Units of x, y in the file; ``"um"`` needs ``pixel_size`` to convert to pixels.
    pixel_size : float, optional
        µm per pixel.
    frame_interval : float, optional
        Seconds per frame (metadata).
    min_length : int
        Shortest track kept, in frames.

    Returns
    -------
    Tracks
        Positions in pixels.
    """
    p = _text.check_file(path)
    cols = _mapping(columns)
    kind, _, found = _text.sniff(p)
    if "z" not in cols and kind == "csv" and "z" in found:
        cols["z"] = "z"
    pixel_size = _text.check_positive("pixel_size", pixel_size)
    scale = _text.unit_scale(_units(units), pixel_size, p)
    raw = _text.read_cells(p, cols)
    return build_tracks(raw, path=p, fmt="trackpy", names=cols, scale=scale, min_length=min_length,
                        pixel_size=pixel_size, frame_interval=_text.check_positive("frame_interval", frame_interval))


def tracks_from_dataframe(df: pd.DataFrame, columns: Mapping[str, str] | None = None, units: str = "px",
                          pixel_size: float | None = None, frame_interval: float | None = None,
                          min_length: int = 20, name: str = "<DataFrame>") -> Tracks:
    """Validate an in-memory tidy DataFrame (e.g. from ``trackpy.link``) into :class:`Tracks`.

    Same checks, gap splitting and skipping as the file readers; errors name the DataFrame row
    (index label). Parameters as in :func:`read_trackpy_csv`; ``name`` labels the data in messages.
    """
    cols = _mapping(columns)
    if "z" not in cols and "z" in df.columns:
        cols["z"] = "z"
    missing = [v for v in cols.values() if v not in df.columns]
    if missing:
        raise TrackFileError(name, f"missing column(s) {', '.join(missing)} (found: "
                             f"{', '.join(map(str, df.columns))})", "pass columns={'track': ..., ...} naming yours")
    pixel_size = _text.check_positive("pixel_size", pixel_size)
    scale = _text.unit_scale(_units(units), pixel_size, name)
    raw = pd.DataFrame({k: df[v].to_numpy() for k, v in cols.items()})
    raw["_loc"] = df.index.to_numpy()
    return build_tracks(raw, path=name, fmt="dataframe", names=cols, loc="row {}", scale=scale,
                        min_length=min_length, pixel_size=pixel_size,
                        frame_interval=_text.check_positive("frame_interval", frame_interval))


def read_tracks(path, format: str = "auto", pixel_size: float | None = None, frame_interval: float | None = None,
                columns: Mapping[str, str] | None = None, min_length: int = 20, units: str | None = None) -> Tracks:
    """Read one track file of any supported format into :class:`Tracks` (pixels, frames).

    Parameters
    ----------
    path : str or path-like
        Track file.
    format : {"auto", "andi", "trackpy", "trackmate_spots", "trackmate_xml", "trackmate_tracks"}
        ``"auto"`` detects the format from the content; giving ``columns`` makes a CSV "trackpy".
    pixel_size : float, optional
        µm per pixel: converts µm positions to pixels, and lets K be reported in µm²/s^α.
    frame_interval : float, optional
        Seconds per frame; overrides the file's.
    columns : mapping, optional
        Column names of a tidy CSV (see :func:`read_trackpy_csv`).
    min_length : int
        Shortest track kept, in frames; shorter ones are skipped and reported (``Tracks.skipped``).
    units : {"px", "um"}, optional
        Units of the positions; default: pixels for CSVs, the declared unit for TrackMate files.

    Returns
    -------
    Tracks

    Raises
    ------
    TrackFileError
        One line naming the file, track and line, and what to do (see the module docstring).
    """
    if format != "auto" and format not in FORMATS:
        raise ValueError(f"format must be 'auto' or one of {', '.join(FORMATS)}; got {format!r}")
    p = _text.check_file(path)
    found_fmt, found, kind, detail = _detect(p)
    if kind in ("empty", "binary"):
        raise TrackFileError(p, f"is not a track file (found {found})",
                             "choose the exported track table, saved as UTF-8 CSV or TrackMate XML")
    if format == "auto":
        if columns is not None and kind == "csv":
            format = "trackpy"
        elif found_fmt is None and kind == "csv" and "TRACK_ID" in detail:
            raise TrackFileError(p, f"looks like TrackMate's tracks or edges table (found {found}), which has no "
                                 "positions", "export the Spots table instead (or save the TrackMate XML file)", line=1)
        elif found_fmt is None:
            raise TrackFileError(p, f"is not a track format andimamba recognises (found {found})",
                                 f"pass format= one of {', '.join(FORMATS)} (and columns= for other CSV layouts)",
                                 line=1 if kind == "csv" else None)
        else:
            format = found_fmt
    elif found_fmt != format:
        expected_kind = "xml" if format in ("trackmate_xml", "trackmate_tracks") else "csv"
        if found_fmt is not None and not (format == "trackpy" and columns is not None):
            raise TrackFileError(p, f"format={format!r} expects {FORMATS[format]}, but the file looks like "
                                 f"{FORMATS[found_fmt]}", f"pass format={found_fmt!r} or format='auto'")
        if kind != expected_kind:
            raise TrackFileError(p, f"format={format!r} expects {FORMATS[format]}, but found {found}",
                                 "check that this is the right file and format")
    kw = dict(pixel_size=pixel_size, frame_interval=frame_interval, min_length=min_length)
    if format == "andi":
        if _units(units) == "um":
            raise ValueError("AnDi-2 challenge files are in pixels; do not pass units='um'")
        tracks = read_andi_csv(p, **kw)
    elif format == "trackpy":
        tracks = read_trackpy_csv(p, columns=columns, units=units or "px", **kw)
    else:
        from . import trackmate

        reader = {"trackmate_spots": trackmate.read_trackmate_spots, "trackmate_xml": trackmate.read_trackmate_xml,
                  "trackmate_tracks": trackmate.read_trackmate_tracks}[format]
        tracks = reader(p, units=_units(units), **kw)
    logger.info("%s: %s", p, tracks.summary())
    return tracks


def read_andi_folder(path, min_length: int = 20) -> list[Tracks]:
    """Read every ``exp_*/trajs_fov_*.csv`` of an AnDi-2 challenge folder.

    Parameters
    ----------
    path : str or path-like
        The folder holding ``track_2/``, the ``track_2`` folder itself, or one ``exp_E`` folder.
    min_length : int
        Shortest track kept, in frames.

    Returns
    -------
    list of Tracks
        One per (experiment, field of view), sorted by experiment then FOV number, with
        ``experiment`` and ``fov`` set.
    """
    root = Path(path)
    if not root.is_dir():
        raise TrackFileError(root, "is not a folder", "give the folder that holds track_2/exp_*/trajs_fov_*.csv")
    base = root / "track_2" if (root / "track_2").is_dir() else root
    files = list(base.glob("exp_*/trajs_fov_*.csv")) or list(base.glob("trajs_fov_*.csv"))
    found = [(_andi_numbers(f), f) for f in files]
    found = sorted((k, f) for k, f in found if k[0] is not None and k[1] is not None)
    if not found:
        raise TrackFileError(root, "holds no exp_*/trajs_fov_*.csv files",
                             "give the AnDi-2 challenge folder (the one holding track_2/)")
    return [read_andi_csv(f, min_length=min_length) for _, f in found]
