"""Per-track segmentation results, their tables, and K in physical units.

A :class:`SegmentResult` is what the writers consume: one track's change points (0-based
positions within the track, the first frame of each new segment, as in AnDi-2) and per-segment
α, K (px²/frame^α) and state, optionally with per-frame model outputs.

Physical units
--------------
The model works in pixels and frames: MSD(t) = 4·K·t^α with t in frames and MSD in px², so K is
in px²/frame^α. With a pixel size ``p`` (µm/px) and a frame interval ``Δt`` (s/frame),
MSD_µm²(t_s) = p²·4·K·(t_s/Δt)^α, hence :func:`k_physical`:
``K_µm²/s^α = K_px²/frame^α · p² / Δt^α``. α is dimensionless and unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np
import pandas as pd

from ..sim.labels import labels_from_segments
from .tracks import Tracks

STATE_NAMES = {0: "immobile", 1: "confined", 2: "free", 3: "directed"}
K_PX = "K_px2_per_frame_alpha"
K_UM = "K_um2_per_s_alpha"
REGIMES = ("full", "short")


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


@dataclass
class SegmentResult:
    """Segmentation of one track.

    Attributes
    ----------
    track_id : str
        Track id (as in :class:`~andimamba.io.tracks.Tracks`).
    T : int
        Number of frames of the track.
    cps : ndarray, shape (n - 1,), int
        Change points: 0-based positions within the track, strictly increasing, in [1, T - 1].
    alphas, Ks : ndarray, shape (n,), float
        Per-segment α and K (px²/frame^α).
    states : ndarray, shape (n,), int
        Per-segment state code (0 immobile, 1 confined, 2 free, 3 directed).
    first_frame : int
        Absolute frame number of position 0 (for the CSV tables).
    alpha_frame, K_frame, cp_prob : ndarray, shape (T,), float, optional
        Per-frame model outputs (α, K in px²/frame^α, change-point probability).
    state_frame : ndarray, shape (T,), int, optional
        Per-frame state code.
    regime : {"full", "short"}
        ``"full"``: change points and segments from the per-frame model outputs (tracks of at least
        20 frames); ``"short"``: one α and K for the whole track from the short-track estimator
        (:mod:`andimamba.short_tracks`, 6–19 frames), no change points.
    """

    track_id: str
    T: int
    cps: np.ndarray
    alphas: np.ndarray
    Ks: np.ndarray
    states: np.ndarray
    first_frame: int = 0
    alpha_frame: np.ndarray | None = None
    K_frame: np.ndarray | None = None
    state_frame: np.ndarray | None = None
    cp_prob: np.ndarray | None = None
    regime: str = "full"

    def __post_init__(self) -> None:
        self.track_id = str(self.track_id)
        self.T, self.first_frame = int(self.T), int(self.first_frame)
        self.cps = np.asarray(self.cps, dtype=np.int64).reshape(-1)
        self.alphas = np.asarray(self.alphas, dtype=np.float64).reshape(-1)
        self.Ks = np.asarray(self.Ks, dtype=np.float64).reshape(-1)
        self.states = np.asarray(self.states).reshape(-1).astype(np.int64)
        n = len(self.cps) + 1
        where = f"SegmentResult of track {self.track_id}"
        if self.T < 1:
            raise ValueError(f"{where}: T must be >= 1, got {self.T}")
        if self.regime not in REGIMES:
            raise ValueError(f"{where}: regime must be one of {', '.join(REGIMES)}, got {self.regime!r}")
        if self.regime == "short" and len(self.cps):
            raise ValueError(f"{where}: a short-regime track has no change points")
        if not (len(self.alphas) == len(self.Ks) == len(self.states) == n):
            raise ValueError(f"{where}: {len(self.cps)} change points need {n} alphas, Ks and states, got "
                             f"{len(self.alphas)}, {len(self.Ks)}, {len(self.states)}")
        if n > 1 and (np.any(np.diff(self.cps) <= 0) or self.cps[0] < 1 or self.cps[-1] > self.T - 1):
            raise ValueError(f"{where}: change points must be increasing positions in [1, T-1={self.T - 1}], "
                             f"got {self.cps.tolist()}")
        for name in ("alpha_frame", "K_frame", "state_frame", "cp_prob"):
            v = getattr(self, name)
            if v is not None:
                v = np.asarray(v).reshape(-1)
                if len(v) != self.T:
                    raise ValueError(f"{where}: {name} has {len(v)} values for T={self.T} frames")
                setattr(self, name, v)

    @property
    def n_segments(self) -> int:
        """Number of segments (change points + 1)."""
        return len(self.cps) + 1

    def bounds(self) -> np.ndarray:
        """(n, 2) int: ``[start, stop)`` positions of each segment within the track."""
        edges = np.concatenate([[0], self.cps, [self.T]])
        return np.stack([edges[:-1], edges[1:]], axis=1)

    def per_frame(self) -> dict[str, np.ndarray]:
        """Per-frame α, K, state (the model's when present, else expanded from the segments) and
        cp_prob (NaN when absent), each of length T.

        Frames of a segment reported as immobile with α = K = 0 (the AnDi-2 label convention, see
        :class:`~andimamba.segments.SegmenterConfig`) carry those values and state 0, so that the
        per-frame and per-segment tables agree."""
        def get(v, seg):
            return v if v is not None else labels_from_segments(self.cps, seg, self.T)
        out = {"alpha": get(self.alpha_frame, self.alphas).astype(np.float64),
               "K": get(self.K_frame, self.Ks).astype(np.float64),
               "state": get(self.state_frame, self.states).astype(np.int64),
               "cp_prob": (self.cp_prob if self.cp_prob is not None else np.full(self.T, np.nan)).astype(np.float64)}
        # one convention for immobile segments: reported with alpha = K = 0 (the AnDi-2 label), their frames too
        for (a, b), st, al, k in zip(self.bounds(), self.states, self.alphas, self.Ks):
            if st == 0 and al == 0 and k == 0:
                out["alpha"][a:b], out["K"][a:b], out["state"][a:b] = 0.0, 0.0, 0
        return out


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
    parts = []
    for r in results:
        pf = r.per_frame()
        frames = np.arange(r.first_frame, r.first_frame + r.T)
        parts.append(pd.DataFrame({"track_id": r.track_id, "frame": frames, "alpha": pf["alpha"], K_PX: pf["K"],
                                   "state": pf["state"], "cp_prob": pf["cp_prob"]}))
    cols = ["track_id", "frame", "alpha", K_PX, "state", "cp_prob"]
    df = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({c: [] for c in cols})
    if tracks is not None:
        pixel_size = tracks.pixel_size if pixel_size is None else pixel_size
        frame_interval = tracks.frame_interval if frame_interval is None else frame_interval
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
