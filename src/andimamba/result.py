"""One track's segmentation — the core result type — and the change point ↔ per-frame label conversions.

A :class:`SegmentResult` is what the segmenters (:mod:`andimamba.segments`, :mod:`andimamba.classical`,
the short-track path of :mod:`andimamba.predict`) return, what the writers (:mod:`andimamba.io`) and
the AnDi-2 format (:mod:`andimamba.andi2`) turn into files, and what the scorer
(:mod:`andimamba.metrics`) compares: change points plus per-segment α, K and state.

Conventions (AnDi-2): change points (CPs) are 0-based frame positions within the track, each the
first frame of a new segment; a segment's value is read at its last frame
(``label_continuous_to_list``); K is in px²/frame^α (MSD = 4·K·t^α); a track line ends with its
length T. This module is the one place for CP ↔ per-frame label conversion.
"""

from __future__ import annotations

from dataclasses import InitVar, dataclass

import numpy as np

__all__ = ["SegmentResult", "REGIMES", "change_points", "segments_from_labels", "labels_from_segments"]

REGIMES = ("full", "short")


def change_points(*columns: np.ndarray) -> np.ndarray:
    """Frames t (≥ 1) where any of the per-frame label columns differs from frame t − 1.

    Parameters
    ----------
    *columns : ndarray, shape (T,)
        Per-frame labels (e.g. α, K, state) of one track.

    Returns
    -------
    ndarray, shape (n_cp,), int
        Change points, increasing.
    """
    cols = np.stack([np.asarray(c, dtype=np.float64) for c in columns], axis=1)  # (T, c)
    return np.flatnonzero(np.any(cols[1:] != cols[:-1], axis=1)) + 1


def segments_from_labels(alpha: np.ndarray, K: np.ndarray, state: np.ndarray):
    """Per-frame labels → (cps, alphas, Ks, states) as ``label_continuous_to_list``.

    Parameters
    ----------
    alpha, K, state : ndarray, shape (T,)
        Per-frame labels of one track.

    Returns
    -------
    cps : ndarray, shape (s − 1,), int
        Change points (first frame of each segment after the first).
    alphas, Ks, states : ndarray, shape (s,)
        Segment values, read at each segment's last frame.
    """
    cps = change_points(alpha, K, state)
    last = np.concatenate([cps, [len(alpha)]]) - 1
    return cps, np.asarray(alpha)[last], np.asarray(K)[last], np.asarray(state)[last]


def labels_from_segments(cps, values, T: int) -> np.ndarray:
    """Segment values + change points → per-frame array.

    Parameters
    ----------
    cps : array_like, shape (s − 1,), int
        Change points, increasing.
    values : array_like, shape (s,)
        One value per segment.
    T : int
        Track length (frames).

    Returns
    -------
    ndarray, shape (T,)
    """
    cps = np.asarray(cps, dtype=np.int64)
    idx = np.searchsorted(cps, np.arange(T), side="right")
    return np.asarray(values)[idx]


@dataclass
class SegmentResult:
    """Segmentation of one track: change points and per-segment α, K, state.

    Attributes
    ----------
    track_id : str
        Track id (as in :class:`~andimamba.io.tracks.Tracks`; ``traj_idx`` in AnDi-2 files).
    T : int
        Number of frames of the track (None only for an unchecked label line without a CP/T field).
    cps : ndarray, shape (n - 1,), int
        Change points: 0-based positions within the track, strictly increasing, in [1, T - 1].
    alphas, Ks : ndarray, shape (n,), float
        Per-segment α and K (px²/frame^α).
    states : ndarray, shape (n,), int
        Per-segment state code (:data:`andimamba.andi2.STATE_NAMES`: 0 immobile, 1 confined,
        2 free, 3 directed).
    first_frame : int
        Absolute frame number of position 0 (for the CSV tables).
    alpha_frame, K_frame, cp_prob : ndarray, shape (T,), float, optional
        Per-frame model outputs (α, K in px²/frame^α, change-point probability).
    state_frame : ndarray, shape (T,), int, optional
        Per-frame state code.
    state_post : ndarray, shape (n, 4), float, optional
        The network's mean state posterior over each segment's frames (immobile, confined, free, directed),
        before any decision rule (what per-experiment pooling of the states starts from).
    net_alpha_K : ndarray, shape (n, 2), float, optional
        The network's α and K of each segment before the immobile convention (α = K = 0) was applied.
    regime : {"full", "short"}
        ``"full"``: change points and segments from the per-frame model outputs (tracks of at least
        20 frames); ``"short"``: one α and K for the whole track from the short-track estimator
        (:mod:`andimamba.short_tracks`, 6–19 frames), no change points.
    check : bool, init only
        Validate and normalise the values (default). ``False`` keeps them exactly as given, for a
        line read from a label file that the official scorer must score as it is
        (:func:`andimamba.andi2.parse_label_line`): float states (``2.7``, ``nan``), unsorted or
        out-of-range CPs, ``T`` None, or ``n_cp + 2`` values for a line without ``T``; and for results that
        :func:`andimamba.segments.segment_batch` builds valid by construction (the checks, with one ``np.r_`` per track
        since vectorised, were about half of its time).

    Raises
    ------
    ValueError
        When checked: T < 1, an unknown regime, CPs not increasing in [1, T - 1], a number of α, K,
        state values other than CPs + 1, or a per-frame array not of length T.
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
    state_post: np.ndarray | None = None
    net_alpha_K: np.ndarray | None = None
    check: InitVar[bool] = True

    def __post_init__(self, check: bool) -> None:
        self.track_id = str(self.track_id)
        if not check:
            return
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
        for name, width in (("state_post", 4), ("net_alpha_K", 2)):
            v = getattr(self, name)
            if v is not None:
                v = np.asarray(v, dtype=np.float64)
                if v.shape != (n, width):
                    raise ValueError(f"{where}: {name} must have shape ({n}, {width}), got {v.shape}")
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
