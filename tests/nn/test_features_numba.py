"""nn.features_numba: the compiled features equal the PyTorch operations' bit for bit."""

import numpy as np
import pytest
import torch

from andimamba.nn import features
from andimamba.nn.features_numba import compute_features_numba


def _tracks(seed, b=64, l=120):
    rng = np.random.default_rng(seed)
    scale = 10.0 ** rng.uniform(-4, 2, (b, 1, 1))
    pos = (np.cumsum(rng.normal(size=(b, l, 2)), axis=1) * scale + rng.uniform(-500, 500, (b, 1, 2))).astype(np.float32)
    lengths = rng.integers(0, l + 1, b)
    lengths[:6] = [0, 1, 2, 3, 5, l]  # empty, one frame, shorter than the lags, full
    pos[6] = pos[6, :1]  # a motionless track: the scale floor
    pos[7, 10:20] = pos[7, 10]  # zero displacements: turning angles undefined there
    pos[8, lengths[8]:] = np.nan  # padding may hold anything
    return pos, lengths


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_equal_to_the_pytorch_path(seed):
    pos, lengths = _tracks(seed)
    ref, ref_log = features._features_torch(torch.from_numpy(pos).double(), torch.from_numpy(lengths))
    got, got_log = compute_features_numba(pos, lengths)
    np.testing.assert_array_equal(got, ref.numpy())
    np.testing.assert_array_equal(got_log, ref_log.numpy())


def test_compute_features_uses_it_on_cpu_only_when_eager(monkeypatch):
    pos, lengths = _tracks(3, b=10, l=30)
    calls = []
    real = features._features_torch
    monkeypatch.setattr(features, "_features_torch", lambda *a: calls.append(1) or real(*a))
    features.compute_features(pos, lengths)
    assert calls == []  # the kernel ran
    monkeypatch.setattr(torch.compiler, "is_exporting", lambda: True)
    features.compute_features(pos, lengths)
    assert calls == [1]  # an export takes the PyTorch operations


def test_positions_that_need_a_gradient_take_the_pytorch_path():
    p = torch.randn(3, 30, 2, dtype=torch.float64).cumsum(1).requires_grad_()
    feats, _ = features.compute_features(p, torch.tensor([30, 25, 12]))
    feats[..., :2].sum().backward()  # the displacement channels depend on the positions
    assert p.grad is not None and p.grad.abs().sum() > 0
