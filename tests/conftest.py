"""Fixtures shared by test modules (opt in with ``pytestmark = pytest.mark.usefixtures(...)``)."""

import pytest
import torch


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
