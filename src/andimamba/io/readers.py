"""Reading 2-D single-particle tracks from the files biology labs have.

Formats (``format=`` names)
---------------------------
``"andi"``
    AnDi-2 challenge CSV ``traj_idx,frame,x,y`` (pixels, absolute frames, possibly written as
    floats such as ``12.0``); a whole challenge folder with :func:`read_andi_folder`.
``"tidy"`` (old name ``"trackpy"``, still accepted)
    Any table with one row per position whose track id, frame, x and y columns are recognised by
    name (and, where names are ambiguous, by content): trackpy, quot, saspt, Spot-On CSV, MOSAIC
    ParticleTracker, u-track and Icy table exports, ThunderSTORM/SMAP tables with a track column,
    FreeTrace — see :mod:`andimamba.io.columns` for the spellings. Other names via ``columns=``
    (a mapping or ``"track=...,frame=...,x=...,y=..."``). ``,``, tab or ``;`` separated; extra
    columns (a leading unnamed index, intensities) are ignored. In-memory DataFrames (e.g. the
    output of ``trackpy.link``) with :func:`tracks_from_dataframe`, recognised the same way.
``"trackmate_spots"`` (also ``"trackmate_csv"``), ``"trackmate_xml"``, ``"trackmate_tracks"``
    TrackMate's spots table CSV, full XML model file and "Export tracks to XML" file
    (see :mod:`andimamba.io.trackmate`).

Every reader takes the file (or DataFrame) first, then keyword-only options in one order:
``pixel_size, frame_interval, columns, units, min_length`` (each where it applies).

``format="auto"`` decides from the file's content, in this order: XML root element; TrackMate
spots columns (``TRACK_ID, POSITION_X, POSITION_Y, FRAME``); AnDi-2 columns (without a z
column: FreeTrace's ``traj_idx,frame,x,y,z`` is read as a tidy table, so that 3-D is refused);
recognised tidy columns. An explicit format that does not match the content is an error naming
both. A table whose columns cannot be decided stops with the columns found and ``columns=``.

Units policy
------------
Positions are returned in **pixels** and time in **frames**, the units the model works in.
Position units are ``px``, ``nm`` or ``um`` (µm; spellings in :func:`~andimamba.io.columns.parse_units`).
The unit of a CSV is, in this order: ``units=`` given by you; the unit declared in the x/y header
(``x [nm]``, ``x (µm)``, ``xnm``); the unit the format implies (Spot-On CSV: µm); else pixels.
A ``units=`` that contradicts the header is an **error** (one of the two is wrong, and guessing
which would silently mis-scale the tracks). µm and nm are converted with ``pixel_size`` (µm per
pixel: ``x_px = x_um / pixel_size = x_nm / 1000 / pixel_size``); without a pixel size the reader
stops and asks for it (guessing 1 px = 1 µm would silently mis-scale K by pixel_size²).
TrackMate files declare their spatial unit: pixels are used as they are; µm (or nm) are
converted with ``pixel_size`` — given by you, else the image calibration stored in a TrackMate
XML model file. The frame interval (s) is read from the file when it has one; a value you pass
wins (with a warning if they differ by > 1 %).

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
message names the file, the track and the 1-based line (or XML element), and what to do, before
any tracks are built: undecidable or missing columns, a row with more or fewer fields than the
header (a decimal comma such as ``45,03`` is named as such), non-numeric or empty cells, NaN/inf
coordinates, non-integer, duplicated or out-of-range frames (beyond ±(2^31 - 1)), positions
beyond ±1e12 px (a wrong column or unit), 3-D tracks (z varying), empty files, no track of
``min_length`` frames, a wrong format.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from .. import andi2, threads
from ..errors import UserError
from . import _text
from ._tidy import build_tracks
from .columns import candidates, check_given, parse_columns, parse_units, recognise_columns
from .errors import TrackFileError, opt
from .tracks import Tracks

logger = logging.getLogger("andimamba.io")

FORMATS = {
    "andi": "an AnDi-2 challenge CSV (columns traj_idx, frame, x, y)",
    "tidy": "a table with one row per position (track, frame, x, y columns: trackpy, quot, MOSAIC, ...)",
    "trackmate_spots": "a TrackMate spots table CSV (columns TRACK_ID, POSITION_X, POSITION_Y, FRAME)",
    "trackmate_xml": "a TrackMate XML model file (root <TrackMate>)",
    "trackmate_tracks": "a TrackMate 'Export tracks to XML' file (root <Tracks>)",
}
FORMAT_ALIASES = {"trackpy": "tidy", "trackmate_csv": "trackmate_spots"}  # other names format= accepts
TRACKPY_COLUMNS = {"track": "particle", "frame": "frame", "x": "x", "y": "y"}  # trackpy's names (kept for callers)
_ANDI_COLUMNS = {"track": "traj_idx", "frame": "frame", "x": "x", "y": "y"}
_ROLES = ("track", "frame", "x", "y")
_SHOWN = {"px": "pixels", "nm": "nm", "um": "µm"}


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
        cand = candidates(detail)
        if {"TRACK_ID", "POSITION_X", "POSITION_Y", "FRAME"} <= cols:
            fmt = "trackmate_spots"
        elif set(_ANDI_COLUMNS.values()) <= cols and not cand["z"]:
            fmt = "andi"
        elif all(cand[r] for r in _ROLES):
            fmt = "tidy"
    return fmt, found, kind, detail


def _andi_numbers(path: Path) -> tuple[int | None, int | None]:
    m_fov = andi2.TRAJS_NAME.fullmatch(path.name)
    m_exp = andi2.EXP_NAME.fullmatch(path.parent.name)
    return (int(m_exp.group(1)) if m_exp else None), (int(m_fov.group(1)) if m_fov else None)


def read_andi_csv(path, *, pixel_size: float | None = None, frame_interval: float | None = None,
                  min_length: int = 20, split_gaps: bool = True) -> Tracks:
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
    split_gaps : bool
        Split tracks at frame gaps (default); False refuses a gap (challenge folders).

    Returns
    -------
    Tracks
    """
    p = _text.check_file(path)
    raw = _text.read_cells(p, _ANDI_COLUMNS)
    exp, fov = _andi_numbers(p)
    return build_tracks(raw, path=p, fmt="andi", names=_ANDI_COLUMNS, min_length=min_length, split_gaps=split_gaps, experiment=exp,
                        fov=fov, pixel_size=_text.check_positive("pixel_size", pixel_size),
                        frame_interval=_text.check_positive("frame_interval", frame_interval))


def read_tidy_csv(path, *, pixel_size: float | None = None, frame_interval: float | None = None,
                  columns: Mapping[str, str] | str | None = None, units: str | None = None,
                  min_length: int = 20) -> Tracks:
    """Read a table with one row per position (trackpy, quot, Spot-On, MOSAIC, u-track, Icy, ...).

    Parameters
    ----------
    path : str or path-like
        The CSV file (``,``, tab or ``;`` separated; extra columns are ignored).
    pixel_size : float, optional
        µm per pixel; needed to convert nm or µm positions to pixels.
    frame_interval : float, optional
        Seconds per frame (metadata).
    columns : mapping or str, optional
        File column names for ``"track"``, ``"frame"``, ``"x"``, ``"y"`` (and ``"z"``, refused
        when it varies), e.g. ``{"track": "cell"}`` or ``"track=cell,frame=t"``; roles left out are
        recognised from the column names (see :mod:`andimamba.io.columns`).
    units : {"px", "nm", "um"}, optional
        Units of x, y in the file. Default: the unit the x/y headers declare (``x [nm]``), else
        the format's (Spot-On: µm), else pixels. Contradicting the header is an error.
    min_length : int
        Shortest track kept, in frames.

    Returns
    -------
    Tracks
        Positions in pixels; ``format`` is ``"tidy"``.
    """
    p = _text.check_file(path)
    header = _text.sniff_table(p)
    given = parse_columns(columns)
    check_given(header, given, p, line=1)
    cand = candidates(header, given)
    if not all(cand[r] for r in _ROLES):  # nothing to read: say which columns are missing now
        recognise_columns(header, None, given, p, line=1)
    df = _text.read_columns(p, list(dict.fromkeys(n for names in cand.values() for n in names)))
    match = recognise_columns(header, df, given, p, line=1)
    return _tidy_tracks(df, match, units, pixel_size, frame_interval, min_length, p, "tidy", loc="line")


read_trackpy_csv = read_tidy_csv  # the old name


def tracks_from_dataframe(df: pd.DataFrame, *, pixel_size: float | None = None,
                          frame_interval: float | None = None, columns: Mapping[str, str] | str | None = None,
                          units: str | None = None, min_length: int = 20, name: str = "<DataFrame>") -> Tracks:
    """Validate an in-memory tidy DataFrame (e.g. from ``trackpy.link``) into :class:`Tracks`.

    Columns are recognised as in :func:`read_tidy_csv` (``particle, frame, x, y``, ``trajectory``,
    ``x [nm]``, ...); same checks, gap splitting and skipping as the file readers; errors name the
    DataFrame row (index label). ``name`` labels the data in messages. ``Tracks.source_rows``
    gives the DataFrame row position of every position kept, ``Tracks.columns`` the columns used.
    """
    by_name = {str(c).strip(): c for c in df.columns}
    match = recognise_columns(list(by_name), df.rename(columns=lambda c: str(c).strip()), columns, name)
    data = pd.DataFrame({n: df[by_name[n]].to_numpy() for n in dict.fromkeys(match.names.values())})
    data["_loc"] = df.index.to_numpy()
    return _tidy_tracks(data, match, units, pixel_size, frame_interval, min_length, name, "dataframe", loc="row {}")


def _tidy_tracks(df: pd.DataFrame, match, units, pixel_size, frame_interval, min_length, path, fmt: str,
                 loc: str) -> Tracks:
    """Tracks from the recognised columns of a table, positions converted to pixels."""
    pixel_size = _text.check_positive("pixel_size", pixel_size)
    scale = _position_scale(match, parse_units(units), pixel_size, path)
    raw = pd.DataFrame({role: df[name] for role, name in match.names.items()})
    raw["_loc"] = df["_loc"].to_numpy()
    return build_tracks(raw, path=path, fmt=fmt, names=match.names, loc=loc, scale=scale, min_length=min_length,
                        pixel_size=pixel_size, frame_interval=_text.check_positive("frame_interval", frame_interval))


def _position_scale(match, user: str | None, pixel_size: float | None, path) -> float:
    """Factor taking the table's positions to pixels, following the units policy."""
    if user and match.unit and user != match.unit:
        raise TrackFileError(path, f"{opt('units', user)} contradicts {match.unit_source}, which says {match.unit}",
                             f"leave out {opt('units')} (the header's unit is then used), or correct the header",
                             line=1)
    if user or match.unit:
        return _text.unit_scale(user or match.unit, pixel_size, path, source="" if user else match.unit_source)
    if match.default_unit:
        if pixel_size is None:
            raise TrackFileError(path, f"positions are in {_SHOWN[match.default_unit]} ({match.unit_source}) and "
                                 "the pixel size is unknown", f"give the pixel size in µm per pixel with "
                                 f"{opt('pixel_size')}, or {opt('units', 'px')} if this file holds pixels")
        logger.info("%s: positions taken as %s (%s)", path, match.default_unit, match.unit_source)
        return _text.unit_scale(match.default_unit, pixel_size, path)
    return 1.0


def _icy_blocks(p: Path) -> bool:
    """Whether a headerless table holds Icy's per-track blocks (``track #,0.0`` then ``,,t,x,y,z``)."""
    with open(p, encoding="utf-8", errors="replace") as f:
        return bool(re.search(r"(?im)^\s*track\s*#\s*[,;\t]", f.read(4096)))


def read_tracks(path, format: str = "auto", *, pixel_size: float | None = None, frame_interval: float | None = None,
                columns: Mapping[str, str] | str | None = None, units: str | None = None,
                min_length: int = 20) -> Tracks:
    """Read one track file of any supported format into :class:`Tracks` (pixels, frames).

    Parameters
    ----------
    path : str or path-like
        Track file.
    format : {"auto", "andi", "tidy", "trackmate_spots", "trackmate_xml", "trackmate_tracks"}
        ``"auto"`` detects the format from the content; giving ``columns`` makes a CSV "tidy".
        ``"trackpy"`` is accepted for ``"tidy"``.
    pixel_size : float, optional
        µm per pixel: converts µm or nm positions to pixels, and lets K be reported in µm²/s^α.
    frame_interval : float, optional
        Seconds per frame; overrides the file's.
    columns : mapping or str, optional
        Column names of a tidy table, e.g. ``"track=cell,frame=t,x=px,y=py"`` (see
        :func:`read_tidy_csv`).
    units : {"px", "nm", "um"}, optional
        Units of the positions; default: what the file declares (header, TrackMate units), else
        pixels (see the module docstring).
    min_length : int
        Shortest track kept, in frames; shorter ones are skipped and reported (``Tracks.skipped``).

    Returns
    -------
    Tracks

    Raises
    ------
    TrackFileError
        One line naming the file, track and line, and what to do (see the module docstring).
    """
    asked, format = format, FORMAT_ALIASES.get(format, format)
    if format != "auto" and format not in FORMATS:
        raise UserError(f"unknown {opt('format', asked)}: use auto or one of {', '.join(FORMATS)}")
    unit = parse_units(units)
    p = _text.check_file(path)
    found_fmt, found, kind, detail = _detect(p)
    if kind in ("empty", "binary"):
        raise TrackFileError(p, f"is not a track file (found {found})",
                             "choose the exported track table, saved as UTF-8 CSV or TrackMate XML")
    if format == "auto":
        format = _auto_format(p, found_fmt, found, kind, detail, columns)
    elif found_fmt != format:
        expected_kind = "xml" if format in ("trackmate_xml", "trackmate_tracks") else "csv"
        if found_fmt is not None and not (format == "tidy" and columns is not None):
            raise TrackFileError(p, f"{opt('format', asked)} expects {FORMATS[format]}, but the file looks like "
                                 f"{FORMATS[found_fmt]}", f"use {opt('format', found_fmt)} or {opt('format', 'auto')}")
        if kind != expected_kind:
            raise TrackFileError(p, f"{opt('format', asked)} expects {FORMATS[format]}, but found {found}",
                                 "check that this is the right file and format")
    kw = dict(pixel_size=pixel_size, frame_interval=frame_interval, min_length=min_length)
    if format == "andi":
        if unit not in (None, "px"):
            raise UserError(f"AnDi-2 challenge files are in pixels: leave out {opt('units')}")
        tracks = read_andi_csv(p, **kw)
    elif format == "tidy":
        tracks = read_tidy_csv(p, columns=columns, units=unit, **kw)
    else:
        from . import trackmate

        reader = {"trackmate_spots": trackmate.read_trackmate_spots, "trackmate_xml": trackmate.read_trackmate_xml,
                  "trackmate_tracks": trackmate.read_trackmate_tracks}[format]
        tracks = reader(p, units=unit, **kw)
    logger.info("%s: %s", p, tracks.summary())
    return tracks


def _auto_format(p: Path, found_fmt: str | None, found: str, kind: str, detail, columns) -> str:
    """The detected format, or a TrackFileError saying why the file is not recognised."""
    if columns is not None and kind == "csv":
        return "tidy"
    if found_fmt is not None:
        return found_fmt
    if kind == "csv" and "TRACK_ID" in detail:
        raise TrackFileError(p, f"looks like TrackMate's tracks or edges table (found {found}), which has no "
                             "positions", "export the Spots table instead (or save the TrackMate XML file)", line=1)
    if kind == "csv" and not any(detail) and _icy_blocks(p):
        raise TrackFileError(p, "looks like Icy's 'export track to Excel' layout (a 'track #' block per track), "
                             "not a table", "save it as one table with a row per position and the columns "
                             "TrackID, t, x, y (t: the frame number)", line=1)
    if kind == "csv":
        recognise_columns(detail, None, None, p, line=1)  # raises, naming what it cannot tell
    raise TrackFileError(p, f"is not a track format andimamba recognises (found {found})",
                         "give a CSV table of positions or a TrackMate XML file (model, or 'Export tracks to XML')")


def read_andi_folder(path, *, min_length: int = 20) -> list[Tracks]:
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
    base = andi2.track_dir(root) if andi2.track_dir(root).is_dir() else root
    files = list(base.glob(f"{andi2.EXP_GLOB}/{andi2.TRAJS_GLOB}")) or list(base.glob(andi2.TRAJS_GLOB))
    found = [(_andi_numbers(f), f) for f in files]
    found = sorted((k, f) for k, f in found if k[0] is not None and k[1] is not None)
    if not found:
        raise TrackFileError(root, "holds no exp_*/trajs_fov_*.csv files",
                             "give the AnDi-2 challenge folder (the one holding track_2/)")
    def read(f: Path) -> Tracks:
        return read_andi_csv(f, min_length=min_length, split_gaps=False)

    n = min(threads.io_threads(), len(found))
    if n <= 1:
        return [read(f) for _, f in found]
    from concurrent.futures import ThreadPoolExecutor

    # the files parsed n at once (io_threads: torch's threads) (pandas' tokenizer releases the GIL): one FOV's file is too small
    # to be cut in parts (_text.PARALLEL_BYTES), and a folder of 30 files read one by one made the folder path 1.2x
    # the single-file path on the same tracks (benchmarks/bench_predict.py --fovs 30). In order; the first bad file
    # in that order raises, as reading one by one does.
    with ThreadPoolExecutor(n, thread_name_prefix="andimamba-read") as pool:
        return list(pool.map(read, [f for _, f in found]))
