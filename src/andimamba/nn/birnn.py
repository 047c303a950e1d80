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

from andimamba.nn.bimamba import DirectionMerge
from andimamba.nn.masking import length_mask, reverse_padded

__all__ = ["BiLSTMBlock"]


class BiLSTMBlock(nn.Module):
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

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Apply the block.

        Parameters
        ----------
        x : Tensor, shape (b, l, d_model)
            Input; values on padding frames are ignored.
        lengths : Tensor, shape (b,), integer
            Valid lengths.

        Returns
        -------
        Tensor, shape (b, l, d_model)
            Exactly 0 on padding frames.
        """
        b, l, d = x.shape
        lengths = torch.as_tensor(lengths, device=x.device)
        mask = length_mask(lengths, l)  # (b, l)
        x = torch.where(mask[..., None], x, 0.0)  # (b, l, d)
        fwd, _ = self.lstm_fwd(x)  # (b, l, d): causal, padding at the end never reaches valid frames
        bwd, _ = self.lstm_bwd(reverse_padded(x, lengths))  # (b, l, d) in reversed time
        bwd = reverse_padded(bwd, lengths)  # back to forward time
        fwd = torch.where(mask[..., None], fwd, 0.0)
        bwd = torch.where(mask[..., None], bwd, 0.0)
        return self.merge(x, fwd, bwd, mask)
