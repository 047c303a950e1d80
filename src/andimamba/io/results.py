"""Tables of segmentation results (one row per segment, one row per frame), and K in physical units.

The tables are built from :class:`~andimamba.result.SegmentResult` objects (one track's change
points — 0-based positions within the track, the first frame of each new segment, as in AnDi-2 —
and per-segment α, K in px²/frame^α and state, optionally with per-frame model outputs).

Physical units
--------------
The model works in pixels and frames: MSD(t) = 4·K·t^α with t in frames and MSD in px², so K is
in px²/frame^α. With a pixel size ``p`` (µm/px) and a frame interval ``Δt`` (s/frame),
MSD_µm²(t_s) = p²·4·K·(t_s/Δt)^α, hence :func:`k_physical`:
``K_µm²/s^α = K_px²/frame^α · p² / Δt^α``. α is dimensionless and unchanged.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from ..andi2 import STATE_NAMES
from ..result import SegmentResult
from .tracks import Tracks

K_PX = "K_px2_per_frame_alpha"
K_UM = "K_um2_per_s_alpha"


def k_physical(K_px, alpha, pixel_size_um: float, frame_interval_s: float):
    """Convert K from px²/frame^α to µm²/s^α.

    Parameters
    ----------
    K_px : float or array_like
        Generalized diffusion coefficient in px²/frame^α (MSD = 4·K·t^α).
    alpha : float or array_like
        Anomalous exponent (broadcast against ``K_px``).
    pixel_size_um : float
        Pixel size in µm per pixel.
    frame_interval_s : float
        Time between frames in seconds.

    Returns
    -------
    float or ndarray
        ``K_px * pixel_size_um**2 / frame_interval_s**alpha`` in µm²/s^α.

    Examples
    --------
    >>> k_physical(2.0, 1.0, 0.5, 0.25)  # 2 px²/frame, 0.5 µm/px, 0.25 s/frame
    2.0
    """
    out = np.asarray(K_px, dtype=np.float64) * pixel_size_um ** 2 / frame_interval_s ** np.asarray(alpha, np.float64)
    return float(out) if out.ndim == 0 else out


def _both(pixel_size, frame_interval) -> bool:
    return pixel_size is not None and frame_interval is not None


def _segments(results: list[SegmentResult]) -> dict[str, np.ndarray]:
    """The segments of all ``results`` as arrays, segments of track 0 first: ``track`` (s,) index of the
    result, ``start``/``stop`` (s,) positions within the track (``[start, stop)``), ``alpha``, ``K``,
    ``state`` (s,), and per track ``T``, ``first_frame`` (b,) and ``ids`` (b,) as a text array."""
    T = np.array([r.T for r in results], dtype=np.int64)
    cps = [r.cps for r in results]
    nseg = np.array([len(c) + 1 for c in cps], dtype=np.int64)  # (b,)
    first = np.cumsum(nseg) - nseg  # (b,) index of each track's first segment
    inner = np.ones(int(nseg.sum()), dtype=bool)
    inner[first] = False  # (s,) segments that start at a change point
    start = np.zeros(len(inner), dtype=np.int64)
    stop = np.empty(len(inner), dtype=np.int64)
    allcps = np.concatenate(cps).astype(np.int64) if cps else np.zeros(0, np.int64)
    start[inner] = allcps
    stop[first + nseg - 1] = T  # the last segment ends with the track
    stop[np.flatnonzero(inner) - 1] = allcps  # the others where the next one starts
    return {"track": np.repeat(np.arange(len(results)), nseg), "start": start, "stop": stop,
            "alpha": np.concatenate([r.alphas for r in results]).astype(np.float64),
            "K": np.concatenate([r.Ks for r in results]).astype(np.float64),
            "state": np.concatenate([r.states for r in results]).astype(np.int64),
            "T": T, "first_frame": np.array([r.first_frame for r in results], dtype=np.int64),
            "ids": pd.array([str(r.track_id) for r in results], dtype="str")}


def segments_table(results: Iterable[SegmentResult], pixel_size: float | None = None,
                   frame_interval: float | None = None) -> pd.DataFrame:
    """One row per segment, units in the column names.

    Columns: ``track_id, segment`` (0-based), ``start_frame, end_frame`` (absolute, inclusive),
    ``n_frames, alpha, K_px2_per_frame_alpha``, ``K_um2_per_s_alpha`` (only when both
    ``pixel_size`` (µm/px) and ``frame_interval`` (s) are given), ``state, state_name``, ``regime``
    (``full``, or ``short`` for the per-track estimate of a 6–19-frame track).
    """
    results = list(results)
    cols = ["track_id", "segment", "start_frame", "end_frame", "n_frames", "alpha", K_PX, "state", "regime"]
    if results:  # all segments at once
        g = _segments(results)
        track, f0 = g["track"], g["first_frame"][g["track"]]
        nseg = np.bincount(track, minlength=len(results))
        df = pd.DataFrame({"track_id": g["ids"].take(track),
                           "segment": np.arange(len(track)) - np.repeat(np.cumsum(nseg) - nseg, nseg),
                           "start_frame": f0 + g["start"], "end_frame": f0 + g["stop"] - 1,
                           "n_frames": g["stop"] - g["start"], "alpha": g["alpha"], K_PX: g["K"], "state": g["state"],
                           "regime": pd.array([r.regime for r in results], dtype="str").take(track)})
    else:
        df = pd.DataFrame([], columns=cols).astype(
            {"segment": "int64", "start_frame": "int64", "end_frame": "int64", "n_frames": "int64",
             "alpha": "float64", K_PX: "float64", "state": "int64"})
    if _both(pixel_size, frame_interval):
        df.insert(df.columns.get_loc(K_PX) + 1, K_UM, k_physical(df[K_PX], df["alpha"], pixel_size, frame_interval))
    df.insert(df.columns.get_loc("state") + 1, "state_name", df["state"].map(STATE_NAMES).fillna("unknown"))
    return df


def frames_table(results: Iterable[SegmentResult], tracks: Tracks | None = None,
                 pixel_size: float | None = None, frame_interval: float | None = None) -> pd.DataFrame:
    """One row per frame: ``track_id, frame, x_px, y_px, alpha, K_px2_per_frame_alpha,
    [K_um2_per_s_alpha], state, cp_prob``.

    ``x_px, y_px`` come from ``tracks`` (omitted when None); ``pixel_size`` and ``frame_interval``
    default to the tracks' metadata.
    """
    results = list(results)
    cols = ["track_id", "frame", "alpha", K_PX, "state", "cp_prob"]
    if results:  # the columns of all tracks at once (one DataFrame, not one per track)
        g = _segments(results)
        T, size = g["T"], g["stop"] - g["start"]
        offset = np.cumsum(T) - T  # (b,) first row of each track
        columns = {}
        for col, name, seg_values, dtype in (("alpha", "alpha_frame", g["alpha"], np.float64),
                                             (K_PX, "K_frame", g["K"], np.float64),
                                             ("state", "state_frame", g["state"], np.int64),
                                             ("cp_prob", "cp_prob", np.full(len(size), np.nan), np.float64)):
            per_frame = [getattr(r, name) for r in results]  # the model's per-frame values, where present
            if all(v is not None for v in per_frame):
                columns[col] = np.concatenate(per_frame).astype(dtype)
                continue
            columns[col] = np.repeat(seg_values, size).astype(dtype)  # (n,) else the segment's value on its frames
            for i, v in enumerate(per_frame):
                if v is not None:
                    columns[col][offset[i]:offset[i] + T[i]] = v
        # immobile segments reported with alpha = K = 0 (the AnDi-2 label) carry those values on their frames
        immobile = np.repeat((g["state"] == 0) & (g["alpha"] == 0) & (g["K"] == 0), size)  # (n,)
        if immobile.any():
            columns["alpha"][immobile], columns[K_PX][immobile], columns["state"][immobile] = 0.0, 0.0, 0
        df = pd.DataFrame({"track_id": g["ids"].take(np.repeat(np.arange(len(results)), T)),  # (n,) no re-parsing
                           "frame": np.repeat(g["first_frame"] - offset, T) + np.arange(T.sum(), dtype=np.int64),
                           **columns})
    else:
        df = pd.DataFrame({c: [] for c in cols})
    if tracks is not None:
        pixel_size = tracks.pixel_size if pixel_size is None else pixel_size
        frame_interval = tracks.frame_interval if frame_interval is None else frame_interval
        same_order = len(tracks) == len(results) and \
            [str(i) for i in tracks.ids] == [str(r.track_id) for r in results] and \
            np.array_equal(tracks.lengths, [r.T for r in results]) and \
            np.array_equal(tracks.first_frames, [r.first_frame for r in results])
        if same_order:  # results in the tracks' order (tracks hold consecutive frames): the rows align
            df = df.assign(x_px=tracks.data["x"].to_numpy(np.float64), y_px=tracks.data["y"].to_numpy(np.float64))
        else:
            pos = tracks.data.rename(columns={"x": "x_px", "y": "y_px"}).astype({"track_id": str})
            df = df.astype({"track_id": str}).merge(pos, on=["track_id", "frame"], how="left", validate="one_to_one")
        if df["x_px"].isna().any():
            bad = df.loc[df["x_px"].isna()].iloc[0]
            raise ValueError(f"frame {bad['frame']} of track {bad['track_id']} is not in the tracks: "
                             "results and tracks do not match")
        df = df[["track_id", "frame", "x_px", "y_px", "alpha", K_PX, "state", "cp_prob"]]
    if _both(pixel_size, frame_interval):
        df.insert(df.columns.get_loc(K_PX) + 1, K_UM, k_physical(df[K_PX], df["alpha"], pixel_size, frame_interval))
    return df
