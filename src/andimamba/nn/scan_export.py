"""The selective scan as one opaque operator, ``torch.ops.andimamba.selective_scan``, for graph export.

Why: ``torch.export`` cannot trace the numba kernel of the fused scan, and it unrolls the Python loops of the
reference scan (over frames) and of the chunked scan (over chunks) to the example's length. Behind a custom
operator the exporter sees a single node with a shape rule instead; :mod:`andimamba.export.onnx_ops` translates
that node into an ONNX ``Scan`` over time, so the exported graph accepts any track length.

Eagerly the operator runs :func:`~andimamba.nn.scan.selective_scan` with ``impl="auto"``, so a model with
``scan_impl="export"`` gives the same outputs as the default path. Not here: autograd (the operator is for
inference and export only; training raises).

Glossary and shapes as :mod:`andimamba.nn.scan`: u, Δ (b, l, d); A (d, n); B, C (b, l, n); D (d,).
"""

from __future__ import annotations

import torch
from torch import Tensor

from andimamba.nn.scan import selective_scan

__all__ = ["scan_export", "OP"]


@torch.library.custom_op("andimamba::selective_scan", mutates_args=())
def _selective_scan_op(u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor) -> Tensor:
    A = A[:, 0] if A.shape[1] == 1 != B.shape[2] else A  # (d, 1) -> (d,): the per-channel decay
    return selective_scan(u, delta, A, B, C, D, impl="auto")  # (b, l, d)


@_selective_scan_op.register_fake
def _(u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor) -> Tensor:
    return torch.empty_like(u)  # (b, l, d): the only thing an exporter needs to know


OP = torch.ops.andimamba.selective_scan.default  # the node an exporter sees; key of its translation table


def scan_export(u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor | None = None) -> Tensor:
    """Selective scan through the custom operator; parameters and result as :func:`~andimamba.nn.scan.selective_scan`.

    A per-channel decay A (d,) is passed on as (d, 1), which broadcasts over the n states, and a missing D
    as zeros, so the operator (and its ONNX translation) has one signature.
    """
    A = A if A.dim() == 2 else A[:, None]  # (d, n) or (d, 1)
    D = u.new_zeros(u.shape[2]) if D is None else D  # (d,)
    return OP(u, delta, A, B, C, D)  # (b, l, d)
