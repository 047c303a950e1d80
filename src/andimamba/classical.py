"""The classical method (``--model classical``): penalised change-point detection on log squared steps + per-segment
time-averaged-MSD fits. No training, no network; for honest comparison and for users.

For a track of T frames, the T − 1 log squared step lengths ``u_t = log(Δx_t² + Δy_t²)`` (step
t: frame t−1 → t) have a mean that jumps where K or α changes. exact penalised least squares (optimal partitioning with PELT pruning, own compiled
implementation; minimum size ``min_seg`` steps) with a BIC-like penalty ``beta · var(u) · log(T)`` finds the
jumps; var(u) is the variance of the log of a χ²₂ variable, π²/6, unless estimated. A jump between
steps j−1 and j is a change point at frame j (the first frame whose incoming step is in the new
regime). In each segment, α and K come from a least-squares fit of log TAMSD(τ) = log(4K) + α·log τ
over lags τ = 1 … min(max_lag, n/3); the state is 3 (directed) when α > ``directed_alpha``, else 2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

from .result import SegmentResult

VAR_LOG_CHI2_2 = np.pi**2 / 6


@dataclass
class ClassicalConfig:
    """Parameters of the classical method."""

    beta: float = 2.5
    min_seg: int = 3
    max_lag: int = 5
    directed_alpha: float = 1.8
    alpha_clip: tuple = (0.0, 2.0)


def _tamsd_fit(xy: np.ndarray, max_lag: int) -> tuple[float, float]:
    n = xy.shape[0]
    lags = np.arange(1, max(1, min(max_lag, n // 3)) + 1)
    msd = np.array([np.mean(np.sum((xy[l:] - xy[:-l]) ** 2, axis=1)) for l in lags])
    msd = np.maximum(msd, 1e-12)
    if lags.size < 2:
        return 1.0, float(msd[0] / 4)
    slope, icpt = np.polyfit(np.log(lags), np.log(msd), 1)
    return float(slope), float(np.exp(icpt) / 4)


@nb.njit(cache=True)
def _optimal_partition(u, pen, min_size):  # pragma: no cover - compiled
    """Exact penalised least-squares segmentation of a 1-D signal (optimal partitioning with
    PELT pruning): minimise Σ_segments Σ (u − segment mean)² + pen · (number of segments).
    Returns the segment starts (excluding 0)."""
    n = u.shape[0]
    s1 = np.zeros(n + 1)
    s2 = np.zeros(n + 1)
    for i in range(n):
        s1[i + 1] = s1[i] + u[i]
        s2[i + 1] = s2[i] + u[i] * u[i]
    F = np.full(n + 1, np.inf)
    F[0] = -pen
    last = np.zeros(n + 1, dtype=np.int64)
    cand = np.zeros(n + 1, dtype=np.int64)
    nc = 1  # candidate segment starts (PELT set), initially {0}
    for t in range(min_size, n + 1):
        best = np.inf
        arg = 0
        for j in range(nc):
            s = cand[j]
            m = t - s
            if m < min_size:
                continue
            c = s2[t] - s2[s] - (s1[t] - s1[s]) ** 2 / m
            v = F[s] + c + pen
            if v < best:
                best = v
                arg = s
        F[t] = best
        last[t] = arg
        # prune starts that can never be optimal again, then add t − min_size + 1 as a candidate
        k = 0
        for j in range(nc):
            s = cand[j]
            m = t - s
            c = s2[t] - s2[s] - (s1[t] - s1[s]) ** 2 / m if m > 0 else 0.0
            if t - s < min_size or F[s] + c <= F[t]:
                cand[k] = s
                k += 1
        nc = k
        nxt = t - min_size + 1
        if nxt >= min_size:
            cand[nc] = nxt
            nc += 1
    out = []
    t = n
    while t > 0:
        s = last[t]
        if s > 0:
            out.append(s)
        t = s
    out.reverse()
    return np.array(out, dtype=np.int64)


def change_points_classical(xy: np.ndarray, cfg: ClassicalConfig) -> np.ndarray:
    """Change points (0-based frame positions) of one track by penalised segmentation of its log
    squared steps."""
    T = xy.shape[0]
    steps = np.diff(xy, axis=0)
    u = np.log(np.sum(steps**2, axis=1) + 1e-12)  # (T − 1,)
    if T - 1 < 2 * cfg.min_seg:
        return np.zeros(0, dtype=np.int64)
    pen = cfg.beta * VAR_LOG_CHI2_2 * np.log(T)
    starts = _optimal_partition(u, pen, cfg.min_seg)
    cps = starts + 1  # step index b starts the new regime → frame b + 1
    return cps[(cps >= cfg.min_seg) & (cps <= T - cfg.min_seg)]


def segment_track_classical(xy: np.ndarray, cfg: ClassicalConfig | None = None):
    """(cps, alphas, Ks, states) of one track (positions (T, 2) in px)."""
    cfg = cfg or ClassicalConfig()
    T = xy.shape[0]
    cps = change_points_classical(xy, cfg)
    bounds = np.concatenate([[0], cps, [T]])
    al, ks, st = [], [], []
    for a, b in zip(bounds[:-1], bounds[1:]):
        alpha, K = _tamsd_fit(xy[a:b], cfg.max_lag)
        alpha = float(np.clip(alpha, *cfg.alpha_clip))
        al.append(alpha)
        ks.append(K)
        st.append(3 if alpha > cfg.directed_alpha else 2)
    return cps, np.array(al), np.array(ks), np.array(st, dtype=np.int64)


def segment_batch_classical(positions: np.ndarray, lengths: np.ndarray, ids=None, first_frames=None, cfg: ClassicalConfig | None = None) -> list[SegmentResult]:
    """Classical segmentation of a padded batch of tracks ((b, l, 2) px, lengths (b,))."""
    out = []
    for i, T in enumerate(np.asarray(lengths)):
        T = int(T)
        cps, a, k, s = segment_track_classical(np.asarray(positions[i, :T], dtype=np.float64), cfg)
        out.append(SegmentResult(track_id=str(ids[i]) if ids is not None else str(i), T=T, cps=cps, alphas=a, Ks=k, states=s,
                                 first_frame=int(first_frames[i]) if first_frames is not None else 0))
    return out
