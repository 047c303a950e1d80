"""Mamba-1 block (Gu & Dao 2023, "Mamba: linear-time sequence modeling with selective state spaces").

Mirrors ``Mamba`` in ``mamba_ssm/modules/mamba_simple.py`` (reference implementation) in pure PyTorch;
the selective scan itself lives in :mod:`andimamba.nn.scan`.

Glossary (code name -> paper symbol)
------------------------------------
b            batch size
l            sequence length (frames)
d_model      D, width of the residual stream, input and output of the block
d_inner      E·D, width inside the block (``expand`` = E)
n            N = ``d_state``, SSM state size per channel
dt_rank      R, rank of the low-rank projection that produces Δ
x, z         the two halves of the input projection: SSM branch and gate
delta        Δ (b, l, d_inner), input-dependent step size, softplus(dt_proj(x_proj(x)))
A            A (d_inner, n) = -exp(A_log), diagonal, negative real (S4D-real init); with
             ``per_channel_decay`` a single decay per channel, A (d_inner,) (Mamba-2-style scalar A)
B, C         B_t, C_t (b, l, n), input-dependent input / output matrices (shared by all channels)
D            D (d_inner,), skip connection
Recurrence:  h_t = exp(Δ_t A) h_{t-1} + Δ_t B_t x_t,   y_t = C_t · h_t + D x_t   (A by zero-order hold,
             B by Euler, as in the paper's simplified discretisation)

Two paths compute the same block (to float32 rounding, tests/nn/test_mamba_fused.py): ``_inner_ops``, one
PyTorch operation at a time with :func:`~andimamba.nn.scan.selective_scan` (any device; with
``scan_impl="reference"`` the reference implementation), and on CPU the fused numba kernels of
:mod:`andimamba.nn.mamba_fused` for everything from ``in_proj`` to the input of ``out_proj`` (``block_impl``).

Not done here: no inference cache / step mode, no fused CUDA kernels, no residual or norm around the
block (callers such as :class:`andimamba.nn.bimamba.BiMambaBlock` add them). The block is causal:
output t depends on inputs 0..t only, so trailing padding never affects valid frames.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from andimamba.nn.scan import selective_scan

__all__ = ["MambaConfig", "Mamba"]

BLOCK_IMPLS = ("auto", "fused", "ops")


@dataclass
class MambaConfig:
    """Hyper-parameters of one Mamba-1 block (paper symbols in the comments)."""

    d_model: int = 16  # D, model width
    d_state: int = 8  # N, SSM state size
    d_conv: int = 4  # kernel size of the causal depthwise convolution
    expand: int = 2  # E, d_inner = E·D
    dt_rank: int | str = "auto"  # R, rank of Δ's projection; "auto" = ceil(D / 16)
    dt_min: float = 1e-3  # Δ init range, lower end (log-uniform)
    dt_max: float = 1e-1  # Δ init range, upper end
    dt_init_floor: float = 1e-4  # Δ init values are clamped to at least this
    scan_impl: str = "auto"  # passed to andimamba.nn.scan.selective_scan
    per_channel_decay: bool = False  # scalar A per channel (one exp per step and channel) instead of A (d_inner, N)
    # "ops": op by op with selective_scan(impl=scan_impl); "fused": the numba block of andimamba.nn.mamba_fused
    # (CPU); "auto": fused for float CPU tensors when numba imports and scan_impl is "auto", else ops
    block_impl: str = "auto"

    def __post_init__(self) -> None:
        if self.block_impl not in BLOCK_IMPLS:
            raise ValueError(f"block_impl must be one of {BLOCK_IMPLS}, got {self.block_impl!r}")

    @property
    def d_inner(self) -> int:
        """E·D, the block's inner width."""
        return self.expand * self.d_model

    @property
    def rank(self) -> int:
        """R, the resolved ``dt_rank``."""
        return math.ceil(self.d_model / 16) if self.dt_rank == "auto" else int(self.dt_rank)


def _onnx_exporting() -> bool:
    """``torch.onnx.is_in_onnx_export()``, without importing ``torch.onnx`` (0.2 s at every CLI start) when no
    export can be running because nothing imported it."""
    onnx = sys.modules.get("torch.onnx")
    return onnx is not None and onnx.is_in_onnx_export()


class Mamba(nn.Module):
    """One Mamba-1 block mapping (b, l, d_model) -> (b, l, d_model).

    Parameters
    ----------
    config : MambaConfig
        Block hyper-parameters.
    """

    def __init__(self, config: MambaConfig):
        super().__init__()
        self.config = c = config
        d_inner, n, r = c.d_inner, c.d_state, c.rank
        self.in_proj = nn.Linear(c.d_model, 2 * d_inner, bias=False)
        self.conv1d = nn.Conv1d(d_inner, d_inner, c.d_conv, groups=d_inner, padding=c.d_conv - 1, bias=True)
        self.x_proj = nn.Linear(d_inner, r + 2 * n, bias=False)
        self.dt_proj = nn.Linear(r, d_inner, bias=True)
        self.out_proj = nn.Linear(d_inner, c.d_model, bias=False)

        # dt_proj init as in the reference: weights ~ U(-R^-1/2, R^-1/2), and a bias such that
        # softplus(bias) = Δ_0 with Δ_0 log-uniform in [dt_min, dt_max] (clamped at dt_init_floor).
        std = r**-0.5
        nn.init.uniform_(self.dt_proj.weight, -std, std)
        u = torch.rand(d_inner)
        dt = torch.exp(u * (math.log(c.dt_max) - math.log(c.dt_min)) + math.log(c.dt_min))
        dt = dt.clamp(min=c.dt_init_floor)
        inv_softplus_dt = dt + torch.log(-torch.expm1(-dt))  # softplus^-1(dt)
        with torch.no_grad():
            self.dt_proj.bias.copy_(inv_softplus_dt)

        if c.per_channel_decay:
            # Mamba-2 style: one decay rate per channel, A ~ -U(1, 16) as in the Mamba-2 reference
            a = torch.empty(d_inner).uniform_(1.0, 16.0)  # (d_inner,)
        else:
            # S4D-real: A[:, k] = -(k + 1), identical for every channel
            a = torch.arange(1, n + 1, dtype=torch.float32).repeat(d_inner, 1)  # (d_inner, n)
        self.A_log = nn.Parameter(torch.log(a))
        self.D = nn.Parameter(torch.ones(d_inner))  # (d_inner,)

    def use_fused(self, x: torch.Tensor) -> bool:
        """Whether :meth:`forward` on ``x`` runs the fused numba block (see ``MambaConfig.block_impl``)."""
        c = self.config
        if c.block_impl != "auto":
            return c.block_impl == "fused"
        if c.scan_impl != "auto" or x.device.type != "cpu" or x.dtype not in (torch.float32, torch.float64):
            return False
        if torch.jit.is_tracing() or torch.jit.is_scripting() or _onnx_exporting():
            return False  # tracers and exporters see the op-by-op graph
        if torch.compiler.is_compiling():
            return False  # as does torch.compile, which cannot trace into numba
        from andimamba.nn.mamba_fused import fused_available

        return fused_available()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the block.

        Parameters
        ----------
        x : Tensor, shape (b, l, d_model)

        Returns
        -------
        Tensor, shape (b, l, d_model)
        """
        if self.use_fused(x):
            from andimamba.nn.mamba_fused import fused_inner

            y = fused_inner(x, [self])[0]  # (b, l, d_inner)
        else:
            y = self._inner_ops(self.in_proj(x))
        return self.out_proj(y)  # (b, l, d_model)

    def _inner_ops(self, xz: torch.Tensor) -> torch.Tensor:
        """The block between ``in_proj`` and ``out_proj``, op by op: xz (b, l, 2·d_inner) -> (b, l, d_inner)."""
        c = self.config
        l = xz.shape[1]
        x, z = xz.chunk(2, dim=-1)  # (b, l, d_inner) each
        x = self.conv1d(x.transpose(1, 2))[..., :l].transpose(1, 2)  # (b, l, d_inner), causal
        x = F.silu(x)
        x_dbl = self.x_proj(x)  # (b, l, R + 2N)
        dt, B, C = x_dbl.split([c.rank, c.d_state, c.d_state], dim=-1)  # (b, l, R), (b, l, N), (b, l, N)
        delta = F.softplus(self.dt_proj(dt))  # (b, l, d_inner)
        A = -torch.exp(self.A_log.float())  # (d_inner, N) or (d_inner,)
        y = selective_scan(x, delta, A, B, C, self.D, impl=c.scan_impl)  # (b, l, d_inner)
        return y * F.silu(z)  # (b, l, d_inner)
