"""Bidirectional LSTM block: the baseline with the same interface as :class:`~andimamba.nn.bimamba.BiMambaBlock`.

Glossary: b = batch size, l = padded length, d = d_model (also the LSTM hidden size per direction).
As in the Bi-Mamba block, the backward direction is a second unidirectional LSTM run on the input
reversed *within each track's valid length* (``reverse_padded``), its output reversed back: padding sits at
the end in both directions, where a causal recurrence cannot carry it into valid frames. (Packed sequences
give the same result but their backward pass zero-fills thousands of buffers per step: ~2x slower on CPU.) The two directions' outputs go through the
same merge as the Bi-Mamba block (:class:`~andimamba.nn.bimamba.DirectionMerge`).
"""

from __future__ import annotations

import torch
from torch import nn

from andimamba.nn.bimamba import BidirectionalBlock, DirectionMerge

__all__ = ["BiLSTMBlock"]


class BiLSTMBlock(BidirectionalBlock):
    """Bidirectional LSTM (hidden size d_model per direction) + feed-forward merge, residual, LayerNorm.

    Parameters
    ----------
    d_model : int
        d, width of input and output.
    dropout : float
        Dropout inside the merge feed-forward.
    """

    def __init__(self, d_model: int, dropout: float = 0.0):
        super().__init__()
        self.d_model = d_model
        self.lstm_fwd = nn.LSTM(d_model, d_model, batch_first=True)
        self.lstm_bwd = nn.LSTM(d_model, d_model, batch_first=True)
        self.merge = DirectionMerge(d_model, dropout)

    def run_forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lstm_fwd(x)[0]

    def run_backward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lstm_bwd(x)[0]
