"""Validation metrics of a model on a labelled set, pooled over every valid frame.

``val_alpha_mae`` mean |α̂ - α|; ``val_K_msle`` mean (log1p K̂ - log1p K)² (the official AnDi-2 K metric, here
per frame); ``val_wce`` class-weighted cross-entropy Σ w_y·(-log p_y) / Σ w_y; ``val_state_acc`` fraction of
frames whose argmax state is right; ``val_cp_bce`` the change-point BCE with the training positive weight.
These are the training loss terms (:func:`andimamba.nn.losses.loss_sums`, the same per-frame formulas as
:func:`~andimamba.nn.losses.andi_loss`), pooled over the set, so train and validation compare.
"""

from __future__ import annotations

import numpy as np
import torch

from andimamba.batch import TrackBatch
from andimamba.nn.losses import LossWeights, loss_sums
from andimamba.nn.model import AnDiNet
from andimamba.train.data import batch_tensors, take_tracks

__all__ = ["evaluate", "VAL_METRICS"]

VAL_METRICS = ("val_alpha_mae", "val_K_msle", "val_wce", "val_state_acc", "val_cp_bce")


@torch.no_grad()
def evaluate(
    model: AnDiNet, batch: TrackBatch, class_weights: torch.Tensor, loss: LossWeights | None = None, chunk: int = 512
) -> dict[str, float]:
    """Validation metrics pooled over every valid frame of ``batch`` (see the module docstring).

    Parameters
    ----------
    model : AnDiNet
        Evaluated in eval mode on its own device (its mode is restored afterwards).
    batch : TrackBatch
        Labelled tracks.
    class_weights : Tensor, shape (4,)
        State weights of the WCE.
    loss : LossWeights, optional
        Only ``cp_pos_weight`` is used.
    chunk : int
        Tracks per forward pass (tracks are sorted by length first, and each chunk cut to its longest).

    Returns
    -------
    dict of float
        The :data:`VAL_METRICS`.
    """
    device = next(model.parameters()).device
    pos_weight = (loss or LossWeights()).cp_pos_weight
    was_training = model.training
    model.eval()
    order = np.argsort(batch.lengths, kind="stable")
    sums: dict[str, float] = {}
    try:
        for i in range(0, len(batch), chunk):
            pos, lengths, targets, mask = batch_tensors(take_tracks(batch, order[i : i + chunk]), device)
            part = loss_sums(model(pos, lengths), targets, mask, class_weights, pos_weight)
            for k, v in part.items():
                sums[k] = sums.get(k, 0.0) + float(v)
    finally:
        model.train(was_training)
    n = sums["n"]
    return {
        "val_alpha_mae": sums["alpha_abs_sum"] / n,
        "val_K_msle": sums["msle_sum"] / n,
        "val_wce": sums["wce_num"] / sums["wce_den"],
        "val_state_acc": sums["state_correct"] / n,
        "val_cp_bce": sums["cp_bce_sum"] / n,
    }
