"""TrackMate's simple "Export tracks to XML file" output (``<Tracks>`` root)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .. import _text
from .._tidy import build_tracks
from ..errors import TrackFileError
from ..tracks import Tracks
from ._common import (
    _SAVE_XML,
    _cut_at_shared_frames,
    _float,
    _iterparse,
    _positive,
    _resolve_space,
    logger,
)


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
