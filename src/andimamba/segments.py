"""From per-frame network outputs to change points and segments.

The network gives, for every frame t of a track of T frames, a change-point probability
``cp_prob[t]`` (frame t is the first frame of a new segment), state probabilities
``state_prob[t]`` (4 AnDi states), ``alpha[t]`` and ``log_K[t]``. A track is cut at

1. peaks of ``cp_prob`` above ``cp_threshold`` (local maxima over ±``peak_window`` frames),
   accepted greedily from the most probable, and
2. optionally where the (majority-smoothed) most probable state changes,

keeping every segment at least ``min_seg`` frames long (so CPs lie in [min_seg, T − min_seg], as
in the AnDi-2 ground truth). Each segment then gets α = median of ``alpha`` over its frames, K =
exp(median of ``log_K``) and the state with the largest mean probability (immobile segments get
α = K = 0, the AnDi-2 label of trapped frames, unless ``immobile_zero`` is off); ``trim`` frames at each
segment end are left out of the medians when the segment is long enough (frames next to a change
point mix both regimes).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .result import SegmentResult
from .sim.labels import majority_filter


@dataclass
class SegmenterConfig:
    """Parameters of the per-frame → segments step."""

    cp_threshold: float = 0.5
    min_seg: int = 3
    peak_window: int = 3
    use_state_changes: bool = True
    trim: int = 1
    immobile_zero: bool = True  # immobile segments get α = 0 and K = 0, the AnDi-2 label convention

    def to_dict(self) -> dict:
        return asdict(self)


def _peaks(p: np.ndarray, w: int, thr: float) -> np.ndarray:
    """Indices of local maxima of p over ±w frames with p ≥ thr."""
    pad = np.concatenate([np.full(w, -np.inf), p, np.full(w, -np.inf)])
    win = np.lib.stride_tricks.sliding_window_view(pad, 2 * w + 1)  # (T, 2w + 1)
    return np.flatnonzero((p >= thr) & (p >= win.max(axis=1)))


def change_points_from_outputs(cp_prob: np.ndarray, state_prob: np.ndarray, cfg: SegmenterConfig) -> np.ndarray:
    """Change points (sorted, 0-based) of one track of T frames."""
    T = cp_prob.shape[0]
    lo, hi = cfg.min_seg, T - cfg.min_seg
    cand = [(float(cp_prob[i]), int(i)) for i in _peaks(cp_prob, cfg.peak_window, cfg.cp_threshold)]
    if cfg.use_state_changes and T > 1:
        st = majority_filter(state_prob.argmax(axis=1), 2 * cfg.min_seg - 1 if cfg.min_seg > 1 else 1)
        for i in np.flatnonzero(st[1:] != st[:-1]) + 1:
            # a state change is a CP even if the CP head is unsure; score it by the CP head near it
            j0, j1 = max(i - cfg.peak_window, 0), min(i + cfg.peak_window + 1, T)
            j = j0 + int(np.argmax(cp_prob[j0:j1]))
            cand.append((max(float(cp_prob[j]), cfg.cp_threshold), j if cp_prob[j] >= cfg.cp_threshold else int(i)))
    cand.sort(key=lambda c: (-c[0], c[1]))
    kept: list[int] = []
    for _, i in cand:
        if i < lo or i > hi:
            continue
        if all(abs(i - k) >= cfg.min_seg for k in kept):
            kept.append(i)
    return np.array(sorted(kept), dtype=np.int64)


def segment_track(cp_prob, state_prob, alpha, log_K, cfg: SegmenterConfig | None = None):
    """Segment one track from its per-frame outputs.

    Parameters
    ----------
    cp_prob : ndarray, shape (T,)
    state_prob : ndarray, shape (T, 4)
    alpha, log_K : ndarray, shape (T,)
    cfg : SegmenterConfig, optional

    Returns
    -------
    cps : ndarray, shape (s − 1,), int
    alphas, Ks : ndarray, shape (s,)
    states : ndarray, shape (s,), int
    """
    cfg = cfg or SegmenterConfig()
    T = cp_prob.shape[0]
    cps = change_points_from_outputs(cp_prob, state_prob, cfg)
    bounds = np.concatenate([[0], cps, [T]])
    alphas, Ks, states = [], [], []
    for a, b in zip(bounds[:-1], bounds[1:]):
        ia, ib = (a + cfg.trim, b - cfg.trim) if b - a > 2 * cfg.trim + 2 else (a, b)
        alphas.append(float(np.median(alpha[ia:ib])))
        Ks.append(float(np.exp(np.median(log_K[ia:ib]))))
        states.append(int(np.argmax(state_prob[a:b].mean(axis=0))))
        if cfg.immobile_zero and states[-1] == 0:
            alphas[-1], Ks[-1] = 0.0, 0.0
    return cps, np.array(alphas), np.array(Ks), np.array(states, dtype=np.int64)


def segment_batch(outputs: dict, lengths: np.ndarray, ids=None, first_frames=None, cfg: SegmenterConfig | None = None) -> list[SegmentResult]:
    """Segment every track of a batch of per-frame outputs.

    Parameters
    ----------
    outputs : dict of ndarray
        ``cp_prob`` (b, l), ``state_prob`` (b, l, 4), ``alpha`` (b, l), ``log_K`` (b, l).
    lengths : ndarray, shape (b,)
    ids : sequence of str, optional
    first_frames : sequence of int, optional

    Returns
    -------
    list of SegmentResult
        With the per-frame outputs attached.
    """
    cfg = cfg or SegmenterConfig()
    res = []
    for i, T in enumerate(np.asarray(lengths)):
        T = int(T)
        cp, sp, al, lk = outputs["cp_prob"][i, :T], outputs["state_prob"][i, :T], outputs["alpha"][i, :T], outputs["log_K"][i, :T]
        cps, a, k, s = segment_track(cp, sp, al, lk, cfg)
        res.append(
            SegmentResult(
                track_id=str(ids[i]) if ids is not None else str(i),
                T=T,
                cps=cps,
                alphas=a,
                Ks=k,
                states=s,
                first_frame=int(first_frames[i]) if first_frames is not None else 0,
                alpha_frame=al,
                K_frame=np.exp(lk),
                state_frame=sp.argmax(axis=1),
                cp_prob=cp,
            )
        )
    return res
