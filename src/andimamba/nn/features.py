"""Per-frame input features of the network, computed from padded 2-D tracks.

Glossary: b = number of tracks, l = padded length (frames), n = ``lengths[i]`` the valid length of
track ``i``, t = frame index (0-based), p_t = (x_t, y_t) the position in pixels.

Scale normalisation
-------------------
K spans ~18 decades, so every track is first divided by its own scale

    s = max(sqrt( sum_{t=1}^{n-1} ((x_t - x_{t-1})^2 + (y_t - y_{t-1})^2) / (2 (n-1)) ), SCALE_FLOOR)

(the root of the 1-D lag-1 mean squared displacement, in px; ``SCALE_FLOOR`` = 1e-3 px guards
motionless tracks and n = 1). All features below use the normalised positions p_t / s, and log(s) is
given as a channel so the network can still predict K in absolute units (K = K_norm · s^2, because
positions scale by s and time does not).

Channels (``FEATURE_NAMES``; every channel is exactly 0 on padding frames t >= n)
-------------------------------------------------------------------------------
==========  ====================  ==================================================================
index       name                  definition at valid frame t (normalised units)
==========  ====================  ==================================================================
0, 1        dx, dy                lag-1 displacement x_t - x_{t-1}, y_t - y_{t-1}; 0 at t = 0
2, 3        dx2, dy2              squares of channels 0, 1 (instantaneous 1-D MSD at lag 1)
4 .. 7      msd_x_1 .. msd_x_4    local 1-D MSD at lag tau = 1..4: mean of (x_u - x_{u-tau})^2 over the
                                  lag-tau increments lying inside the centred window [t-W, t+W] of the
                                  track, i.e. u in [max(tau, t-W+tau), min(n-1, t+W)], W = HALF_WINDOW = 4;
                                  0 if the track is too short to hold one (n <= tau)
8 .. 11     msd_y_1 .. msd_y_4    same for y
12, 13      cos, sin              cos and sin of the signed turning angle from displacement t-1 to
                                  displacement t (defined for 2 <= t <= n-1); 0 where undefined or
                                  where either displacement is zero
14          dist                  distance from the origin |p_t - p_0| after shifting the track to start at 0
15          log_scale             log(s) (s in px), constant along the track
==========  ====================  ==================================================================

Properties (tested): translation invariant (only differences of positions enter, up to float rounding
of the input subtraction); padding never influences a valid frame, and a padded and an unpadded copy
give identical valid-frame features on CPU (sums are prefix sums or fixed shifted adds, computed in
float64). Rotation by a multiple of 90° permutes/negates channels but is not built in.

Versioning
----------
``FEATURE_VERSION`` names this definition. A checkpoint stores it with ``FEATURE_NAMES`` (see
:mod:`andimamba.checkpoint`), and loading refuses weights trained on another version. Bump it whenever a
channel changes meaning (order, units, normalisation, window, lags), even if ``N_FEATURES`` stays the same.

The model computes these features itself (:meth:`andimamba.nn.model.AnDiNet.forward` takes positions), so
training, inference and the ONNX export all go through :func:`compute_features` here.
"""

from __future__ import annotations

import numpy as np
import torch

from andimamba.nn.masking import length_mask

__all__ = ["compute_features", "N_FEATURES", "FEATURE_NAMES", "FEATURE_VERSION", "LAGS", "HALF_WINDOW", "SCALE_FLOOR"]

LAGS: tuple[int, ...] = (1, 2, 3, 4)  # lags tau of the local MSD channels
HALF_WINDOW: int = 4  # W: the local MSD window is [t - W, t + W]; needs max(LAGS) <= W
SCALE_FLOOR: float = 1e-3  # px, lower bound of the per-track scale s

FEATURE_NAMES: tuple[str, ...] = (
    ("dx", "dy", "dx2", "dy2")
    + tuple(f"msd_x_{tau}" for tau in LAGS)
    + tuple(f"msd_y_{tau}" for tau in LAGS)
    + ("cos", "sin", "dist", "log_scale")
)
N_FEATURES: int = len(FEATURE_NAMES)
FEATURE_VERSION: int = 1  # bump when any channel above changes meaning (checked when weights are loaded)


def _shift(x: torch.Tensor, o: int) -> torch.Tensor:
    """``out[:, t] = x[:, t + o]`` along dim 1, zero where ``t + o`` is outside [0, l)."""
    l = x.shape[1]
    out = torch.zeros_like(x)
    if o >= 0:
        if o < l:
            out[:, : l - o] = x[:, o:]
    elif -o < l:
        out[:, -o:] = x[:, : l + o]
    return out


def _local_msd(z: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Local 1-D MSDs of normalised positions ``z`` (b, l, 2) at every lag in ``LAGS`` -> (b, l, 2, n_lags)."""
    b, l, _ = z.shape
    lags = torch.tensor(LAGS, device=z.device)  # (n_lags,)
    t = torch.arange(l, device=z.device)  # (l,)
    q = torch.zeros(b, l, 2, len(LAGS), dtype=z.dtype, device=z.device)  # (b, l, 2, n_lags)
    valid = torch.zeros(b, l, len(LAGS), dtype=z.dtype, device=z.device)  # (b, l, n_lags)
    for j, tau in enumerate(LAGS):
        ok = mask & (t >= tau)[None, :]  # (b, l): increment u-tau -> u inside the track
        inc = z - _shift(z, -tau)  # (b, l, 2)
        q[..., j] = torch.where(ok[..., None], inc * inc, 0.0)
        valid[..., j] = ok.to(z.dtype)
    total = torch.zeros_like(q)  # (b, l, 2, n_lags)
    count = torch.zeros_like(valid)  # (b, l, n_lags)
    # the window of frame t holds increments ending at u = t + o, o in [-W + tau, W]
    for o in range(-HALF_WINDOW + min(LAGS), HALF_WINDOW + 1):
        use = (o >= -HALF_WINDOW + lags).to(z.dtype)  # (n_lags,)
        total = total + _shift(q, o) * use
        count = count + _shift(valid, o) * use
    ok = (count > 0) & mask[..., None]  # (b, l, n_lags)
    msd = total / count.clamp(min=1.0)[:, :, None, :]  # (b, l, 2, n_lags)
    return torch.where(ok[:, :, None, :], msd, 0.0)


def compute_features(
    positions: torch.Tensor | np.ndarray, lengths: torch.Tensor | np.ndarray
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-frame, per-track-normalised features of padded 2-D tracks (channels in the module docstring).

    Parameters
    ----------
    positions : Tensor or ndarray, shape (b, l, 2)
        x, y in pixels; padding frames are ignored (conventionally 0, any finite or NaN value works).
    lengths : Tensor or ndarray, shape (b,), integer
        Valid number of frames of each track, ``0 <= lengths <= l``.

    Returns
    -------
    feats : Tensor, shape (b, l, N_FEATURES), float32
        Features; exactly 0 on padding frames. On the device of ``positions`` when it is a tensor.
    log_scale : Tensor, shape (b,), float32
        log(s) with s the per-track scale in px; ``log_K = log_K_normalised + 2 * log_scale``.
    """
    pos = torch.as_tensor(positions).to(torch.float64)  # (b, l, 2)
    if pos.dim() != 3 or pos.shape[-1] != 2:
        raise ValueError(f"positions must have shape (n_tracks, n_frames, 2), got {tuple(pos.shape)}")
    b, l, _ = pos.shape
    lengths = torch.as_tensor(lengths, dtype=torch.long, device=pos.device)  # (b,)
    if lengths.shape != (b,):
        raise ValueError(f"lengths must have shape ({b},), got {tuple(lengths.shape)}")
    # the check reads tensor values, which torch.export cannot trace: exported graphs clip lengths themselves
    if b and not torch.compiler.is_exporting() and (int(lengths.min()) < 0 or int(lengths.max()) > l):
        raise ValueError(f"track lengths must lie in [0, {l}] (the padded length)")
    if _numba_ok(pos):  # CPU, eager: the same arithmetic in one compiled kernel (andimamba.nn.features_numba)
        from andimamba.nn.features_numba import compute_features_numba

        feats, log_s = compute_features_numba(pos.numpy(), lengths.numpy())
        return torch.from_numpy(feats), torch.from_numpy(log_s)
    return _features_torch(pos, lengths)


def _numba_ok(pos: torch.Tensor) -> bool:
    """Whether :func:`compute_features` may use the numba kernel: a CPU tensor that needs no gradient, not traced,
    compiled or exported (those need the PyTorch operations), and numba importable."""
    if pos.device.type != "cpu" or pos.requires_grad or torch.jit.is_tracing() or torch.compiler.is_compiling() \
            or torch.compiler.is_exporting():
        return False
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def _features_torch(pos: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`compute_features` as PyTorch operations (GPU, tracing, export); pos (b, l, 2) float64, lengths (b,)."""
    b, l, _ = pos.shape
    mask = length_mask(lengths, l)  # (b, l)
    step_ok = mask.clone()
    step_ok[:, :1] = False  # (b, l): displacement t-1 -> t exists

    # lag-1 displacements in px and the per-track scale s (prefix sum: padding never enters)
    d = torch.where(step_ok[..., None], pos - _shift(pos, -1), 0.0)  # (b, l, 2)
    sq = (d * d).sum(-1)  # (b, l)
    csum = torch.cumsum(sq, dim=1)  # (b, l)
    last = (lengths - 1).clamp(min=0)[:, None]  # (b, 1)
    n_steps = (lengths - 1).clamp(min=1).to(pos.dtype)  # (b,)
    total = torch.gather(csum, 1, last)[:, 0] if l else pos.new_zeros(b)  # (b,)
    scale = torch.sqrt(total / (2.0 * n_steps)).clamp(min=SCALE_FLOOR)  # (b,)
    inv = (1.0 / scale)[:, None, None]  # (b, 1, 1)

    d = d * inv  # (b, l, 2)
    z = torch.where(mask[..., None], pos - pos[:, :1], 0.0) * inv  # (b, l, 2) start at the origin
    msd = _local_msd(z, mask)  # (b, l, 2, n_lags)

    # turning angle between displacement t-1 and t
    d_prev = _shift(d, -1)  # (b, l, 2)
    turn_ok = step_ok & _shift(step_ok, -1)  # (b, l)
    dot = (d_prev * d).sum(-1)  # (b, l)
    cross = d_prev[..., 0] * d[..., 1] - d_prev[..., 1] * d[..., 0]  # (b, l)
    denom = d_prev.norm(dim=-1) * d.norm(dim=-1)  # (b, l)
    turn_ok = turn_ok & (denom > 0)
    safe = torch.where(turn_ok, denom, 1.0)
    cos = torch.where(turn_ok, dot / safe, 0.0)  # (b, l)
    sin = torch.where(turn_ok, cross / safe, 0.0)  # (b, l)

    dist = z.norm(dim=-1)  # (b, l)
    log_s = torch.log(scale)  # (b,)
    log_s_ch = torch.where(mask, log_s[:, None], 0.0)  # (b, l)

    feats = torch.cat(
        [
            d,  # (b, l, 2)
            d * d,  # (b, l, 2)
            msd[:, :, 0, :],  # (b, l, n_lags)
            msd[:, :, 1, :],  # (b, l, n_lags)
            torch.stack([cos, sin, dist, log_s_ch], dim=-1),  # (b, l, 4)
        ],
        dim=-1,
    )  # (b, l, N_FEATURES)
    return feats.to(torch.float32), log_s.to(torch.float32)
