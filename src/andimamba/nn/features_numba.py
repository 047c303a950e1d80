"""The input features of :mod:`andimamba.nn.features` as one numba kernel, for CPU inference and training.

:func:`andimamba.nn.features.compute_features` builds the 16 channels from ~60 small PyTorch operations on
(b, l, ...) tensors (shifts, masks, window sums); on a CPU batch of 128 × 200 frames that was ~17 % of a
whole network's forward pass. Here one serial kernel (0.5-1 ms a batch: not worth starting numba's thread pool, which spins against
torch's own threads in a model that has no other numba kernel — measured 1.5x slower BiLSTM) computes the same float64 arithmetic in
the same order frame by frame (window sums over the same offsets in the same order, the scale from the same
running sum), reading only each track's valid frames, and casts to float32 at the end; the outputs equal the
PyTorch path's (tests/nn/test_features_numba.py compares them bit for bit on random, short, constant and padded
tracks). Not used on GPU, under tracing, ``torch.compile`` or export, where the PyTorch path runs.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from andimamba.nn.features import HALF_WINDOW, LAGS, N_FEATURES, SCALE_FLOOR
from andimamba.numba_cache import CachedKernel

_LAGS = np.array(LAGS, dtype=np.int64)


@njit(cache=True)
def features_kernel(pos, lengths, lags, half_window, scale_floor, feats, log_scale):
    """feats (b, l, F) float32 and log_scale (b,) float32 of positions pos (b, l, 2) float64, lengths (b,) int64.

    Channel order as ``FEATURE_NAMES``: dx, dy, dx², dy², msd_x per lag, msd_y per lag, cos, sin, dist, log s.
    """
    nb, nl = pos.shape[0], pos.shape[1]
    nlag = lags.shape[0]
    for i in range(nb):
        L = lengths[i]
        f = feats[i]
        f[:, :] = 0.0
        # lag-1 displacements (px) and the scale: a running sum over frames 0..L-1 as torch.cumsum
        d = np.zeros((max(L, 1), 2))
        total = 0.0
        for t in range(L):
            if t >= 1:
                d[t, 0] = pos[i, t, 0] - pos[i, t - 1, 0]
                d[t, 1] = pos[i, t, 1] - pos[i, t - 1, 1]
            total = total + (d[t, 0] * d[t, 0] + d[t, 1] * d[t, 1])
        n_steps = float(max(L - 1, 1))
        scale = max(math.sqrt(total / (2.0 * n_steps)), scale_floor)
        inv = 1.0 / scale
        log_s = math.log(scale)
        log_scale[i] = np.float32(log_s)
        z = np.zeros((max(L, 1), 2))
        for t in range(L):
            d[t, 0] = d[t, 0] * inv
            d[t, 1] = d[t, 1] * inv
            z[t, 0] = (pos[i, t, 0] - pos[i, 0, 0]) * inv
            z[t, 1] = (pos[i, t, 1] - pos[i, 0, 1]) * inv
        # squared lag-tau increments ending at each frame (0 where the increment leaves the track)
        q = np.zeros((max(L, 1), 2, nlag))
        for j in range(nlag):
            tau = lags[j]
            for t in range(tau, L):
                for c in range(2):
                    inc = z[t, c] - z[t - tau, c]
                    q[t, c, j] = inc * inc
        lo = -half_window + lags.min()
        for t in range(L):
            f[t, 0], f[t, 1] = d[t, 0], d[t, 1]
            f[t, 2], f[t, 3] = d[t, 0] * d[t, 0], d[t, 1] * d[t, 1]
            for j in range(nlag):
                tau = lags[j]
                sx, sy, count = 0.0, 0.0, 0.0
                for o in range(lo, half_window + 1):  # offsets in the order of the PyTorch path's sum
                    u = t + o
                    if o >= -half_window + tau and tau <= u < L:
                        sx = sx + q[u, 0, j]
                        sy = sy + q[u, 1, j]
                        count = count + 1.0
                if count > 0:
                    f[t, 4 + j] = sx / max(count, 1.0)
                    f[t, 4 + nlag + j] = sy / max(count, 1.0)
            if 2 <= t:  # turning angle between displacements t-1 and t
                dot = d[t - 1, 0] * d[t, 0] + d[t - 1, 1] * d[t, 1]
                cross = d[t - 1, 0] * d[t, 1] - d[t - 1, 1] * d[t, 0]
                denom = math.sqrt(d[t - 1, 0] * d[t - 1, 0] + d[t - 1, 1] * d[t - 1, 1]) * \
                    math.sqrt(d[t, 0] * d[t, 0] + d[t, 1] * d[t, 1])
                if denom > 0:
                    f[t, 4 + 2 * nlag] = dot / denom
                    f[t, 5 + 2 * nlag] = cross / denom
            f[t, 6 + 2 * nlag] = math.sqrt(z[t, 0] * z[t, 0] + z[t, 1] * z[t, 1])
            f[t, 7 + 2 * nlag] = log_s


def _example_args() -> tuple:
    """Arguments of the types :func:`compute_features_numba` passes."""
    return (np.zeros((1, 1, 2)), np.ones(1, np.int64), _LAGS, HALF_WINDOW, SCALE_FLOOR,
            np.zeros((1, 1, N_FEATURES), np.float32), np.zeros(1, np.float32))


KERNEL = CachedKernel(features_kernel, _example_args, __name__)
preload = KERNEL.load  # ~2 s in a child process once per install, then a load from numba's cache


def compute_features_numba(pos: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(feats (b, l, F) float32, log_scale (b,) float32) of pos (b, l, 2) and lengths (b,); see the module."""
    pos = np.ascontiguousarray(pos, dtype=np.float64)
    lengths = np.ascontiguousarray(lengths, dtype=np.int64)
    b, l = pos.shape[:2]
    feats = np.empty((b, l, N_FEATURES), np.float32)
    log_scale = np.empty(b, np.float32)
    KERNEL.load()  # waits for a background load in progress instead of compiling a second time
    features_kernel(pos, lengths, _LAGS, HALF_WINDOW, SCALE_FLOOR, feats, log_scale)
    return feats, log_scale
