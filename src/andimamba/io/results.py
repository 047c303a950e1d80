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


def segments_table(results: Iterable[SegmentResult], pixel_size: float | None = None,
                   frame_interval: float | None = None) -> pd.DataFrame:
    """One row per segment, units in the column names.

    Columns: ``track_id, segment`` (0-based), ``start_frame, end_frame`` (absolute, inclusive),
    ``n_frames, alpha, K_px2_per_frame_alpha``, ``K_um2_per_s_alpha`` (only when both
    ``pixel_size`` (µm/px) and ``frame_interval`` (s) are given), ``state, state_name``, ``regime``
    (``full``, or ``short`` for the per-track estimate of a 6–19-frame track).
    """
    rows = []
    for r in results:
        for i, (a, b) in enumerate(r.bounds()):
            rows.append((r.track_id, i, r.first_frame + a, r.first_frame + b - 1, b - a,
                         r.alphas[i], r.Ks[i], int(r.states[i]), r.regime))
    df = pd.DataFrame(rows, columns=["track_id", "segment", "start_frame", "end_frame", "n_frames",
                                     "alpha", K_PX, "state", "regime"])
    df = df.astype({"segment": "int64", "start_frame": "int64", "end_frame": "int64", "n_frames": "int64",
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
        pf = [r.per_frame() for r in results]
        T = np.array([r.T for r in results], dtype=np.int64)
        start = np.repeat(np.array([r.first_frame for r in results], dtype=np.int64) - np.r_[0, np.cumsum(T)[:-1]], T)
        df = pd.DataFrame({"track_id": np.repeat(np.array([r.track_id for r in results], dtype=object), T).astype(str),
                           "frame": start + np.arange(T.sum(), dtype=np.int64),  # (n,) first_frame + position in the track
                           **{c: np.concatenate([p[k] for p in pf]) for c, k in
                              (("alpha", "alpha"), (K_PX, "K"), ("state", "state"), ("cp_prob", "cp_prob"))}})
    else:
        df = pd.DataFrame({c: [] for c in cols})
    if tracks is not None:
        pixel_size = tracks.pixel_size if pixel_size is None else pixel_size
        frame_interval = tracks.frame_interval if frame_interval is None else frame_interval
        pos = tracks.data.rename(columns={"x": "x_px", "y": "y_px"}).astype({"track_id": str})
        if len(pos) == len(df) and np.array_equal(pos["track_id"].to_numpy(), df["track_id"].to_numpy()) \
                and np.array_equal(pos["frame"].to_numpy(), df["frame"].to_numpy()):
            df = df.assign(x_px=pos["x_px"].to_numpy(), y_px=pos["y_px"].to_numpy())  # results in the tracks' order
        else:
            df = df.astype({"track_id": str}).merge(pos, on=["track_id", "frame"], how="left", validate="one_to_one")
        if df["x_px"].isna().any():
            bad = df.loc[df["x_px"].isna()].iloc[0]
            raise ValueError(f"frame {bad['frame']} of track {bad['track_id']} is not in the tracks: "
                             "results and tracks do not match")
        df = df[["track_id", "frame", "x_px", "y_px", "alpha", K_PX, "state", "cp_prob"]]
    if _both(pixel_size, frame_interval):
        df.insert(df.columns.get_loc(K_PX) + 1, K_UM, k_physical(df[K_PX], df["alpha"], pixel_size, frame_interval))
    return df
