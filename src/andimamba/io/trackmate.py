"""Readers for TrackMate (Fiji) exports: spots table CSV, XML model file, simple tracks XML.

Formats
-------
- **Spots table CSV** ("Export to CSV" of a spots table): a header row of feature keys
  (``LABEL, ID, TRACK_ID, QUALITY, POSITION_X, POSITION_Y, POSITION_Z, POSITION_T, FRAME, ...``).
  TrackMate 7 adds up to three header rows (feature names, short names — each omitted when
  identical to the previous one — and units such as ``(micron)``, ``(sec)``); the ImageJ results
  tables of TrackMate 3-6 have the keys row only, so their unit must be given (``units=``).
  Spots that belong to no track (empty TRACK_ID, or ``None`` in TrackMate 3-6) are counted in
  ``Tracks.n_unlinked_spots`` and not analysed.
- **XML model file** (the Save button): ``<TrackMate><Model spatialunits= timeunits=>``, spots in
  ``<AllSpots nspots=><SpotsInFrame><Spot ID= POSITION_X= POSITION_Y= POSITION_Z= POSITION_T= FRAME=
  VISIBILITY=/>``, tracks in ``<AllTracks><Track TRACK_ID=><Edge SPOT_SOURCE_ID= SPOT_TARGET_ID=/>``,
  the tracks shown in ``<FilteredTracks><TrackID TRACK_ID=/>``, and the image in ``<Settings>
  <ImageData pixelwidth= pixelheight= timeinterval= width= height=/>``. Only the filtered
  (visible) tracks are read; visible spots in none of them are counted in ``n_unlinked_spots``.
- **Simple tracks XML** (action "Export tracks to XML file"): ``<Tracks spaceUnits= frameInterval=
  timeUnits=><particle nSpots=><detection t= x= y= z=/>``; ``t`` is the frame number; tracks are
  named by their order, ``0, 1, ...``. It holds no pixel size.

Calibration
-----------
Positions are converted to pixels following the units policy of :mod:`andimamba.io.readers`. In the
XML model file the unit is the Model's ``spatialunits`` (files older than TrackMate 2.0: the one on
``<ImageData>``); with µm or nm, the pixel size is ``ImageData pixelwidth`` — read wherever
``<ImageData>`` sits (inside ``<Settings>`` after ``<Model>`` as TrackMate writes it, before it
as some converters do, or at the root in pre-2.0 files), so calibration is settled once the whole
file is read. Not calibration, and ignored: a ``pixelwidth`` that is missing, empty, zero or not a
number, and the placeholder ``<ImageData width="0" height="0" pixelwidth="1.0" timeinterval="1.0">``
that TrackMate writes for a session that never had an image (its 1.0 are defaults). TrackMate 2-6
stored the calibration as float32 (``0.1599999964237213``); it is read back as typed (``0.16``).
The frame interval is ``timeinterval`` in ``timeunits``, else the median ``POSITION_T / FRAME`` of
the spots; a time unit ``frame`` leaves it unknown. Values you pass win (a warning when they differ
by more than 1 %). Without a usable pixel size, µm or nm positions stop the reader with an error
asking for it.

Branched tracks
---------------
TrackMate's LAP tracker can split and merge tracks, which puts two spots of one track in one frame;
the model needs one position per frame, so branched tracks are cut into linear pieces:

- XML model file: each edge is taken from its earlier to its later spot. A spot with more than one
  outgoing edge (split) or more than one incoming edge (merge) ends a piece, and every maximal linear
  chain of edges is one piece, named ``"<TRACK_ID>.b<k>"`` (k = 1, 2, ... by first frame, then by
  order in the file); a track without branches keeps its TRACK_ID. Gap splitting then applies to
  each piece as usual (``"<TRACK_ID>.b<k>.<j>"``).
- Spots CSV: it has no links, so a track with several spots in one frame cannot be linked
  unambiguously. The spots of such frames are dropped and the runs of single-spot frames between
  them kept as pieces ``"<TRACK_ID>.b<k>"``. Save the XML model file to keep the branches.
- Simple tracks XML: for a branched track TrackMate writes one detection per time point (its
  ``nSpots`` still counts all of them), so the positions may jump between branches; such particles
  are left out. A particle with a frame twice (files from other programs) is cut as in the CSV.

The number of tracks concerned is ``Tracks.n_branched``, logged as a warning like the gap split.
XML is streamed with ``xml.etree.ElementTree.iterparse``.
"""

from __future__ import annotations

import csv
import logging
import math
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import _text
from ._tidy import _Ctx, _track_ids, build_tracks
from .columns import unit_of
from .errors import TrackFileError, opt
from .tracks import Tracks

logger = logging.getLogger("andimamba.io")

_SPOT_COLUMNS = {"track": "TRACK_ID", "frame": "FRAME", "x": "POSITION_X", "y": "POSITION_Y"}
_SPOT_KEYS = ("FRAME", "POSITION_X", "POSITION_Y", "POSITION_Z", "POSITION_T")
_NO_TRACK = {"", "none", "nan", "null"}
_SAVE_XML = "save the TrackMate XML model file (the Save button in TrackMate) and read that instead"


# ----------------------------------------------------------------------------- shared helpers
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
    tid = _track_ids(_Ctx(raw, path, names, loc))  # (n,) ids as build_tracks will spell them
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


# ----------------------------------------------------------------------------- spots table CSV
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


# ----------------------------------------------------------------------------- XML model file
def _iterparse(path: Path, events=("start", "end")):
    """``ET.iterparse`` whose ParseError becomes a TrackFileError (with the line)."""
    try:
        with open(path, "rb") as f:
            yield from ET.iterparse(f, events=events)
    except ET.ParseError as exc:
        raise TrackFileError(path, f"is not valid XML ({exc})", "re-save it from TrackMate; it may be truncated",
                             line=exc.position[0]) from None


@dataclass
class _ModelFile:
    """What the reader takes from a TrackMate XML model file."""

    spots: dict[str, tuple] = field(default_factory=dict)  # ID -> (*_SPOT_KEYS, VISIBILITY, order in file)
    tracks: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # TRACK_ID -> edges (source, target)
    shown: set[str] | None = None  # FilteredTracks; None when the file has no such element
    space: str | None = None
    time: str | None = None
    image: dict[str, str] | None = None  # <ImageData> attributes


def _parse_model(p: Path) -> _ModelFile:
    """Read spots, edges, filtered tracks, units and ``<ImageData>`` in one streaming pass."""
    m = _ModelFile()
    current = None
    for event, el in _iterparse(p):
        tag = el.tag
        if event == "start":
            if tag == "Model":
                m.space, m.time = el.get("spatialunits"), el.get("timeunits")
            elif tag == "Track":
                current = el.get("TRACK_ID")
                m.tracks[current] = []
            elif tag == "FilteredTracks":
                m.shown = set()
            elif tag == "ImageData":
                m.image = dict(el.attrib)
            continue
        if tag == "Spot":
            m.spots[el.get("ID")] = (*(el.get(k) for k in _SPOT_KEYS), el.get("VISIBILITY"), len(m.spots))
            el.clear()
        elif tag == "Edge" and current is not None:
            m.tracks[current].append((el.get("SPOT_SOURCE_ID"), el.get("SPOT_TARGET_ID")))
            el.clear()
        elif tag == "TrackID" and m.shown is not None:
            m.shown.add(el.get("TRACK_ID"))
        elif tag in ("SpotsInFrame", "Track"):
            el.clear()
    return m


def _linear_pieces(p: Path, tid: str, edges: list[tuple[str, str]], spots: dict[str, tuple]) -> list[list[str]]:
    """Spot IDs of the maximal linear chains of one track, ordered by first frame, then file order.

    TrackMate's graph is undirected, so each edge is taken from its earlier to its later spot. An
    edge continues a chain only when its source has no other outgoing and its target no other
    incoming edge: splits and merges end pieces. A track without branches is one piece. When a
    FRAME is not a number the track is returned whole, for :func:`build_tracks` to report.
    """
    for sid in (s for e in edges for s in e):
        if sid not in spots:
            raise TrackFileError(p, f"an edge refers to spot ID={sid}, which is not in <AllSpots>",
                                 "the file is incomplete: re-save it from TrackMate", track=tid)
    frame = {sid: _float(spots[sid][0]) for e in edges for sid in e}  # spot -> frame, in edge order
    if not all(f is not None and math.isfinite(f) for f in frame.values()):
        return [list(frame)]
    out, into = defaultdict(list), defaultdict(list)
    for s, t in dict.fromkeys(edges):
        if frame[s] == frame[t]:
            continue  # a link inside one frame cannot be part of a one-position-per-frame piece
        s, t = (s, t) if frame[s] < frame[t] else (t, s)
        out[s].append(t)
        into[t].append(s)
    nxt = {s: ts[0] for s, ts in out.items() if len(ts) == 1 and len(into[ts[0]]) == 1}
    has_prev = set(nxt.values())
    pieces = []
    for sid in frame:
        if sid not in has_prev:
            chain = [sid]
            while chain[-1] in nxt:
                chain.append(nxt[chain[-1]])
            pieces.append(chain)
    return sorted(pieces, key=lambda c: (frame[c[0]], spots[c[0]][-1]))


def _image_calibration(p: Path, image: dict[str, str] | None) -> tuple[float | None, float | None, str]:
    """(pixel width, time interval) written in ``<ImageData>``, each None when not calibration, and
    why the pixel width is unusable (for the error)."""
    if image is None:
        return None, None, "the file holds no <ImageData> element with the pixel size"
    if 0 in (_float(image.get("width")), _float(image.get("height"))):
        # TrackMate's Settings() defaults: a session never attached to an image
        return None, None, ("its <ImageData width=0 height=0> is TrackMate's placeholder for a session without "
                            "an image, so its pixelwidth is a default, not the pixel size")
    pw, dt, ph = (_positive(image.get(k)) for k in ("pixelwidth", "timeinterval", "pixelheight"))
    if pw and ph and abs(ph - pw) > 0.01 * pw:
        logger.warning("%s: the pixels are not square (pixelwidth=%g, pixelheight=%g); both x and y are converted "
                       "with pixelwidth", p, pw, ph)
    raw_pw = image.get("pixelwidth")
    why = "" if pw else ("its <ImageData> has no pixelwidth" if raw_pw is None
                         else f"its <ImageData pixelwidth={raw_pw!r}> is not a pixel size")
    return pw, dt, why


def read_trackmate_xml(path, *, pixel_size: float | None = None, frame_interval: float | None = None,
                       units: str | None = None, min_length: int = 20) -> Tracks:
    """Read a TrackMate XML model file (the file TrackMate saves and reloads).

    Parameters
    ----------
    path : str or path-like
        The ``.xml`` file with a ``<TrackMate>`` root.
    pixel_size : float, optional
        µm per pixel; default: ``ImageData pixelwidth`` when the model is calibrated in µm or nm
        (see the module docstring for what counts as calibration).
    frame_interval : float, optional
        Seconds per frame; default: ``ImageData timeinterval``, else the spots' POSITION_T / FRAME.
    units : {"px", "nm", "um"}, optional
        Overrides the model's ``spatialunits``.
    min_length : int
        Shortest track kept, in frames.

    Returns
    -------
    Tracks
        The filtered (visible) tracks, named by TRACK_ID, branched ones cut into linear pieces
        ``"<TRACK_ID>.b<k>"`` (``n_branched``), positions in pixels; visible spots outside these
        tracks counted in ``n_unlinked_spots``.
    """
    p = _text.check_file(path)
    m = _parse_model(p)
    keep = [t for t in m.tracks if m.shown is None or t in m.shown]
    if not keep:
        raise TrackFileError(p, "holds no (visible) track", "run the tracking step in TrackMate and save again")
    image = m.image or {}
    declared = m.space or image.get("spatialunits")  # pre-2.0 files keep the units on <ImageData>
    pw, dt, why = _image_calibration(p, m.image)
    scale, pixel_size = _resolve_space(p, units or declared, declared, pixel_size, pw, why)

    rows, in_track, n_branched, n_pieces = [], set(), 0, 0
    for tid in keep:
        pieces = _linear_pieces(p, tid, m.tracks[tid], m.spots)
        if len(pieces) > 1:
            n_branched, n_pieces = n_branched + 1, n_pieces + len(pieces)
        for k, chain in enumerate(pieces, 1):
            name = tid if len(pieces) == 1 else f"{tid}.b{k}"
            rows += [(name, *m.spots[sid][:5], sid) for sid in chain]
            in_track.update(chain)
    if n_branched:
        logger.warning("%s: %d track(s) branch (TrackMate split/merge events) and were cut at each split and merge "
                       "into %d linear piece(s) named '<TRACK_ID>.b<k>'", p, n_branched, n_pieces)
    n_unlinked = sum(1 for sid, s in m.spots.items() if sid not in in_track and _float(s[5]) != 0)
    if n_unlinked:
        logger.info("%s: %d visible spot(s) belong to no visible track and are not analysed", p, n_unlinked)
    raw = pd.DataFrame(rows, columns=["track", "frame", "x", "y", "z", "t", "_loc"], dtype=object)
    ts = _text.time_scale(m.time or image.get("timeunits"))
    file_dt = dt * ts if dt and ts else None
    if file_dt is None and ts:
        t, fr = (pd.to_numeric(raw[c], errors="coerce").to_numpy(np.float64) for c in ("t", "frame"))
        file_dt = (_interval_from_times(t, fr) or 0) * ts or None
    raw = raw.drop(columns="t").fillna("")
    names = {"track": "TRACK_ID", "frame": "FRAME", "x": "POSITION_X", "y": "POSITION_Y", "z": "POSITION_Z"}
    return build_tracks(raw, path=p, fmt="trackmate_xml", names=names, loc="spot ID={}", scale=scale,
                        min_length=min_length, pixel_size=pixel_size, n_branched=n_branched,
                        n_unlinked_spots=n_unlinked, frame_interval=_text.resolve(
                            "frame_interval", _text.check_positive("frame_interval", frame_interval), file_dt, p))


# ----------------------------------------------------------------------------- simple tracks XML
def _drop_flattened(p: Path, raw: pd.DataFrame, n_spots: dict[str, float | None]) -> tuple[pd.DataFrame, int]:
    """Leave out particles with fewer detections than their ``nSpots``: TrackMate's export keeps one
    detection per time point, so such a particle is a branched track whose branches are mixed."""
    count = raw["track"].value_counts()
    flat = [t for t, n in n_spots.items() if n is not None and n > count.get(t, 0)]
    if not flat:
        return raw, 0
    raw = raw[~raw["track"].isin(flat)]
    if raw.empty:
        raise TrackFileError(p, "every particle in it lost detections in TrackMate's export (nSpots is larger than "
                             "its number of detections: branched tracks flattened to one detection per time point)",
                             _SAVE_XML)
    logger.warning("%s: %d particle(s) were left out (e.g. particle %s: nSpots=%d but %d detections): TrackMate's "
                   "'Export tracks to XML' keeps one detection per time point, so branched tracks come out with "
                   "positions jumping between branches; %s", p, len(flat), flat[0], int(n_spots[flat[0]]),
                   int(count.get(flat[0], 0)), _SAVE_XML)
    return raw, len(flat)


def read_trackmate_tracks(path, *, pixel_size: float | None = None, frame_interval: float | None = None,
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
    units : {"px", "nm", "um"}, optional
        Overrides ``spaceUnits``.
    min_length : int
        Shortest track kept, in frames.

    Returns
    -------
    Tracks
        Tracks named ``0, 1, ...`` in file order, positions in pixels; branched particles left out
        or cut (see the module docstring), counted in ``n_branched``.
    """
    p = _text.check_file(path)
    rows, n_spots = [], {}
    space = time = dt = None
    n = -1
    k = 0
    for event, el in _iterparse(p):
        if event == "start":
            if el.tag == "Tracks":
                space, time, dt = el.get("spaceUnits"), el.get("timeUnits"), _positive(el.get("frameInterval"))
            elif el.tag == "particle":
                n, k = n + 1, 0
                n_spots[str(n)] = _float(el.get("nSpots"))
            continue
        if el.tag == "detection":
            k += 1
            rows.append((str(n), el.get("t"), el.get("x"), el.get("y"), el.get("z"), k))
            el.clear()
        elif el.tag == "particle":
            el.clear()
    raw = pd.DataFrame(rows, columns=["track", "frame", "x", "y", "z", "_loc"], dtype=object).fillna("")
    scale, pixel_size = _resolve_space(p, units or space, space, pixel_size, None,
                                       "TrackMate's 'Export tracks to XML' file does not store the pixel size")
    raw, n_flat = _drop_flattened(p, raw, n_spots)
    raw, n_cut = _cut_at_shared_frames(raw, p, {"frame": "t"}, "detection {}")
    ts = _text.time_scale(time)
    file_dt = dt * ts if dt and ts else None
    return build_tracks(raw, path=p, fmt="trackmate_tracks", names={"frame": "t"}, loc="detection {}",
                        scale=scale, min_length=min_length, pixel_size=pixel_size, n_branched=n_flat + n_cut,
                        frame_interval=_text.resolve("frame_interval",
                                                     _text.check_positive("frame_interval", frame_interval), file_dt, p))
