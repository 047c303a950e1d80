"""TrackMate's XML model file (the file the Save button writes): tracks, branches, image calibration."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import _text
from .._tidy import build_tracks
from ..errors import TrackFileError
from ..tracks import Tracks
from ._common import (
    _SPOT_KEYS,
    _float,
    _interval_from_times,
    _iterparse,
    _positive,
    _resolve_space,
    logger,
)


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
