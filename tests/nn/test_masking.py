"""Padding utilities: mask and within-length reversal."""

import pytest
import torch

from andimamba.nn.masking import length_mask, reverse_padded


def test_length_mask():
    m = length_mask(torch.tensor([3, 0, 5]), 5)
    assert m.dtype == torch.bool and m.shape == (3, 5)
    assert m.sum(1).tolist() == [3, 0, 5] and m[0].tolist() == [True] * 3 + [False] * 2


def test_reverse_padded_values_and_padding_stays():
    x = torch.arange(1, 6, dtype=torch.float32).repeat(3, 1)  # (3, 5)
    x[0, 3:] = -1.0
    out = reverse_padded(x, torch.tensor([3, 5, 0]))
    assert out[0].tolist() == [3, 2, 1, -1, -1]
    assert out[1].tolist() == [5, 4, 3, 2, 1]
    assert out[2].tolist() == x[2].tolist()


def test_reverse_padded_is_an_involution_with_trailing_dims_and_grad():
    torch.manual_seed(0)
    x = torch.randn(4, 7, 3, 2, requires_grad=True)
    lengths = torch.tensor([7, 1, 4, 0])
    once = reverse_padded(x, lengths)
    assert torch.equal(reverse_padded(once, lengths), x)
    assert torch.equal(once[2, :4], x[2, :4].flip(0)) and torch.equal(once[2, 4:], x[2, 4:])
    once.sum().backward()
    assert torch.equal(x.grad, torch.ones_like(x))


def test_reverse_padded_rejects_bad_lengths():
    with pytest.raises(ValueError):
        reverse_padded(torch.zeros(2, 3), torch.tensor([4, 1]))
