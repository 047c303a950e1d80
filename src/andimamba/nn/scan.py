"""Selective scan of Mamba-1 (Gu & Dao 2023): a sequential reference, a fused CPU kernel, a chunked GPU scan.

Glossary (paper symbol → code name, shapes)::

    b   batch size                      l   sequence length (frames)
    d   channels (d_inner)              n   state size (d_state)
    u   input sequence x, (b, l, d)     Δ   ``delta``, step sizes > 0, (b, l, d)
    A   decay rates < 0, (d, n)         B   input projection, (b, l, n)
        or (d,) per-channel decay       C   output projection, (b, l, n)
    D   skip, (d,)                      h   hidden state, (b, d, n)

The recurrence, per channel d and state n (as ``selective_scan_ref`` of the reference implementation)::

    h_t = exp(Δ_t A) h_{t-1} + Δ_t B_t u_t
    y_t = <C_t, h_t> + D u_t

A is discretised by zero-order hold (exp(ΔA): the exact decay over a step of length Δ) and B by Euler (ΔB
instead of the ZOH (exp(ΔA) - 1)/A · B): the paper's simplification, which the reference code uses too.

Three implementations, which agree to float32 rounding in outputs and gradients (tests/nn/test_scan.py),
and a wrapper for export:

``reference``
    A Python loop over l in PyTorch; short and obviously correct; autograd by PyTorch. For tests.
``fused``
    numba kernels (:mod:`andimamba.nn.scan_numba`, imported lazily) in a custom autograd Function; never
    stores a (b, l, d, n) tensor. The CPU path.
``chunked``
    Pure PyTorch; splits l into chunks and scans each chunk in log2(chunk) parallel doubling steps
    (Hillis–Steele over the associative pair (exp(ΔA), ΔBu)), carrying h across chunks. Materialises
    (b, chunk, d, n) tensors per chunk. The GPU path; runs on CPU too.

``export``
    The same computation behind one custom operator (:mod:`andimamba.nn.scan_export`, imported lazily), so that
    ``torch.export`` sees one node that :mod:`andimamba.export.onnx_ops` turns into an ONNX ``Scan``. No autograd.

Per-channel decay: when A has shape (d,) it is broadcast over the n states (Mamba-2-style scalar decay per
channel), which needs one exp per (b, t, d) instead of per (b, t, d, n).

Not here: a CUDA/Triton kernel, the complex-valued A of S4D, and the ``z`` gating and ``delta_bias``
/ softplus of the reference ``selective_scan_fn`` (the Mamba block applies those itself).
"""

from __future__ import annotations

import functools
import warnings
from types import ModuleType

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["selective_scan", "scan_reference", "scan_fused", "scan_chunked", "fused_available"]

IMPLS = ("reference", "fused", "chunked", "auto", "export")


def _check(u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor | None) -> None:
    """Raise a ValueError naming the offending argument when shapes do not fit together."""
    if u.dim() != 3:
        raise ValueError(f"u must have shape (batch, length, channels), got {tuple(u.shape)}")
    b, l, d = u.shape
    if delta.shape != u.shape:
        raise ValueError(f"delta must have the shape of u {tuple(u.shape)}, got {tuple(delta.shape)}")
    if A.dim() not in (1, 2) or A.shape[0] != d:
        raise ValueError(f"A must have shape ({d}, d_state) or ({d},), got {tuple(A.shape)}")
    if B.dim() != 3 or B.shape[:2] != (b, l) or C.shape != B.shape:
        raise ValueError(f"B and C must have shape ({b}, {l}, d_state), got {tuple(B.shape)}, {tuple(C.shape)}")
    if A.dim() == 2 and A.shape[1] != B.shape[2]:
        raise ValueError(f"A has d_state {A.shape[1]} but B and C have {B.shape[2]}")
    if D is not None and D.shape != (d,):
        raise ValueError(f"D must have shape ({d},), got {tuple(D.shape)}")


def _decay_rates(A: Tensor) -> Tensor:
    return A if A.dim() == 2 else A[:, None]  # (d, n), or (d, 1) broadcast over n


def scan_reference(u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor | None = None) -> Tensor:
    """Sequential selective scan in PyTorch; mirrors ``selective_scan_ref`` of the reference implementation.

    Parameters and return value as :func:`selective_scan`. Any float dtype (float64 for gradcheck).
    """
    A = _decay_rates(A)
    h = u.new_zeros(u.shape[0], u.shape[2], B.shape[2])  # (b, d, n)
    ys = []
    # unbind slices time once; indexing x[:, t] in the loop would allocate a full (b, l, ...) gradient per step
    for u_t, dt_t, B_t, C_t in zip(u.unbind(1), delta.unbind(1), B.unbind(1), C.unbind(1)):
        # u_t, dt_t (b, d); B_t, C_t (b, n)
        h = torch.exp(dt_t[:, :, None] * A) * h + (dt_t * u_t)[:, :, None] * B_t[:, None, :]  # (b, d, n)
        ys.append(torch.einsum("bdn,bn->bd", h, C_t))
    y = torch.stack(ys, dim=1)  # (b, l, d)
    return y if D is None else y + u * D


def scan_chunked(
    u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor | None = None, chunk_size: int = 16
) -> Tensor:
    """Chunked parallel selective scan in pure PyTorch (the GPU path).

    Within a chunk of T frames the pairs (a_t, x_t) = (exp(Δ_t A), Δ_t B_t u_t) are combined by
    (a1, x1) ∘ (a2, x2) = (a1 a2, a2 x1 + x2) in log2(T) doubling steps (Hillis–Steele), giving
    x_t = Σ_{s≤t} (Π_{s<r≤t} a_r) x_s and a_t = Π_{r≤t} a_r; then h_t = x_t + a_t h_start. Only products
    of decays ≤ 1 appear, so unlike a cumsum of log-decays with exp(-cumsum) it cannot overflow (and on CPU
    it was faster and more accurate than a (b, T, T, d, n) segment-sum of log-decays).

    Parameters
    ----------
    u, delta, A, B, C, D
        As :func:`selective_scan`.
    chunk_size : int
        Frames per chunk T. Autograd saves ~2 log2(T) tensors of (b, T, d, n) per chunk; 16 was fastest
        on CPU among 8, 16, 32 (not yet measured on GPU).

    Returns
    -------
    Tensor
        y, shape (b, l, d).
    """
    A = _decay_rates(A)
    h = u.new_zeros(u.shape[0], u.shape[2], B.shape[2])  # (b, d, n)
    ys = []
    chunks = [x.split(chunk_size, dim=1) for x in (u, delta, B, C)]  # split, not slices in the loop
    for u_c, dt_c, B_c, C_c in zip(*chunks):
        # u_c, dt_c (b, T, d); B_c, C_c (b, T, n)
        a = torch.exp(dt_c[..., None] * A)  # (b, T, d, n), or (b, T, d, 1) for a per-channel decay
        x = (dt_c * u_c)[..., None] * B_c[:, :, None, :]  # (b, T, d, n)
        T, k = u_c.shape[1], 1
        while k < T:  # combine each frame with the one k frames earlier (identity (1, 0) before the start)
            x = x + a * F.pad(x[:, :-k], (0, 0, 0, 0, k, 0))
            a = a * F.pad(a[:, :-k], (0, 0, 0, 0, k, 0), value=1.0)
            k *= 2
        hs = x + a * h[:, None]  # (b, T, d, n)
        ys.append(torch.einsum("btdn,btn->btd", hs, C_c))
        h = hs[:, -1]
    y = torch.cat(ys, dim=1)  # (b, l, d)
    return y if D is None else y + u * D


@functools.lru_cache(maxsize=1)
def _numba_module() -> ModuleType | None:
    try:
        from andimamba.nn import scan_numba
    except ImportError as err:  # numba missing or broken: the reference still works, only slower
        warnings.warn(f"numba unavailable ({err}); the fused scan falls back to the reference", stacklevel=3)
        return None
    return scan_numba


def fused_available() -> bool:
    """Whether the numba kernels of the fused CPU scan can be imported."""
    return _numba_module() is not None


def scan_fused(u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor | None = None) -> Tensor:
    """Fused CPU selective scan (numba forward and backward); parameters as :func:`selective_scan`.

    Computes in float32 (fast; vectorised polynomial exp) or float64 (``math.exp``, for gradcheck); other
    dtypes are computed in float32 and cast back. Falls back to :func:`scan_reference` without numba.
    """
    module = _numba_module()
    if module is None:
        return scan_reference(u, delta, A, B, C, D)
    if u.device.type != "cpu":
        raise ValueError(f"the fused scan runs on CPU only, got tensors on {u.device}; use impl='chunked'")
    dtype = torch.promote_types(u.dtype, A.dtype)
    work = dtype if dtype in (torch.float32, torch.float64) else torch.float32
    D_ = u.new_zeros(u.shape[2]) if D is None else D
    args = [x.to(work) for x in (u, delta, A, B, C, D_)]
    return module.SelectiveScanFn.apply(*args).to(dtype)


def selective_scan(
    u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor | None = None, impl: str = "auto"
) -> Tensor:
    """Mamba-1 selective scan.

    h_t = exp(Δ_t A) h_{t-1} + Δ_t B_t u_t (ZOH for A, Euler for B, as in the reference implementation);
    y_t = <C_t, h_t> + D u_t, with h_{-1} = 0.

    Parameters
    ----------
    u : Tensor
        Input, shape (b, l, d), float32.
    delta : Tensor
        Step sizes Δ, shape (b, l, d), already positive (the caller applies softplus).
    A : Tensor
        Decay rates, negative (the caller passes ``-exp(A_log)``): shape (d, n) for Mamba-1, or (d,) for a
        per-channel decay broadcast over the n states.
    B, C : Tensor
        Input-dependent projections, shape (b, l, n).
    D : Tensor, optional
        Skip weights, shape (d,).
    impl : {"auto", "reference", "fused", "chunked", "export"}
        "auto" picks "fused" for CPU tensors (the reference if numba is missing) and "chunked" otherwise;
        "export" runs "auto" behind one custom operator, for ``torch.export`` (no gradients).

    Returns
    -------
    Tensor
        y, shape (b, l, d).
    """
    _check(u, delta, A, B, C, D)
    if impl == "auto":
        impl = "fused" if u.device.type == "cpu" else "chunked"
    if impl == "reference":
        return scan_reference(u, delta, A, B, C, D)
    if impl == "fused":
        return scan_fused(u, delta, A, B, C, D)
    if impl == "chunked":
        return scan_chunked(u, delta, A, B, C, D)
    if impl == "export":
        from andimamba.nn.scan_export import scan_export

        return scan_export(u, delta, A, B, C, D)
    raise ValueError(f"impl must be one of {IMPLS}, got {impl!r}")
