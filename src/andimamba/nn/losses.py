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
               ``LossWeights.cp_pos_weight`` (CP frames are rare: ~1 in 50-200)
``total`` = state·wce + K·msle + alpha·alpha_mae + cp·cp_bce with the :class:`LossWeights`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["LossWeights", "class_weights_from_counts", "andi_loss"]


@dataclass
class LossWeights:
    """Weights of the four loss terms and the positive-class weight of the change-point BCE."""

    state: float = 1.0  # weighted cross-entropy on the diffusive state
    K: float = 1.0  # MSLE on K
    alpha: float = 1.0  # MAE on α
    cp: float = 1.0  # BCE on the change-point logit
    cp_pos_weight: float = 20.0  # weight of positive (change-point) frames inside the BCE
    class_weight_power: float = 0.5  # state weights ∝ (1/frequency)^power: 1 balanced, 0 plain CE


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
    mask = mask.to(torch.bool)
    if int(mask.sum()) == 0:
        raise ValueError("the batch has no valid frame (all lengths are 0)")
    logits = outputs["state_logits"][mask]  # (n_valid, 4)
    state = targets["state"][mask].long()  # (n_valid,)
    cw = None if class_weights is None else class_weights.to(logits.device, logits.dtype)
    wce = F.cross_entropy(logits, state, weight=cw)

    log_k = outputs["log_K"][mask]  # (n_valid,)
    k_true = targets["K"][mask].to(log_k.dtype)  # (n_valid,)
    msle = (F.softplus(log_k) - torch.log1p(k_true)).pow(2).mean()

    alpha_mae = (outputs["alpha"][mask] - targets["alpha"][mask].to(log_k.dtype)).abs().mean()

    cp_logit = outputs["cp_logit"][mask]  # (n_valid,)
    pos_weight = torch.tensor(w.cp_pos_weight, dtype=cp_logit.dtype, device=cp_logit.device)
    cp_bce = F.binary_cross_entropy_with_logits(
        cp_logit, targets["cp"][mask].to(cp_logit.dtype), pos_weight=pos_weight
    )

    total = w.state * wce + w.K * msle + w.alpha * alpha_mae + w.cp * cp_bce
    parts = {"wce": wce, "msle": msle, "alpha_mae": alpha_mae, "cp_bce": cp_bce, "total": total}
    return total, {k: v.detach() for k, v in parts.items()}
