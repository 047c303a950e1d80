"""Training losses of :class:`~andimamba.nn.model.AnDiNet` (the paper's Fig. 3 quantities).

Glossary: b = batch size, l = padded length, n_valid = number of valid frames in the batch,
c = class index (AnDi-2 state 0 immobile, 1 confined, 2 free, 3 directed).

Every term averages over the valid frames only; padding frames are removed by boolean indexing before
any arithmetic, so whatever the padded targets hold (garbage, NaN, out-of-range classes) changes nothing.

Terms (``parts`` keys)
----------------------
``wce``        weighted cross-entropy of the state, PyTorch convention:
               sum_i w_{y_i} · (-log p_i[y_i]) / sum_i w_{y_i}
``msle``       mean of (log1p(K_pred) - log1p(K_true))², K_pred = exp(log_K), so
               log1p(K_pred) = softplus(log_K) (computed that way: stable for any log_K)
``alpha_mae``  mean |α_pred - α_true|
``cp_bce``     mean binary cross-entropy with logits on the change-point frames, positives weighted by
               ``LossWeights.cp_pos_weight`` (CP frames are rare: ~1 in 50-200); with ``LossWeights.cp_sigma``
               > 0 the training target is spread over the neighbouring frames (:func:`smooth_cp_targets`); with
               ``LossWeights.cp_ignore`` > 0 the frames next to a CP are left out (:func:`near_cp_frames`); both
               in training only: validation (:func:`loss_sums`) scores the one-hot target, comparable across runs
``total`` = state·wce + K·msle + alpha·alpha_mae + cp·cp_bce with the :class:`LossWeights`.

:func:`andi_loss` averages the terms over one batch (training); :func:`loss_sums` returns their sums so that
validation pools them over a whole set (:func:`andimamba.train.evaluate`). Both use the same per-frame
formulas, written once below.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["LossWeights", "class_weights_from_counts", "andi_loss", "loss_sums", "near_cp_frames", "smooth_cp_targets"]


@dataclass
class LossWeights:
    """Weights of the four loss terms and the positive-class weight of the change-point BCE."""

    state: float = 1.0  # weighted cross-entropy on the diffusive state
    K: float = 1.0  # MSLE on K
    alpha: float = 1.0  # MAE on α
    cp: float = 1.0  # BCE on the change-point logit
    cp_pos_weight: float = 20.0  # weight of positive (change-point) frames inside the BCE
    class_weight_power: float = 0.5  # state weights ∝ (1/frequency)^power: 1 balanced, 0 plain CE
    cp_sigma: float = 0.0  # frames; > 0: CP targets spread as exp(-d²/2σ²) around each CP (training only)
    cp_ignore: int = 0  # frames; > 0: the frames within ±cp_ignore of a CP (not the CP) left out of the CP BCE (training only)

    def __post_init__(self) -> None:
        if not (self.cp_sigma >= 0 and np.isfinite(self.cp_sigma)):
            raise ValueError(f"cp_sigma must be a finite number >= 0, got {self.cp_sigma}")
        if int(self.cp_ignore) != self.cp_ignore or self.cp_ignore < 0:
            raise ValueError(f"cp_ignore must be a whole number of frames >= 0, got {self.cp_ignore}")
        self.cp_ignore = int(self.cp_ignore)


def class_weights_from_counts(counts: torch.Tensor | np.ndarray | list[float], power: float = 1.0) -> torch.Tensor:
    """Class weights w_c = (n_total / (n_present · n_c))^power from per-class frame counts.

    ``power`` 1 is fully balanced; the trainer uses ``LossWeights.class_weight_power`` (0.5 by
    default: rare states still count more, but the official state metric is micro-F1, i.e. frame
    accuracy, which fully balanced weights trade away).

    With power 1 every present class contributes the same total weight, and the count-weighted
    mean weight is 1. A class with zero count (absent from the sample the counts came from) gets the
    largest weight of the present classes instead of infinity.

    Parameters
    ----------
    counts : array-like, shape (n_classes,)
        Number of (valid) frames of each class.

    Returns
    -------
    Tensor, shape (n_classes,), float32
    """
    n = torch.as_tensor(counts, dtype=torch.float64)  # (n_classes,)
    if n.dim() != 1 or bool((n < 0).any()):
        raise ValueError("counts must be a 1-D array of non-negative class frequencies")
    present = n > 0
    if not bool(present.any()):
        raise ValueError("all class counts are zero: no labelled frames to weight")
    w = torch.zeros_like(n)
    w[present] = (n.sum() / (present.sum() * n[present])) ** power
    w[~present] = w[present].max()
    return w.to(torch.float32)


def _valid_frames(
    outputs: dict[str, torch.Tensor], targets: dict[str, torch.Tensor], mask: torch.Tensor
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Outputs and targets on the valid frames only, each (n_valid,) or (n_valid, 4); targets cast to the outputs' dtype."""
    mask = mask.to(torch.bool)
    out = {k: outputs[k][mask] for k in ("state_logits", "cp_logit", "log_K", "alpha")}
    dt = out["log_K"].dtype
    tg = {
        "state": targets["state"][mask].long(),
        "K": targets["K"][mask].to(dt),
        "alpha": targets["alpha"][mask].to(dt),
        "cp": targets["cp"][mask].to(out["cp_logit"].dtype),
    }
    return out, tg


def smooth_cp_targets(cp: torch.Tensor, sigma: float) -> torch.Tensor:
    """Change-point targets spread over neighbouring frames: ``max_d cp[t + d] · exp(-d² / 2σ²)``, |d| ≤ ⌈3σ⌉.

    Why: the AnDi-2 CP metrics match a predicted CP to a true one within a gate of several frames, while a one-hot
    target punishes a CP found one frame off as both a false and a missed one; a network unsure *where* a weak CP
    lies then spreads a probability too low to pass the threshold on every frame. The target stays 1 at each CP.

    Parameters
    ----------
    cp : Tensor, shape (b, l)
        1 (or True) on the first frame of each new segment, else 0.
    sigma : float
        Width in frames; 0 returns ``cp`` as float unchanged.

    Returns
    -------
    Tensor, shape (b, l), float
        Soft targets in [0, 1]; frames past a track's end may be non-zero (they are masked out by the losses).
    """
    out = cp.to(torch.float32) if not cp.is_floating_point() else cp.clone()
    if sigma <= 0:
        return out
    src = out.clone()
    for d in range(1, min(int(np.ceil(3 * sigma)), out.shape[1] - 1) + 1):
        w = float(np.exp(-(d * d) / (2 * sigma * sigma)))
        out[:, d:] = torch.maximum(out[:, d:], w * src[:, :-d])  # frames d after a CP
        out[:, :-d] = torch.maximum(out[:, :-d], w * src[:, d:])  # frames d before it
    return out


def near_cp_frames(cp: torch.Tensor, k: int) -> torch.Tensor:
    """Frames within ±k of a change point that are not change points themselves.

    Why: the AnDi-2 CP metrics accept a CP found a frame or two off; a one-hot target also calls those frames
    "no CP", so a network unsure *where* a weak CP lies is pushed to a low probability on each candidate frame.
    Left out of the BCE (``LossWeights.cp_ignore``), they let it put a confident peak on any of them.

    Parameters
    ----------
    cp : Tensor, shape (b, l)
        True (or 1) on the first frame of each new segment.
    k : int
        Reach in frames, >= 0.

    Returns
    -------
    Tensor, shape (b, l), bool
    """
    c = cp.to(torch.bool)
    near = torch.zeros_like(c)
    for d in range(1, min(k, c.shape[1] - 1) + 1):
        near[:, d:] |= c[:, :-d]
        near[:, :-d] |= c[:, d:]
    return near & ~c


def _sq_log_error(log_k: torch.Tensor, k_true: torch.Tensor) -> torch.Tensor:
    """(log1p(K_pred) - log1p(K_true))² per frame, log1p(exp(log_K)) computed as softplus(log_K) (stable)."""
    return (F.softplus(log_k) - torch.log1p(k_true)).pow(2)


def _abs_error(alpha: torch.Tensor, alpha_true: torch.Tensor) -> torch.Tensor:
    """|α_pred - α_true| per frame."""
    return (alpha - alpha_true).abs()


def _cp_bce(cp_logit: torch.Tensor, cp: torch.Tensor, pos_weight: float, reduction: str,
            weight: torch.Tensor | None = None) -> torch.Tensor:
    """Change-point BCE with logits, positives weighted by ``pos_weight``, frames by ``weight`` (None: all 1);
    ``reduction`` "mean" (over all frames given) or "sum"."""
    pw = torch.tensor(pos_weight, dtype=cp_logit.dtype, device=cp_logit.device)
    return F.binary_cross_entropy_with_logits(cp_logit, cp, weight=weight, pos_weight=pw, reduction=reduction)


def andi_loss(
    outputs: dict[str, torch.Tensor],
    targets: dict[str, torch.Tensor],
    mask: torch.Tensor,
    class_weights: torch.Tensor | None = None,
    weights: LossWeights | None = None,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Summed training loss over the valid frames.

    Parameters
    ----------
    outputs : dict of Tensor
        From :meth:`AnDiNet.forward`: ``state_logits`` (b, l, 4), ``cp_logit`` (b, l), ``log_K`` (b, l),
        ``alpha`` (b, l).
    targets : dict of Tensor
        ``state`` (b, l) integer, ``cp`` (b, l) bool or float, ``K`` (b, l) px²/frame^α, ``alpha`` (b, l).
    mask : Tensor, shape (b, l), bool
        True on valid frames.
    class_weights : Tensor, shape (4,), optional
        State weights (e.g. :func:`class_weights_from_counts`); uniform if None.
    weights : LossWeights, optional
        Term weights; defaults to ``LossWeights()``.

    Returns
    -------
    total : Tensor, scalar
        Differentiable weighted sum of the terms.
    parts : dict of Tensor
        Detached scalars ``wce``, ``msle``, ``alpha_mae``, ``cp_bce`` and ``total``.
    """
    w = weights or LossWeights()
    if int(mask.sum()) == 0:
        raise ValueError("the batch has no valid frame (all lengths are 0)")
    near = near_cp_frames(targets["cp"], w.cp_ignore) if w.cp_ignore > 0 else None  # (b, l), from the CP frames
    if w.cp_sigma > 0:
        targets = {**targets, "cp": smooth_cp_targets(targets["cp"], w.cp_sigma)}  # (b, l)
    out, tg = _valid_frames(outputs, targets, mask)
    logits = out["state_logits"]  # (n_valid, 4)
    cw = None if class_weights is None else class_weights.to(logits.device, logits.dtype)
    wce = F.cross_entropy(logits, tg["state"], weight=cw)
    msle = _sq_log_error(out["log_K"], tg["K"]).mean()
    alpha_mae = _abs_error(out["alpha"], tg["alpha"]).mean()
    keep = None if near is None else (~near)[mask.to(torch.bool)].to(out["cp_logit"].dtype)  # (n_valid,) 0: left out
    cp_bce = _cp_bce(out["cp_logit"], tg["cp"], w.cp_pos_weight, "mean", keep)

    total = w.state * wce + w.K * msle + w.alpha * alpha_mae + w.cp * cp_bce
    parts = {"wce": wce, "msle": msle, "alpha_mae": alpha_mae, "cp_bce": cp_bce, "total": total}
    return total, {k: v.detach() for k, v in parts.items()}


def loss_sums(
    outputs: dict[str, torch.Tensor],
    targets: dict[str, torch.Tensor],
    mask: torch.Tensor,
    class_weights: torch.Tensor | None = None,
    cp_pos_weight: float = LossWeights.cp_pos_weight,
) -> dict[str, torch.Tensor]:
    """Sums over the valid frames of the per-frame terms of :func:`andi_loss`, for pooling over many batches.

    Dividing the pooled sums gives the loss terms over the whole pool, not a mean of batch means:
    ``wce = wce_num / wce_den``, ``msle = msle_sum / n``, ``alpha_mae = alpha_abs_sum / n``,
    ``cp_bce = cp_bce_sum / n``; ``state_correct / n`` is the frame accuracy of the argmax state.

    Parameters
    ----------
    outputs, targets, mask
        As :func:`andi_loss` (a batch without valid frames gives zero sums).
    class_weights : Tensor, shape (4,), optional
        State weights of the WCE; uniform if None.
    cp_pos_weight : float
        Weight of the positive frames in the change-point BCE.

    Returns
    -------
    dict of Tensor
        Detached scalars ``wce_num`` Σ w_y·(-log p_y), ``wce_den`` Σ w_y, ``msle_sum``, ``alpha_abs_sum``,
        ``cp_bce_sum``, ``state_correct`` and ``n`` (number of valid frames).
    """
    with torch.no_grad():
        out, tg = _valid_frames(outputs, targets, mask)
        logits, y = out["state_logits"], tg["state"]  # (n_valid, 4), (n_valid,)
        cw = torch.ones(logits.shape[-1], dtype=logits.dtype, device=logits.device) if class_weights is None \
            else class_weights.to(logits.device, logits.dtype)
        nll = F.cross_entropy(logits, y, reduction="none")  # (n_valid,)
        return {
            "wce_num": (cw[y] * nll).sum(),
            "wce_den": cw[y].sum(),
            "msle_sum": _sq_log_error(out["log_K"], tg["K"]).sum(),
            "alpha_abs_sum": _abs_error(out["alpha"], tg["alpha"]).sum(),
            "cp_bce_sum": _cp_bce(out["cp_logit"], tg["cp"], cp_pos_weight, "sum"),
            "state_correct": (logits.argmax(-1) == y).sum(),
            "n": mask.to(torch.bool).sum(),
        }
