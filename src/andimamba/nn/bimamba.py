"""Bidirectional Mamba block (paper Fig. 2a) and the merge layer it shares with the BiLSTM baseline.

Glossary: b = batch size, l = padded length, d = d_model. Padding convention of
:mod:`andimamba.nn.masking`: sequence i is valid on frames 0 .. lengths[i]-1.

The backward direction runs a second Mamba (own parameters) on each sequence reversed *within its
valid length* (:func:`~andimamba.nn.masking.reverse_padded`), so padding never enters the backward scan,
and its output is flipped back with the same function before the two directions are merged. Both
Mamba blocks are causal and the padding stays at the end, so a padded and an unpadded copy of a track
give the same outputs on the valid frames.

On CPU (``MambaConfig.block_impl``), :class:`BiMambaBlock` runs both directions in one call of the fused
kernels (:func:`~andimamba.nn.mamba_fused.fused_inner`): the reversal done by the kernel's indexing instead of
two ``reverse_padded`` gathers, padding frames skipped.
"""

from __future__ import annotations

import torch
from torch import nn

from andimamba.nn.mamba import Mamba, MambaConfig
from andimamba.nn.masking import length_mask, reverse_padded

__all__ = ["BiMambaBlock", "BidirectionalBlock", "DirectionMerge"]


class DirectionMerge(nn.Module):
    """Merge forward and backward outputs: feed-forward on [fwd, bwd], residual, LayerNorm, zero padding.

    ``out = LayerNorm(x + Dropout(Linear(GELU(Linear([fwd, bwd])))))``, hidden width 2·d.

    Parameters
    ----------
    d_model : int
        d, width of the residual stream.
    dropout : float
        Dropout on the hidden layer and on the feed-forward output.
    """

    def __init__(self, d_model: int, dropout: float = 0.0):
        super().__init__()
        self.ff = nn.Sequential(
            nn.Linear(2 * d_model, 2 * d_model),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(2 * d_model, d_model),
            nn.Dropout(dropout),
        )
        self.norm = nn.LayerNorm(d_model)

    def forward(self, x: torch.Tensor, fwd: torch.Tensor, bwd: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """x, fwd, bwd: (b, l, d); mask: (b, l) bool -> (b, l, d), exactly 0 on padding frames."""
        h = torch.cat([fwd, bwd], dim=-1)  # (b, l, 2d)
        return self._after_first_linear(x, self.ff[0](h), mask)

    def _after_first_linear(self, x: torch.Tensor, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The rest of the merge from the feed-forward's first Linear's output h (b, l, 2d): GELU, Linear, residual,
        LayerNorm, padding zeroed -> (b, l, d)."""
        out = self.norm(x + self.ff[1:](h))  # (b, l, d)
        return torch.where(mask[..., None], out, 0.0)

    def forward_projected(self, x: torch.Tensor, y: torch.Tensor, projs: tuple[nn.Linear, nn.Linear], mask: torch.Tensor) -> torch.Tensor:
        """:meth:`forward` of ``fwd = projs[0](y[0])``, ``bwd = projs[1](y[1])``, with the two projections folded into
        the feed-forward's first Linear (W₁ [P₀ y₀; P₁ y₁] = (W₁ᴬ P₀) y₀ + (W₁ᴮ P₁) y₁): two products and no
        concatenation instead of four products and one. Same values up to rounding; no autograd use intended (the
        folded weights are rebuilt at each call).

        x: (b, l, d); y: (2, b, l, E); mask: (b, l) bool -> (b, l, d).
        """
        b, l, d = x.shape
        lin = self.ff[0]
        h = torch.addmm(lin.bias, y[0].reshape(b * l, -1), (lin.weight[:, :d] @ projs[0].weight).T)  # (b·l, 2d)
        h.addmm_(y[1].reshape(b * l, -1), (lin.weight[:, d:] @ projs[1].weight).T)
        for p, w in ((projs[0], lin.weight[:, :d]), (projs[1], lin.weight[:, d:])):
            if p.bias is not None:
                h += w @ p.bias
        return self._after_first_linear(x, h.view(b, l, -1), mask)


class BidirectionalBlock(nn.Module):
    """Shared forward of the bidirectional blocks: padding zeroed, a causal forward direction on x, a
    causal backward direction on x reversed within each track's valid length (output reversed back),
    then :class:`DirectionMerge`. Subclasses define :meth:`run_forward` and :meth:`run_backward`,
    each a causal map (b, l, d) → (b, l, d).
    """

    merge: DirectionMerge

    def run_forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def run_backward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

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
        lengths = torch.as_tensor(lengths, device=x.device)
        mask = length_mask(lengths, x.shape[1])  # (b, l)
        x = torch.where(mask[..., None], x, 0.0)  # (b, l, d): whatever the padding held, it is now 0
        fwd = self.run_forward(x)  # (b, l, d): causal, padding at the end never reaches valid frames
        bwd = reverse_padded(self.run_backward(reverse_padded(x, lengths)), lengths)  # (b, l, d)
        return self.merge(x, fwd, bwd, mask)


class BiMambaBlock(BidirectionalBlock):
    """Bidirectional Mamba-1 block with feed-forward merge, residual and LayerNorm.

    Parameters
    ----------
    config : MambaConfig
        Configuration of each direction's Mamba block (the two directions do not share parameters).
    dropout : float
        Dropout inside the merge feed-forward.
    """

    def __init__(self, config: MambaConfig, dropout: float = 0.0):
        super().__init__()
        self.fwd = Mamba(config)
        self.bwd = Mamba(config)
        self.merge = DirectionMerge(config.d_model, dropout)

    def run_forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fwd(x)

    def run_backward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bwd(x)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """As :meth:`BidirectionalBlock.forward`; on CPU both directions run in one fused kernel call."""
        if not self.fwd.use_fused(x):
            return super().forward(x, lengths)
        from andimamba.nn.mamba_fused import fused_inner

        lengths = torch.as_tensor(lengths, device=x.device)
        mask = length_mask(lengths, x.shape[1])  # (b, l)
        grad = torch.is_grad_enabled()
        if grad:  # with autograd, padding must be finite (LayerNorm's backward multiplies it by a zero gradient);
            x = torch.where(mask[..., None], x, 0.0)  # (b, l, d); without, the kernel never reads it and the merge zeroes it
        # the kernel reads the backward direction's frames in reverse order: no reverse_padded copies
        y = fused_inner(x, [self.fwd, self.bwd], lengths, reverse=(False, True))  # (2, b, l, E), frame order
        if grad:
            return self.merge(x, self.fwd.out_proj(y[0]), self.bwd.out_proj(y[1]), mask)
        return self.merge.forward_projected(x, y, (self.fwd.out_proj, self.bwd.out_proj), mask)  # bench_merge_fold.py
