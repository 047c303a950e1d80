"""Padding utilities: the one place where the valid-length convention is turned into tensors.

Convention (shared with :class:`andimamba.batch.TrackBatch`): sequence ``i`` of a padded batch occupies
frames ``0 .. lengths[i]-1``; frames ``lengths[i] .. l-1`` are padding. Glossary: b = batch size,
l = padded length.

Every tensor mask of valid frames is built by :func:`length_mask` (the model, the features, training and
evaluation); on NumPy arrays, :attr:`andimamba.batch.TrackBatch.mask` is its counterpart.
"""

from __future__ import annotations

import torch

__all__ = ["length_mask", "reverse_padded"]


def _as_lengths(lengths: torch.Tensor | list[int], device: torch.device) -> torch.Tensor:
    return torch.as_tensor(lengths, dtype=torch.long, device=device)


def length_mask(lengths: torch.Tensor, l: int) -> torch.Tensor:
    """Boolean mask of the valid frames.

    Parameters
    ----------
    lengths : Tensor, shape (b,), integer
        Valid length of each sequence.
    l : int
        Padded length.

    Returns
    -------
    Tensor, shape (b, l), bool
        ``mask[i, t]`` is True when ``t < lengths[i]``.
    """
    lengths = torch.as_tensor(lengths)
    frames = torch.arange(l, device=lengths.device)  # (l,)
    return frames[None, :] < lengths[:, None]  # (b, l)


def reverse_padded(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse every sequence in time within its valid length; padding stays at the end.

    ``out[i, t] = x[i, lengths[i] - 1 - t]`` for ``t < lengths[i]`` and ``out[i, t] = x[i, t]``
    otherwise. The map is its own inverse, so the same call flips a backward scan's output back.
    Implemented as one ``gather`` (no Python loop over the batch), so it is differentiable.

    Parameters
    ----------
    x : Tensor, shape (b, l, ...)
        Batch-first sequences; any trailing dimensions.
    lengths : Tensor, shape (b,), integer
        Valid lengths, ``0 <= lengths <= l``.

    Returns
    -------
    Tensor, same shape as ``x``.
    """
    b, l = x.shape[:2]
    lengths = _as_lengths(lengths, x.device)
    if lengths.shape != (b,):
        raise ValueError(f"lengths must have shape ({b},), got {tuple(lengths.shape)}")
    # the check reads tensor values, which torch.export cannot trace: exported graphs skip it
    if b and not torch.compiler.is_exporting() and (int(lengths.max()) > l or int(lengths.min()) < 0):
        raise ValueError(f"lengths must lie in [0, {l}] (the padded length), got {lengths.tolist()}")
    t = torch.arange(l, device=x.device)[None, :]  # (1, l)
    idx = torch.where(t < lengths[:, None], lengths[:, None] - 1 - t, t)  # (b, l)
    idx = idx.reshape(b, l, *([1] * (x.dim() - 2))).expand_as(x)  # (b, l, ...)
    return torch.gather(x, 1, idx)
