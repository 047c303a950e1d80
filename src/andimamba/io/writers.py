"""Writing results: the AnDi-2 submission files and per-segment / per-frame CSV tables.

Every writer is atomic: it writes a hidden temporary file in the destination folder and moves it
over the destination with :func:`os.replace` only once everything was written and flushed, so an
exception (bad value, full disk, Ctrl-C) never leaves a half-written file and an existing file
stays intact. Missing parent folders are created.

AnDi-2 submission (``track_2/exp_E/fov_J.txt``), one line per track::

    traj_idx,K_1,alpha_1,state_1,CP_1,...,K_n,alpha_n,state_n,T

K before α; CPs are 0-based positions within the track; states are integers; the line always
ends with T (the scorer drops the last CP otherwise), so it has 4·n + 1 fields. Floats are written
with ``repr`` precision. ``ensemble_labels.txt``: ``model: NAME; num_state: k`` then a
``;``-separated 5 × k matrix (mean α, var α, mean K, var K, weight).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from .atomic import atomic_open
from .results import K_PX, SegmentResult, frames_table, segments_table
from .tracks import Tracks

_INT_ID = re.compile(r"-?\d+")
SEGMENT_COLUMNS = ("track_id", "segment", "start_frame", "end_frame", "n_frames", "alpha", K_PX, "state", "state_name", "regime")
FRAME_COLUMNS = ("track_id", "frame", "alpha", K_PX, "state", "cp_prob")


def _num(v) -> str:
    return repr(float(v))


def submission_line(r: SegmentResult) -> str:
    """The AnDi-2 line of one track (no newline): ``traj_idx,K1,alpha1,state1,CP1,...,T``.

    Raises
    ------
    ValueError
        If the track id is not an integer (the scorer reads it as a number) or a value is not finite.
    """
    if not _INT_ID.fullmatch(r.track_id):
        raise ValueError(f"track {r.track_id!r}: AnDi-2 submissions need integer traj_idx (pieces of tracks "
                         "split at frame gaps cannot be submitted)")
    if not (np.all(np.isfinite(r.alphas)) and np.all(np.isfinite(r.Ks))):
        raise ValueError(f"track {r.track_id}: alpha and K must be finite, got alphas {r.alphas.tolist()}, "
                         f"Ks {r.Ks.tolist()}")
    out = [r.track_id]
    for i in range(r.n_segments):
        out += [_num(r.Ks[i]), _num(r.alphas[i]), str(int(r.states[i]))]
        out.append(str(int(r.cps[i])) if i < r.n_segments - 1 else str(r.T))
    return ",".join(out)


def submission_path(root, experiment: int, fov: int) -> Path:
    """``root/track_2/exp_{experiment}/fov_{fov}.txt``, the official AnDi-2 submission layout."""
    return Path(root) / "track_2" / f"exp_{int(experiment)}" / f"fov_{int(fov)}.txt"


def write_submission_fov(path, results: Iterable[SegmentResult]) -> Path:
    """Write one field of view in the AnDi-2 submission format (``fov_J.txt``), atomically.

    Parameters
    ----------
    path : str or path-like
        Destination, e.g. ``out/track_2/exp_0/fov_0.txt``.
    results : iterable of SegmentResult
        One per track; track ids must be integers and unique.

    Returns
    -------
    Path
        The written file.
    """
    seen: set[str] = set()
    with atomic_open(path) as f:
        for r in results:
            if r.track_id in seen:
                raise ValueError(f"track {r.track_id} appears twice in one field of view")
            seen.add(r.track_id)
            f.write(submission_line(r) + "\n")
    return Path(path)


def write_ensemble_labels(path, model_name: str, matrix) -> Path:
    """Write ``ensemble_labels.txt`` of one experiment, atomically.

    Parameters
    ----------
    path : str or path-like
        Destination, e.g. ``out/track_2/exp_0/ensemble_labels.txt``.
    model_name : str
        Diffusion model (e.g. ``"multi_state"``); no spaces or ``;``.
    matrix : array_like, shape (5, k)
        Rows: mean α, variance of α, mean K, variance of K, weight of each of the k states.

    Returns
    -------
    Path
    """
    mat = np.asarray(matrix, dtype=np.float64)
    if mat.ndim == 1:
        mat = mat[:, None]
    if mat.ndim != 2 or mat.shape[0] != 5:
        raise ValueError(f"the ensemble matrix must have shape (5, k), got {mat.shape}")
    if not np.all(np.isfinite(mat)):
        raise ValueError("the ensemble matrix must be finite")
    if not model_name or re.search(r"[\s;]", model_name):
        raise ValueError(f"model_name must be one word without ';', got {model_name!r}")
    with atomic_open(path) as f:
        f.write(f"model: {model_name}; num_state: {mat.shape[1]} \n")
        np.savetxt(f, mat, delimiter=";")
    return Path(path)


def _write_table(path, data, build, required, kw) -> Path:
    """Build (from results) or take a table, check its columns, write it atomically."""
    df = data if isinstance(data, pd.DataFrame) else build(list(data), **kw)
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ValueError(f"the table lacks column(s) {missing}; build it with andimamba.io.results")
    with atomic_open(path) as f:
        df.to_csv(f, index=False, float_format="%.10g")
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
