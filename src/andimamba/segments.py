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
    # the state posteriors are scaled by these (immobile, confined, free, directed) before every state decision:
    # a weight below 1 is a cost on calling that state (the network is trained with rare states up-weighted)
    state_weights: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)

    def __post_init__(self):
        w = tuple(float(x) for x in self.state_weights)
        if len(w) != 4 or not all(np.isfinite(x) and x > 0 for x in w):
            raise ValueError(f"state_weights={self.state_weights!r}: four finite weights > 0 (immobile, confined, free, directed)")
        self.state_weights = w

    def to_dict(self) -> dict:
        return {**asdict(self), "state_weights": list(self.state_weights)}

    def weigh_states(self, state_prob: np.ndarray) -> np.ndarray:
        """``state_prob`` (..., 4) scaled by :attr:`state_weights` (the same array when they are all 1)."""
        if self.state_weights == (1.0, 1.0, 1.0, 1.0):
            return state_prob
        return state_prob * np.asarray(self.state_weights, dtype=state_prob.dtype)


def _peaks(p: np.ndarray, w: int, thr: float) -> np.ndarray:
    """Indices of local maxima of p over ±w frames with p ≥ thr."""
    pad = np.concatenate([np.full(w, -np.inf), p, np.full(w, -np.inf)])
    win = np.lib.stride_tricks.sliding_window_view(pad, 2 * w + 1)  # (T, 2w + 1)
    return np.flatnonzero((p >= thr) & (p >= win.max(axis=1)))


def _batch_peaks(cp_prob: np.ndarray, lengths: np.ndarray, w: int, thr: float) -> np.ndarray:
    """(b, l) bool: the frames :func:`_peaks` returns, for every track of a padded batch at once."""
    b, l = cp_prob.shape
    valid = np.arange(l)[None, :] < lengths[:, None]  # (b, l)
    pad = np.full((b, l + 2 * w), -np.inf)
    pad[:, w : w + l] = np.where(valid, cp_prob, -np.inf)
    win = np.lib.stride_tricks.sliding_window_view(pad, 2 * w + 1, axis=1)  # (b, l, 2w + 1)
    return valid & (cp_prob >= thr) & (cp_prob >= win.max(axis=2))


def change_points_from_outputs(cp_prob: np.ndarray, state_prob: np.ndarray, cfg: SegmenterConfig,
                               peaks: np.ndarray | None = None) -> np.ndarray:
    """Change points (sorted, 0-based) of one track of T frames (``peaks``: the frames of
    :func:`_peaks`, when already known)."""
    T = cp_prob.shape[0]
    lo, hi = cfg.min_seg, T - cfg.min_seg
    peaks = _peaks(cp_prob, cfg.peak_window, cfg.cp_threshold) if peaks is None else peaks
    cand = [(float(cp_prob[i]), int(i)) for i in peaks]
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
    state_prob = cfg.weigh_states(state_prob)
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


def _sorted_within_groups(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """``values`` sorted within each group (groups contiguous and in order). float32 values are sorted in one
    pass as int64 keys (group in the high 32 bits, the value's bits made order-preserving in the low 32): 2-3x
    faster than two argsorts on the million frames of a 5,000-track batch; other dtypes take the two argsorts."""
    if values.dtype != np.float32:
        by_value = np.argsort(values)
        return values[by_value[np.argsort(group[by_value], kind="stable")]]
    u = np.ascontiguousarray(values).view(np.uint32)
    sign = np.uint32(0x80000000)
    key = u ^ np.where(u >= sign, np.uint32(0xFFFFFFFF), sign)  # negative: all bits flipped; positive: the sign bit
    k = np.sort((group.astype(np.int64) << 32) | key.astype(np.int64))
    low = (k & 0xFFFFFFFF).astype(np.uint32)
    return (low ^ np.where(low >= sign, sign, np.uint32(0xFFFFFFFF))).view(np.float32)


def _group_median(values: np.ndarray, group: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Median of each group of ``values`` (groups contiguous, in order, sizes > 0), as ``np.median``
    computes it (the middle value, or the mean of the two middle values in the values' dtype)."""
    srt = _sorted_within_groups(values, group)  # (n,)
    offs = np.cumsum(sizes) - sizes  # (s,) first index of each group
    lo, hi = srt[offs + (sizes - 1) // 2], srt[offs + sizes // 2]  # (s,)
    even = sizes % 2 == 0
    out = lo.copy()
    out[even] = (lo[even] + hi[even]) / values.dtype.type(2)
    return out


def _segment_values(outputs: dict, lengths: np.ndarray, cps: list, cfg: SegmenterConfig):
    """Per-segment α, K and state of every track of a batch at once (see :func:`segment_track`).

    Returns (alphas, Ks, states, post, net): (n_segments,) each, then the mean unweighted state posterior
    (n_segments, 4) and the network's α and K before the immobile convention (n_segments, 2); segments of track
    0 first."""
    nseg = np.array([len(c) + 1 for c in cps], dtype=np.int64)  # (b,)
    track = np.repeat(np.arange(len(cps)), nseg)  # (s,) track of each segment
    inner = np.concatenate([np.asarray(c, dtype=np.int64) for c in cps])  # (s - b,) all change points, in order
    ends = np.cumsum(nseg)  # (b,) one past each track's last segment
    is_first = np.zeros(len(track), dtype=bool)  # (s,) a track's first segment
    is_first[ends - nseg] = True
    is_last = np.zeros(len(track), dtype=bool)  # (s,) a track's last segment
    is_last[ends - 1] = True
    start = np.zeros(len(track), dtype=np.int64)  # (s,) first frame of each segment: 0, then the CPs
    start[~is_first] = inner
    stop = np.empty(len(track), dtype=np.int64)  # (s,) one past the last frame: the CPs, then T
    stop[is_last] = lengths
    stop[~is_last] = inner
    t = cfg.trim
    long = stop - start > 2 * t + 2  # trim frames next to change points only when the segment is long enough
    ia, ib = np.where(long, start + t, start), np.where(long, stop - t, stop)

    def frames(a, b):  # (n,) segment index and (n,) frame of every frame in [a, b) of every segment
        size = b - a
        seg = np.repeat(np.arange(len(a)), size)
        return seg, a[seg] + np.arange(size.sum()) - np.repeat(np.cumsum(size) - size, size), size

    seg, pos, size = frames(ia, ib)
    alphas = _group_median(outputs["alpha"][track[seg], pos], seg, size)
    Ks = np.exp(_group_median(outputs["log_K"][track[seg], pos], seg, size))
    seg, pos, size = frames(start, stop)
    sums = np.add.reduceat(outputs["state_prob"][track[seg], pos], np.cumsum(size) - size, axis=0)  # (s, 4)
    post = sums / size[:, None].astype(sums.dtype)  # (s, 4) mean posterior of each segment
    states = np.argmax(cfg.weigh_states(post), axis=1).astype(np.int64)  # largest mean weighted probability
    alphas, Ks = alphas.astype(np.float64), Ks.astype(np.float64)
    net = np.stack([alphas, Ks], axis=1)  # (s, 2) before the immobile convention
    if cfg.immobile_zero:
        alphas[states == 0], Ks[states == 0] = 0.0, 0.0
    return alphas, Ks, states, post.astype(np.float64), net


def segment_batch(outputs: dict, lengths: np.ndarray, ids=None, first_frames=None, cfg: SegmenterConfig | None = None,
                  cps: list | None = None) -> list[SegmentResult]:
    """Segment every track of a batch of per-frame outputs.

    Change points are found track by track (:func:`change_points_from_outputs`); the segments'
    α, K and state are then computed for the whole batch at once, with the same values as
    :func:`segment_track` gives track by track.

    Parameters
    ----------
    outputs : dict of ndarray
        ``cp_prob`` (b, l), ``state_prob`` (b, l, 4), ``alpha`` (b, l), ``log_K`` (b, l).
    lengths : ndarray, shape (b,)
    ids : sequence of str, optional
    first_frames : sequence of int, optional
    cfg : SegmenterConfig, optional
    cps : list of ndarray, optional
        Change points of each track to use instead of finding them from ``cp_prob`` (e.g. to score the
        per-segment values at other change points); the segments' values then follow ``cfg`` as usual.

    Returns
    -------
    list of SegmentResult
        With the per-frame outputs attached.
    """
    cfg = cfg or SegmenterConfig()
    lengths = np.asarray(lengths).astype(np.int64)
    if len(lengths) == 0:
        return []
    weighted = cfg.weigh_states(outputs["state_prob"])  # (b, l, 4); the caller's dict left as it was
    # change points found here with min_seg >= 1 are valid by construction: the results skip SegmentResult's checks
    trusted = cps is None and cfg.min_seg >= 1
    if cps is None:
        peaks = _batch_peaks(outputs["cp_prob"], lengths, cfg.peak_window, cfg.cp_threshold)  # (b, l)
        cps = [change_points_from_outputs(outputs["cp_prob"][i, :T], weighted[i, :T], cfg, np.flatnonzero(peaks[i, :T]))
               for i, T in enumerate(lengths.tolist())]
    else:
        cps = [np.asarray(c, dtype=np.int64).reshape(-1) for c in cps]
    alphas, Ks, states, post, net = _segment_values(outputs, lengths, cps, cfg)
    K_frame = np.exp(outputs["log_K"])  # (b, l)
    state_frame = weighted.argmax(axis=-1)  # (b, l)
    edges = np.r_[0, np.cumsum([len(c) + 1 for c in cps])]
    res = []
    for i, T in enumerate(lengths.tolist()):
        a, b = edges[i], edges[i + 1]
        res.append(SegmentResult(track_id=str(ids[i]) if ids is not None else str(i), T=T, cps=cps[i], alphas=alphas[a:b],
                                 Ks=Ks[a:b], states=states[a:b],
                                 first_frame=int(first_frames[i]) if first_frames is not None else 0,
                                 alpha_frame=outputs["alpha"][i, :T], K_frame=K_frame[i, :T], state_frame=state_frame[i, :T],
                                 cp_prob=outputs["cp_prob"][i, :T], state_post=post[a:b], net_alpha_K=net[a:b],
                                 check=not trusted))
    return res
