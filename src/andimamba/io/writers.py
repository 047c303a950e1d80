"""Writing results: the AnDi-2 submission files and per-segment / per-frame CSV tables.

Every writer is atomic: it writes a hidden temporary file in the destination folder and moves it
over the destination with :func:`os.replace` only once everything was written and flushed, so an
exception (bad value, full disk, Ctrl-C) never leaves a half-written file and an existing file
stays intact. Missing parent folders are created.

The AnDi-2 files (``fov_J.txt`` label lines, ``ensemble_labels.txt``) are spelled by
:mod:`andimamba.andi2` (format and folder layout); this module writes them.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from ..andi2 import ensemble_text, label_line
from ..result import SegmentResult
from ._csv import write_csv
from .atomic import atomic_open
from .results import K_PX, frames_table, segments_table
from .tracks import Tracks

SEGMENT_COLUMNS = ("track_id", "segment", "start_frame", "end_frame", "n_frames", "alpha", K_PX, "state", "state_name", "regime")
FRAME_COLUMNS = ("track_id", "frame", "alpha", K_PX, "state", "cp_prob")


def write_submission_fov(path, results: Iterable[SegmentResult]) -> Path:
    """Write one field of view in the AnDi-2 submission format (``fov_J.txt``), atomically.

    Parameters
    ----------
    path : str or path-like
        Destination, e.g. :func:`andimamba.andi2.fov_file` ``(exp_dir, J)``.
    results : iterable of SegmentResult
        One per track, written as :func:`andimamba.andi2.label_line`; track ids must be integers
        and unique.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    ValueError
        For a repeated track id, or a track :func:`~andimamba.andi2.label_line` refuses (nothing is
        written then).
    """
    seen: set[str] = set()
    with atomic_open(path) as f:
        for r in results:
            if r.track_id in seen:
                raise ValueError(f"track {r.track_id} appears twice in one field of view")
            seen.add(r.track_id)
            f.write(label_line(r) + "\n")
    return Path(path)


def write_ensemble_labels(path, model_name: str, matrix) -> Path:
    """Write ``ensemble_labels.txt`` of one experiment, atomically.

    Parameters
    ----------
    path : str or path-like
        Destination, e.g. :func:`andimamba.andi2.ensemble_file` ``(exp_dir)``.
    model_name : str
        Diffusion model (e.g. ``"multi_state"``); no spaces or ``;``.
    matrix : array_like, shape (5, k)
        Rows: mean α, variance of α, mean K, variance of K, weight of each of the k states.

    Returns
    -------
    Path

    Raises
    ------
    ValueError
        For a matrix of another shape or with non-finite values, or a bad model name.
    """
    text = ensemble_text(model_name, matrix)  # validates before anything is written
    with atomic_open(path) as f:
        f.write(text)
    return Path(path)


def _write_table(path, data, build, required, kw) -> Path:
    """Build (from results) or take a table, check its columns, write it atomically."""
    df = data if isinstance(data, pd.DataFrame) else build(list(data), **kw)
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ValueError(f"the table lacks column(s) {missing}; build it with andimamba.io.results")
    with atomic_open(path) as f:
        write_csv(f, df, float_format="%.10g")  # the bytes of df.to_csv(f, index=False, float_format="%.10g"), faster
    return Path(path)


def write_segments_csv(path, data: pd.DataFrame | Iterable[SegmentResult], pixel_size: float | None = None,
                       frame_interval: float | None = None) -> Path:
    """Write the per-segment table (units in column names), atomically.

    Parameters
    ----------
    path : str or path-like
        Destination CSV.
    data : DataFrame or iterable of SegmentResult
        A table from :func:`~andimamba.io.results.segments_table`, or results to build it from.
    pixel_size, frame_interval : float, optional
        µm/px and s/frame; with both, the table gets ``K_um2_per_s_alpha`` (results only).

    Returns
    -------
    Path
    """
    return _write_table(path, data, segments_table, SEGMENT_COLUMNS, dict(pixel_size=pixel_size, frame_interval=frame_interval))


def write_frames_csv(path, data: pd.DataFrame | Iterable[SegmentResult], tracks: Tracks | None = None,
                     pixel_size: float | None = None, frame_interval: float | None = None) -> Path:
    """Write the per-frame table (``track_id, frame, x_px, y_px, alpha, K_px2_per_frame_alpha, ...``).

    Parameters
    ----------
    path : str or path-like
        Destination CSV.
    data : DataFrame or iterable of SegmentResult
        A table from :func:`~andimamba.io.results.frames_table`, or results to build it from.
    tracks : Tracks, optional
        Positions (x_px, y_px) and default pixel size / frame interval, when building from results.
    pixel_size, frame_interval : float, optional
        µm/px and s/frame (override the tracks' metadata).

    Returns
    -------
    Path
    """
    return _write_table(path, data, frames_table, FRAME_COLUMNS, dict(tracks=tracks, pixel_size=pixel_size, frame_interval=frame_interval))
