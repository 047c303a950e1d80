"""Fused CPU Mamba block: in_proj → conv → SiLU → x_proj → softplus(Δ) → selective scan → gate in one numba kernel.

The op-by-op path of :class:`andimamba.nn.mamba.Mamba` (``Mamba._inner_ops``, with ``scan_impl="reference"``
the reference implementation) runs ~15 PyTorch operations between the input and the output projection,
each a pass over a (b, l, E) tensor, plus transposed copies around the convolution and the scan. At the
paper's sizes (d_model 12, E = 24) these small operations, not the arithmetic, dominated the CPU time. Here
one numba kernel per pass (:mod:`andimamba.nn.mamba_numba`) does all of them frame by frame in the layout the
in-projection produces, for one or several directions at once: a Bi-Mamba layer runs its forward and its
backward (reversed within each track's length, by indexing) Mamba in a single call, parallel over
(batch, direction).

Glossary: b batch, l padded length, D = d_model, E = d_inner, N = d_state, R = dt_rank, K = d_conv,
ndir directions in one call.

The kernels agree with the op-by-op path to float32 rounding in outputs and in all gradients
(tests/nn/test_mamba_fused.py). Not here: GPU tensors (the op-by-op path with the chunked scan runs there),
dtypes other than float32 / float64, an inference cache / step mode.
"""

from __future__ import annotations

import functools
import json
import warnings
from collections.abc import Sequence
from types import ModuleType

import numpy as np
import torch
from torch import Tensor

from ..numba_cache import compile_in_child, load

__all__ = ["fused_available", "fused_inner", "preload"]


@functools.lru_cache(maxsize=1)
def _kernels() -> ModuleType | None:
    try:
        from andimamba.nn import mamba_numba
    except ImportError as err:  # numba missing or broken: the op-by-op path still works, only slower
        warnings.warn(f"numba unavailable ({err}); the Mamba block runs op by op", stacklevel=3)
        return None
    return mamba_numba


def fused_available() -> bool:
    """Whether the numba kernels of the fused Mamba block can be imported."""
    return _kernels() is not None


_LOADED: dict = {}


def _kernel(name: str, args: tuple):
    """The numba kernel ``name`` for ``args``, always as numba's on-disk cache holds it.

    Why: numba's freshly compiled code and the code it loads from its cache do not always round alike
    (measured here: last-bit differences in the backward's gradients, from its fast-math reductions; the
    forward agreed), and a process that compiled a kernel keeps running its fresh code even after writing the
    cache. A training run whose first process compiled the kernels would then not be repeated bit for bit
    when resumed by a second process. So a process never compiles these kernels itself: on a cache miss a
    child process compiles them (writing the cache), and this one loads them from the cache
    (:func:`andimamba.numba_cache.load`). Where the cache cannot be written, every process compiles, and they
    agree with each other.
    """
    specs = tuple((a.dtype.str, a.ndim) for a in args)
    fn = _LOADED.get((name, specs))
    if fn is None:
        import numba

        fn = getattr(_kernels(), name)
        load(fn, tuple(numba.typeof(a) for a in args), lambda: _compile_in_child(name, specs))
        _LOADED[(name, specs)] = fn
    return fn


def preload(dtype: torch.dtype = torch.float32) -> None:
    """Have the fused forward kernel ready for ``dtype``: loaded from numba's cache, compiled first (in a child
    process, about 10-15 s on a fresh install) when the cache lacks it. Runs no kernel and is thread-safe, so a
    caller can start it in a background thread while it reads its input (``andimamba.pipeline`` does).

    The arrays are those :class:`MambaInnerFn` passes (same dtypes, dimensions and C layout), so the kernel
    loaded here is the one its forward then uses.
    """
    if _kernels() is None:
        return
    dt = np.dtype(np.float32 if dtype == torch.float32 else np.float64)
    a3, a2 = np.zeros((1, 1, 1), dt), np.zeros((1, 1), dt)
    # x, lengths, rev, Win, cw, cb, Wx, Wdt, bdt, At, Dp, y: as MambaInnerFn.forward builds them
    _kernel("_fwd", (a3, np.zeros(1, np.int64), np.zeros(1, np.uint8), a3, a3, a2, a3, a3, a2, a3, a2, np.zeros((1, 1, 1, 1), dt)))


def _compile_in_child(name: str, specs: tuple) -> None:
    code = "import json, sys; from andimamba.nn.mamba_fused import _compile_here as c; c(*json.loads(sys.argv[1]))"
    compile_in_child(code, json.dumps([name, specs]))


def _compile_here(name: str, specs: list) -> None:
    """Compile kernel ``name`` for arrays of the given (dtype, ndim) (run by :func:`_compile_in_child`)."""
    import numba

    arrays = [np.zeros((1,) * ndim, dtype=np.dtype(dt)) for dt, ndim in specs]
    getattr(_kernels(), name).compile(tuple(numba.typeof(a) for a in arrays))


def _np(x: Tensor) -> np.ndarray:
    return x.detach().contiguous().numpy()


class MambaInnerFn(torch.autograd.Function):
    """The fused block up to out_proj's input; CPU tensors of one dtype (float32 fast, float64 exact).

    Inputs: x (b, l, D); lengths (b,) int64 ndarray; rev (ndir,) uint8 ndarray; then the parameters stacked
    over directions: Win (ndir, 2E, D), cw (ndir, E, K), cb (ndir, E), Wx (ndir, M, E), Wdt (ndir, E, R),
    bdt (ndir, E), At (ndir, N, E), Dp (ndir, E). Output: y (ndir, b, l, E).
    """

    @staticmethod
    def forward(ctx, x, lengths, rev, *params):
        from andimamba.threads import numba_threads

        numba_threads()
        e = params[1].shape[1]  # cw (ndir, E, K)
        y = torch.empty(len(rev), x.shape[0], x.shape[1], e, dtype=x.dtype)  # (ndir, b, l, E)
        args = (_np(x), lengths, rev, *(_np(p) for p in params), y.numpy())
        _kernel("_fwd", args)(*args)
        ctx.save_for_backward(x, *params)
        ctx.lengths, ctx.rev = lengths, rev
        return y

    @staticmethod
    def backward(ctx, gy):
        from andimamba.threads import numba_threads

        numba_threads()
        x, *params = ctx.saved_tensors
        nb = x.shape[0]
        gx = torch.empty(len(ctx.rev), *x.shape, dtype=x.dtype)  # (ndir, b, l, D): one per direction
        gparts = [torch.empty(nb, *p.shape, dtype=x.dtype) for p in params]  # (b, ndir, ...) partial sums
        ins = (_np(x), ctx.lengths, ctx.rev, *(_np(p) for p in params), _np(gy))
        args = (*ins, gx.numpy(), *(g.numpy() for g in gparts))
        _kernel("_bwd", args)(*args)
        # each partial sums l terms; the batch reduction adds b more: accumulate it in float64
        grads = [g.sum(0, dtype=torch.float64).to(x.dtype) for g in gparts]
        return (gx.sum(0) if len(ctx.rev) > 1 else gx[0], None, None, *grads)


def _lengths(lengths: Tensor | None, b: int, l: int) -> np.ndarray:
    if lengths is None:
        return np.full(b, l, dtype=np.int64)
    out = torch.as_tensor(lengths).detach().cpu().to(torch.int64).numpy()
    if out.shape != (b,):
        raise ValueError(f"lengths must have shape ({b},), got {tuple(out.shape)}")
    if b and (out.max() > l or out.min() < 0):
        raise ValueError(f"lengths must lie in [0, {l}] (the padded length), got {out.tolist()}")
    return np.ascontiguousarray(out)


def fused_inner(
    x: Tensor, blocks: Sequence[torch.nn.Module], lengths: Tensor | None = None, reverse: Sequence[bool] = (False,)
) -> Tensor:
    """Run one or several Mamba blocks on the same input, fused, up to their output projections.

    Parameters
    ----------
    x : Tensor, shape (b, l, d_model)
        Block input, frames in stored order.
    blocks : sequence of :class:`~andimamba.nn.mamba.Mamba`
        The blocks whose parameters to use (in_proj, conv1d, x_proj, dt_proj, A_log, D), one per direction.
    lengths : Tensor, shape (b,), integer, optional
        Valid lengths; frames at and after them are padding: never read, 0 in the output and the input
        gradient. None means all l frames are valid.
    reverse : sequence of bool
        Per block, whether it runs each track backwards (last valid frame first), as on
        :func:`~andimamba.nn.masking.reverse_padded` input; its output is written back in frame order.

    Returns
    -------
    Tensor, shape (ndir, b, l, d_inner)
        The gated scan outputs ``y · silu(z)``, the input of each block's ``out_proj``; ``out[r]`` is contiguous.
    """
    if _kernels() is None or x.device.type != "cpu":
        raise ValueError("the fused Mamba block needs numba and CPU tensors; use block_impl='ops'")
    if len(blocks) != len(reverse):
        raise ValueError(f"got {len(blocks)} blocks but {len(reverse)} reverse flags")
    dtype = x.dtype if x.dtype in (torch.float32, torch.float64) else torch.float32
    b, l, _ = x.shape
    Win = torch.stack([m.in_proj.weight for m in blocks])  # (ndir, 2E, D)
    cw = torch.stack([m.conv1d.weight[:, 0, :] for m in blocks])  # (ndir, E, K)
    cb = torch.stack([m.conv1d.bias for m in blocks])  # (ndir, E)
    Wx = torch.stack([m.x_proj.weight for m in blocks])  # (ndir, R + 2N, E)
    Wdt = torch.stack([m.dt_proj.weight for m in blocks])  # (ndir, E, R)
    bdt = torch.stack([m.dt_proj.bias for m in blocks])  # (ndir, E)
    A = torch.stack([-torch.exp(m.A_log.float()) for m in blocks])  # (ndir, E, N) or (ndir, E), as Mamba computes it
    n = blocks[0].config.d_state
    At = A.transpose(1, 2) if A.dim() == 3 else A[:, None, :].expand(-1, n, -1)  # (ndir, N, E)
    Dp = torch.stack([m.D for m in blocks])  # (ndir, E)
    params = [p.to(dtype).contiguous() for p in (Win, cw, cb, Wx, Wdt, bdt, At, Dp)]
    rev = np.array([bool(f) for f in reverse], dtype=np.uint8)
    y = MambaInnerFn.apply(x.to(dtype).contiguous(), _lengths(lengths, b, l), rev, *params)
    return y.to(x.dtype)
