"""Fixtures shared by test modules (opt in with ``pytestmark = pytest.mark.usefixtures(...)``)."""

import pytest
import torch

from andimamba.nn.features import compute_features
from andimamba.nn.masking import length_mask


@pytest.fixture
def one_thread():
    """torch on one thread for the test: tiny tensors, where more threads only add contention on a shared CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def no_torch_load(monkeypatch):
    """Fail the test if anything calls torch.load (pickle): weights and resume state are safetensors + JSON."""

    def refuse(*a, **k):
        raise AssertionError("torch.load called")

    monkeypatch.setattr(torch, "load", refuse)


@pytest.fixture
def train_batch():
    """A small labelled batch as the training loop feeds the model: (features, log scale, lengths, targets, mask);
    4 random-walk tracks of 40, 35, 25, 12 valid frames, random labels, seeded."""
    b, l = 4, 40
    g = torch.Generator().manual_seed(0)
    pos = torch.cumsum(torch.randn(b, l, 2, generator=g), dim=1)  # (b, l, 2)
    lengths = torch.tensor([l, l - 5, 25, 12])
    feats, log_s = compute_features(pos, lengths)
    targets = {
        "state": torch.randint(0, 4, (b, l), generator=g),
        "cp": torch.rand(b, l, generator=g) < 0.05,
        "K": torch.rand(b, l, generator=g) * 2,
        "alpha": torch.rand(b, l, generator=g) * 2,
    }
    return feats, log_s, lengths, targets, length_mask(lengths, l)
