"""The AnDi-2 challenge label filter (``utils_challenge.label_filter``): majority vote, then minimum segment length.

The conversions between per-frame labels and change points/segments live in :mod:`andimamba.result`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["label_filter", "majority_filter", "enforce_min_segment_length"]


def majority_filter(codes: np.ndarray, window: int = 5) -> np.ndarray:
    """Majority vote over a centred window truncated at the ends (``utils_challenge.majority_filter``).

    Parameters
    ----------
    codes : ndarray, shape (n,), int
        Small non-negative integer codes. Ties go to the smallest code (``scipy.stats.mode``).
    window : int
        Odd window size.
    """
    if window % 2 == 0:
        raise ValueError(f"window={window}: the majority-filter window must be odd")
    n = codes.shape[0]
    h = window // 2
    k = int(codes.max()) + 1
    onehot = np.zeros((n + 1, k), dtype=np.int64)
    onehot[np.arange(n) + 1, codes] = 1
    cs = np.cumsum(onehot, axis=0)  # (n + 1, k): counts of each code in frames < i
    i = np.arange(n)
    counts = cs[np.minimum(i + h + 1, n)] - cs[np.maximum(i - h, 0)]  # (n, k)
    return counts.argmax(axis=1)  # first maximum = smallest code


def enforce_min_segment_length(codes: np.ndarray, min_seg: int = 3) -> np.ndarray:
    """Merge runs shorter than ``min_seg`` into the previous run (the next one for the first run),
    exactly as ``utils_challenge.enforce_min_segment_length``."""
    n = codes.shape[0]
    change = np.flatnonzero(codes[1:] != codes[:-1]) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [n]])  # exclusive
    segs = [[int(codes[s]), int(s), int(e)] for s, e in zip(starts, ends)]
    i = 0
    while i < len(segs):
        v, s, e = segs[i]
        if e - s < min_seg:
            if i > 0:
                segs[i - 1][2] = e
                segs.pop(i)
                continue
            if i < len(segs) - 1:
                segs[i] = [segs[i + 1][0], s, segs[i + 1][2]]
                segs.pop(i + 1)
                continue
        i += 1
    out = np.empty_like(codes)
    for v, s, e in segs:
        out[s:e] = v
    return out


def label_filter(label: np.ndarray, window: int = 5, min_seg: int = 3) -> np.ndarray:
    """The AnDi-2 challenge label filter (``utils_challenge.label_filter``), exact.

    Values are coded by order of first appearance, smoothed by a majority vote over ``window``
    frames, then runs shorter than ``min_seg`` frames are merged into the previous run.
    A label without changes is returned unchanged; otherwise a float array.
    """
    label = np.asarray(label)
    if label.shape[0] < 2 or not np.any(label[1:] != label[:-1]):
        return label
    values, first, codes = np.unique(label, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # code by first appearance
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    codes = rank[codes.ravel()]
    filt = enforce_min_segment_length(majority_filter(codes, window), min_seg)
    return values[order][filt].astype(float)
