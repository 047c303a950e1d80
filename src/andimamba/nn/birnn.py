"""Bidirectional LSTM block: the baseline with the same interface as :class:`~andimamba.nn.bimamba.BiMambaBlock`.

Glossary: b = batch size, l = padded length, d = d_model (also the LSTM hidden size per direction).
The sequences are packed (``pack_padded_sequence``), so the backward direction starts at each track's
last valid frame and padding never enters either direction. The two directions' outputs go through the
same merge as the Bi-Mamba block (:class:`~andimamba.nn.bimamba.DirectionMerge`).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from andimamba.nn.bimamba import DirectionMerge
from andimamba.nn.masking import length_mask

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
        self.lstm = nn.LSTM(d_model, d_model, batch_first=True, bidirectional=True)
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
        # pack_padded_sequence rejects empty sequences: run them with length 1, their output is masked
        packed = pack_padded_sequence(x, lengths.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False)
        h, _ = self.lstm(packed)
        h, _ = pad_packed_sequence(h, batch_first=True, total_length=l)  # (b, l, 2d), 0 on padding
        fwd, bwd = h.split(d, dim=-1)  # (b, l, d) each
        return self.merge(x, fwd, bwd, mask)
