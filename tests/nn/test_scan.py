"""Selective scan: the fused and chunked paths agree with the reference, in outputs and gradients."""

import numpy as np
import pytest
import torch

from andimamba.nn import scan
from andimamba.nn.scan import selective_scan

NAMES = ("u", "delta", "A", "B", "C", "D")


def make_inputs(b, l, d, n, channel=False, with_D=True, dtype=torch.float32, seed=0):
    """Random inputs in the Mamba block's ranges; A (d, n), or (d,) for the per-channel decay."""
    g = torch.Generator().manual_seed(seed)
    u = torch.randn(b, l, d, generator=g, dtype=dtype)  # (b, l, d)
    delta = torch.nn.functional.softplus(torch.randn(b, l, d, generator=g, dtype=dtype) - 1)  # Δ > 0
    A = -torch.exp(torch.randn((d,) if channel else (d, n), generator=g, dtype=dtype))  # A < 0
    B, C = (torch.randn(b, l, n, generator=g, dtype=dtype) for _ in range(2))  # (b, l, n)
    D = torch.randn(d, generator=g, dtype=dtype) if with_D else None
    return [u, delta, A, B, C, D]


def outputs_and_grads(inputs, impl, gy):
    """y and the gradients of <y, gy> w.r.t. every input that is not None."""
    leaves = [None if x is None else x.detach().clone().requires_grad_() for x in inputs]
    y = selective_scan(*leaves, impl=impl)
    grads = torch.autograd.grad(y, [x for x in leaves if x is not None], gy.to(y.dtype))
    return [y, *grads]


def assert_close_scaled(actual, expected, name):
    """float32 rounding: errors relative to the largest entry, as accumulated sums have no better bound."""
    scale = expected.abs().max().item() + 1e-30
    torch.testing.assert_close(actual, expected.to(actual.dtype), rtol=1e-4, atol=2e-5 * scale, msg=name)


# every value of b {1, 3}, l {1, 7, 64, 203}, d {4, 16}, n {1, 4, 16} appears, in mixed combinations
SHAPES = [(1, 1, 4, 1), (3, 7, 16, 4), (1, 64, 4, 16), (3, 203, 16, 16), (3, 64, 16, 1), (1, 203, 4, 4),
          (3, 1, 16, 16), (1, 7, 4, 16)]


@pytest.mark.parametrize("channel", [False, True], ids=["A(d,n)", "A(d,)"])
@pytest.mark.parametrize("with_D", [True, False], ids=["D", "noD"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "b{}-l{}-d{}-n{}".format(*s))
def test_fast_paths_match_reference(shape, with_D, channel):
    inputs = make_inputs(*shape, channel=channel, with_D=with_D)
    gy = torch.randn(shape[:3], generator=torch.Generator().manual_seed(1))  # upstream gradient (b, l, d)
    # truth: the reference in float64, against which every float32 path is held to float32 rounding
    expected = outputs_and_grads([None if x is None else x.double() for x in inputs], "reference", gy)
    names = ["y"] + [f"grad {k}" for k, x in zip(NAMES, inputs) if x is not None]
    for impl in ("reference", "fused", "chunked"):
        for name, a, e in zip(names, outputs_and_grads(inputs, impl, gy), expected):
            assert a.dtype == torch.float32 and a.shape == e.shape
            assert_close_scaled(a, e, f"{impl}: {name}")


# The fused path runs float64 kernels (math.exp), so its hand-written backward is checked directly. Its
# per-channel-decay kernels are left out here only to save their ~10 s float64 compile on a cold cache;
# test_fast_paths_match_reference holds their gradients to the float64 reference.
@pytest.mark.parametrize(
    "impl, channel",
    [("reference", False), ("reference", True), ("fused", False), ("chunked", False), ("chunked", True)],
    ids=["reference-A(d,n)", "reference-A(d,)", "fused-A(d,n)", "chunked-A(d,n)", "chunked-A(d,)"],
)
def test_gradcheck_float64(impl, channel):
    inputs = [x.requires_grad_() for x in make_inputs(2, 5, 3, 2, channel=channel, dtype=torch.float64)]
    if impl == "chunked":  # chunks of 2: two full chunks and a partial one
        fn = lambda *args: scan.scan_chunked(*args, chunk_size=2)  # noqa: E731
    else:
        fn = lambda *args: selective_scan(*args, impl=impl)  # noqa: E731
    assert fn(*inputs).dtype == torch.float64
    assert torch.autograd.gradcheck(fn, inputs)


def test_fused_channel_groups(monkeypatch):
    """b smaller than the thread count splits d into channel groups (here 40 + 32); results must not change."""
    scan_numba = pytest.importorskip("andimamba.nn.scan_numba")
    monkeypatch.setattr(scan_numba, "numba_threads", lambda: 4)
    assert scan_numba._group_width(1, 72, 4) == 40
    for channel in (False, True):
        inputs = make_inputs(1, 30, 72, 4, channel=channel)
        gy = torch.randn(1, 30, 72)
        expected = outputs_and_grads([x.double() for x in inputs], "reference", gy)
        for a, e in zip(outputs_and_grads(inputs, "fused", gy), expected):
            assert_close_scaled(a, e, "grouped fused")


def test_exp_f32_accuracy():
    scan_numba = pytest.importorskip("andimamba.nn.scan_numba")
    x = np.concatenate([np.linspace(-87, 88, 2001), [0.0, -1e-8, 1e-8, -0.5 * np.log(2)]]).astype(np.float32)
    got = np.array([scan_numba._exp_f32(v) for v in x], dtype=np.float64)
    want = np.exp(x.astype(np.float64))
    assert np.max(np.abs(got / want - 1)) < 3e-7  # ~2 ulp
    assert 0 < scan_numba._exp_f32(np.float32(-200.0)) < 2e-38  # clamped to the smallest normal


def test_exp2_f32_accuracy():
    """2**t as the fused Mamba block's scan computes exp(Δ A): within 1 ulp on exactly represented t, and exp(x)
    through t = x log₂e within the rounding of that product (|x| ε), which the product Δ·A already carries."""
    scan_numba = pytest.importorskip("andimamba.nn.scan_numba")
    t = np.concatenate([np.linspace(-126, 20, 4001), [0.0, -0.5, 0.5, -1e-8, -125.99]]).astype(np.float32)
    got = np.array([scan_numba._exp2_f32(v) for v in t], dtype=np.float64)
    assert np.max(np.abs(got / 2.0 ** t.astype(np.float64) - 1)) < 1.2e-7  # ~1 ulp
    assert 0 < scan_numba._exp2_f32(np.float32(-300.0)) < 2e-38  # clamped to the smallest normal
    x = np.linspace(-87, 0, 4001).astype(np.float32)
    got = np.array([scan_numba._exp2_f32(v * np.float32(np.log2(np.e))) for v in x], dtype=np.float64)
    rel = np.abs(got / np.exp(x.astype(np.float64)) - 1)
    assert np.all(rel < 1.2e-7 + 2 * np.abs(x) * 2.0**-24)


def test_auto_and_fallback(monkeypatch):
    inputs = make_inputs(2, 9, 4, 3)
    ref = selective_scan(*inputs, impl="reference")
    torch.testing.assert_close(selective_scan(*inputs), ref, rtol=1e-4, atol=1e-5)  # auto on CPU
    monkeypatch.setattr(scan, "_numba_module", lambda: None)  # as if numba were not installed
    torch.testing.assert_close(selective_scan(*inputs, impl="fused"), ref)


def test_bad_arguments():
    u, delta, A, B, C, D = make_inputs(2, 9, 4, 3)
    with pytest.raises(ValueError, match="impl"):
        selective_scan(u, delta, A, B, C, D, impl="cuda")
    with pytest.raises(ValueError, match="A must have shape"):
        selective_scan(u, delta, A.t(), B, C, D)
    with pytest.raises(ValueError, match="d_state"):
        selective_scan(u, delta, A[:, :2], B, C, D)
    with pytest.raises(ValueError, match="delta"):
        selective_scan(u, delta[:, :3], A, B, C, D)
