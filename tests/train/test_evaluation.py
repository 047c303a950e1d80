"""Validation metrics: the pooled loss terms of nn.losses give the numbers the old hand-written formulas gave."""

import numpy as np
import torch
import torch.nn.functional as F

from andimamba.nn.losses import LossWeights, andi_loss, loss_sums
from andimamba.nn.model import AnDiNet, tiny
from andimamba.sim.dataset import TrainingStream
from andimamba.train import batch_tensors, evaluate, take_tracks


@torch.no_grad()
def _old_evaluate(model, batch, class_weights, loss=None, chunk=512):
    """train.evaluate as written before the losses were shared (kept here as the reference)."""
    pos_w = torch.tensor((loss or LossWeights()).cp_pos_weight)
    cw = class_weights.to(torch.float32)
    model.eval()
    order = np.argsort(batch.lengths, kind="stable")
    sums = dict.fromkeys(("mae", "msle", "wnll", "w", "correct", "bce", "n"), 0.0)
    for i in range(0, len(batch), chunk):
        pos, lengths, tg, mask = batch_tensors(take_tracks(batch, order[i : i + chunk]), torch.device("cpu"))
        out = model(pos, lengths)
        logits, y = out["state_logits"][mask], tg["state"][mask]
        nll = F.cross_entropy(logits, y, reduction="none")
        parts = {
            "mae": (out["alpha"][mask] - tg["alpha"][mask]).abs().sum(),
            "msle": (F.softplus(out["log_K"][mask]) - torch.log1p(tg["K"][mask])).pow(2).sum(),
            "wnll": (cw[y] * nll).sum(),
            "w": cw[y].sum(),
            "correct": (logits.argmax(-1) == y).sum(),
            "bce": F.binary_cross_entropy_with_logits(out["cp_logit"][mask], tg["cp"][mask], pos_weight=pos_w, reduction="sum"),
            "n": mask.sum(),
        }
        for k, v in parts.items():
            sums[k] += float(v)
    n = sums["n"]
    return {"val_alpha_mae": sums["mae"] / n, "val_K_msle": sums["msle"] / n, "val_wce": sums["wnll"] / sums["w"],
            "val_state_acc": sums["correct"] / n, "val_cp_bce": sums["bce"] / n}


def test_evaluate_equals_the_old_formulas_exactly():
    torch.manual_seed(0)
    model = AnDiNet(tiny("bilstm"))
    batch = next(TrainingStream(40, seed=4, boxes_per_call=1))
    cw = torch.tensor([2.0, 1.5, 0.7, 3.0])
    loss = LossWeights(cp_pos_weight=7.0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        new, old = evaluate(model, batch, cw, loss, chunk=16), _old_evaluate(model, batch, cw, loss, chunk=16)
    finally:
        torch.set_num_threads(threads)
    assert new == old  # bit for bit


def test_pooled_sums_of_one_batch_are_the_training_loss_terms():
    torch.manual_seed(1)
    model = AnDiNet(tiny("bimamba", scan_impl="reference")).eval()
    pos, lengths, targets, mask = batch_tensors(next(TrainingStream(8, seed=2, boxes_per_call=1)), torch.device("cpu"))
    cw = torch.tensor([1.0, 2.0, 0.5, 1.0])
    with torch.no_grad():
        out = model(pos, lengths)
    _, parts = andi_loss(out, targets, mask, cw, LossWeights(cp_pos_weight=5.0))
    s = loss_sums(out, targets, mask, cw, 5.0)
    torch.testing.assert_close(s["wce_num"] / s["wce_den"], parts["wce"])
    for key, term in (("msle_sum", "msle"), ("alpha_abs_sum", "alpha_mae"), ("cp_bce_sum", "cp_bce")):
        torch.testing.assert_close(s[key] / s["n"], parts[term])
    assert int(s["n"]) == int(lengths.sum())
