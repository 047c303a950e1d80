"""Losses: hand-computed values, padding ignored, class-weight formula."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from andimamba.nn.losses import LossWeights, andi_loss, class_weights_from_counts


def _case():
    """One track of 3 frames padded to 4."""
    outputs = {
        "state_logits": torch.tensor([[[2.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 3.0], [9, 9, 9, 9]]]),
        "cp_logit": torch.tensor([[0.0, 2.0, -1.0, 5.0]]),
        "log_K": torch.tensor([[0.0, math.log(3.0), math.log(0.5), 7.0]]),
        "alpha": torch.tensor([[1.0, 0.5, 1.5, 2.0]]),
    }
    targets = {
        "state": torch.tensor([[0, 2, 3, 1]]),
        "cp": torch.tensor([[False, True, False, True]]),
        "K": torch.tensor([[1.0, 1.0, 0.5, 100.0]]),
        "alpha": torch.tensor([[1.2, 0.5, 1.0, 0.0]]),
    }
    mask = torch.tensor([[True, True, True, False]])
    return outputs, targets, mask


def test_hand_computed_values():
    outputs, targets, mask = _case()
    cw = torch.tensor([1.0, 2.0, 3.0, 0.5])
    w = LossWeights(state=1.0, K=2.0, alpha=0.5, cp=1.0, cp_pos_weight=4.0)
    total, parts = andi_loss(outputs, targets, mask, class_weights=cw, weights=w)

    def nll(logits, c):
        return -(logits[c] - math.log(sum(math.exp(v) for v in logits)))

    # weighted CE: sum_i w_{y_i} nll_i / sum_i w_{y_i}; frames have classes 0, 2, 3
    wce = (1.0 * nll([2, 0, 0, 0], 0) + 3.0 * nll([0, 1, 0, 0], 2) + 0.5 * nll([0, 0, 0, 3], 3)) / 4.5
    msle = ((math.log(2) - math.log(2)) ** 2 + (math.log(4) - math.log(2)) ** 2 + 0.0) / 3
    mae = (0.2 + 0.0 + 0.5) / 3

    def sp(x):  # -log(sigmoid(x))
        return math.log1p(math.exp(-x))

    bce = (sp(-0.0) + 4.0 * sp(2.0) + sp(1.0)) / 3  # negatives: -log(1 - sigmoid(x)) = sp(-x)
    assert parts["wce"].item() == pytest.approx(wce, rel=1e-6)
    assert parts["msle"].item() == pytest.approx(msle, rel=1e-6)
    assert parts["alpha_mae"].item() == pytest.approx(mae, rel=1e-6)
    assert parts["cp_bce"].item() == pytest.approx(bce, rel=1e-6)
    assert total.item() == pytest.approx(wce + 2.0 * msle + 0.5 * mae + bce, rel=1e-6)
    assert parts["total"].item() == pytest.approx(total.item())


def test_padding_changes_nothing():
    outputs, targets, mask = _case()
    ref, ref_parts = andi_loss(outputs, targets, mask)
    targets = {k: v.clone() for k, v in targets.items()}
    targets["state"][0, 3] = -100  # out of range class
    targets["K"][0, 3] = float("nan")
    targets["alpha"][0, 3] = float("inf")
    targets["cp"][0, 3] = False
    outputs = {k: v.clone() for k, v in outputs.items()}
    outputs["log_K"][0, 3] = float("nan")
    total, parts = andi_loss(outputs, targets, mask)
    assert total.item() == ref.item()
    assert all(parts[k].item() == ref_parts[k].item() for k in parts)


def test_gradients_and_no_gradient_to_padding():
    outputs, targets, mask = _case()
    outputs = {k: v.clone().requires_grad_(True) for k, v in outputs.items()}
    total, _ = andi_loss(outputs, targets, mask, class_weights=class_weights_from_counts([1, 2, 3, 4]))
    total.backward()
    for k, v in outputs.items():
        assert torch.isfinite(v.grad).all() and v.grad[0, 3].abs().sum() == 0, k
        assert v.grad[0, :3].abs().sum() > 0, k


def test_msle_is_stable_for_extreme_log_K():
    outputs, targets, mask = _case()
    outputs["log_K"] = torch.tensor([[200.0, -200.0, 0.0, 0.0]])
    _, parts = andi_loss(outputs, targets, mask)
    expected = ((200.0 - math.log(2)) ** 2 + (0.0 - math.log(2)) ** 2 + (math.log(2) - math.log(1.5)) ** 2) / 3
    assert parts["msle"].item() == pytest.approx(expected, rel=1e-5)


def test_class_weights_formula():
    w = class_weights_from_counts(np.array([10, 30, 60, 0]))
    np.testing.assert_allclose(w.numpy(), [100 / 30, 100 / 90, 100 / 180, 100 / 30], rtol=1e-6)
    counts = torch.tensor([10.0, 30.0, 60.0])
    assert (class_weights_from_counts(counts) * counts).sum().item() == pytest.approx(100.0)
    with pytest.raises(ValueError):
        class_weights_from_counts([0, 0])


def test_matches_torch_weighted_cross_entropy():
    torch.manual_seed(0)
    logits = torch.randn(2, 5, 4)
    state = torch.randint(0, 4, (2, 5))
    mask = torch.ones(2, 5, dtype=torch.bool)
    cw = torch.tensor([0.5, 1.0, 2.0, 4.0])
    outputs = {"state_logits": logits, "cp_logit": torch.zeros(2, 5), "log_K": torch.zeros(2, 5), "alpha": torch.ones(2, 5)}
    targets = {"state": state, "cp": torch.zeros(2, 5), "K": torch.ones(2, 5), "alpha": torch.ones(2, 5)}
    _, parts = andi_loss(outputs, targets, mask, class_weights=cw)
    expected = F.cross_entropy(logits.reshape(-1, 4), state.reshape(-1), weight=cw)
    assert parts["wce"].item() == pytest.approx(expected.item(), rel=1e-6)


def test_smooth_cp_targets_spread_around_each_cp_and_keep_one_at_it():
    from andimamba.nn.losses import smooth_cp_targets

    cp = torch.zeros(2, 12, dtype=torch.bool)
    cp[0, 5] = True
    cp[1, 0] = cp[1, 3] = True  # close CPs: the larger spread wins, no sum above 1
    out = smooth_cp_targets(cp, 1.0)
    w = [math.exp(-d * d / 2) for d in range(4)]
    expected0 = [0, 0, w[3], w[2], w[1], 1, w[1], w[2], w[3], 0, 0, 0]
    assert out[0].tolist() == pytest.approx(expected0, rel=1e-6)
    expected1 = [1, w[1], w[1], 1, w[1], w[2], w[3], 0, 0, 0, 0, 0]
    assert out[1].tolist() == pytest.approx(expected1, rel=1e-6)
    assert torch.equal(smooth_cp_targets(cp, 0.0), cp.float())


def test_cp_sigma_changes_only_the_cp_term():
    outputs, targets, mask = _case()
    _, plain = andi_loss(outputs, targets, mask)
    _, soft = andi_loss(outputs, targets, mask, weights=LossWeights(cp_sigma=1.0))
    for k in ("wce", "msle", "alpha_mae"):
        assert soft[k].item() == pytest.approx(plain[k].item())
    # frames 0 and 2 neighbour the CP at frame 1: their targets become exp(-1/2)
    y, x, pw = math.exp(-0.5), [0.0, -1.0], 20.0

    def bce(logit, t):
        p = 1 / (1 + math.exp(-logit))
        return -(pw * t * math.log(p) + (1 - t) * math.log(1 - p))

    expected = (bce(0.0, y) + bce(2.0, 1.0) + bce(-1.0, y)) / 3
    assert soft["cp_bce"].item() == pytest.approx(expected, rel=1e-6)
    with pytest.raises(ValueError, match="cp_sigma"):
        LossWeights(cp_sigma=-1.0)


def test_cp_ignore_leaves_the_neighbours_of_a_cp_out_of_the_cp_term():
    from andimamba.nn.losses import near_cp_frames

    cp = torch.zeros(1, 10, dtype=torch.bool)
    cp[0, 4] = cp[0, 6] = True
    assert near_cp_frames(cp, 1)[0].nonzero().flatten().tolist() == [3, 5, 7]
    assert near_cp_frames(cp, 2)[0].nonzero().flatten().tolist() == [2, 3, 5, 7, 8]
    outputs, targets, mask = _case()  # valid frames 0-2, the CP at frame 1
    _, plain = andi_loss(outputs, targets, mask)
    _, ign = andi_loss(outputs, targets, mask, weights=LossWeights(cp_ignore=1))
    for k in ("wce", "msle", "alpha_mae"):
        assert ign[k].item() == pytest.approx(plain[k].item())
    # frames 0 and 2 are left out; the mean still divides by the 3 valid frames
    assert ign["cp_bce"].item() == pytest.approx(20.0 * math.log1p(math.exp(-2.0)) / 3, rel=1e-6)
    with pytest.raises(ValueError, match="cp_ignore"):
        LossWeights(cp_ignore=-1)


def test_cp_ignore_is_taken_from_the_cp_frames_when_the_target_is_spread_too():
    from andimamba.nn.losses import near_cp_frames, smooth_cp_targets

    outputs, targets, mask = _case()
    both = LossWeights(cp_sigma=1.0, cp_ignore=1)
    _, got = andi_loss(outputs, targets, mask, weights=both)
    # frames 0 and 2 (next to the CP at 1) are left out; the CP keeps its target 1
    assert got["cp_bce"].item() == pytest.approx(20.0 * math.log1p(math.exp(-2.0)) / 3, rel=1e-6)
    long = torch.zeros(1, 5, dtype=torch.bool)
    long[0, 2] = True
    assert near_cp_frames(long, 100)[0].tolist() == [True, True, False, True, True]  # reach capped by the length
    assert smooth_cp_targets(long, 1e6)[0].tolist() == pytest.approx([1.0] * 5)
