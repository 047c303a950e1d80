"""Fused CPU Mamba block: equal to the op-by-op block (outputs and every gradient), padding-invariant, and the
shipped model's outputs unchanged to float32 rounding."""

import numpy as np
import pytest
import torch

from andimamba.nn.bimamba import BiMambaBlock
from andimamba.nn.mamba import Mamba, MambaConfig

mamba_fused = pytest.importorskip("andimamba.nn.mamba_fused")
if not mamba_fused.fused_available():
    pytest.skip("numba unavailable", allow_module_level=True)


def _perturbed(module, seed):
    """Move every parameter off its initial value (the init has structure, e.g. A identical across channels)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.2 * torch.randn(p.shape, generator=g, dtype=p.dtype))
    return module


def _pair(cls, dtype, seed=0, **cfg):
    """The same block twice: op by op with the reference scan (the truth) and fused."""
    torch.manual_seed(seed)
    ref = _perturbed(cls(MambaConfig(scan_impl="reference", block_impl="ops", **cfg)), seed).to(dtype)
    fused = cls(MambaConfig(block_impl="fused", **cfg)).to(dtype)
    fused.load_state_dict(ref.state_dict())
    return ref, fused


def _run(block, x, gy, *args):
    """Output and the gradients of <out, gy> w.r.t. the input and every parameter."""
    x = x.detach().clone().requires_grad_()
    block.zero_grad()
    out = block(x, *args)
    (out * gy).sum().backward()
    grads = {"input": x.grad} | {n: p.grad.clone() for n, p in block.named_parameters()}
    return out.detach(), grads


def _assert_same(ref, fused, x, gy, *args, rtol, atol):
    (y0, g0), (y1, g1) = _run(ref, x, gy, *args), _run(fused, x, gy, *args)
    torch.testing.assert_close(y1, y0, rtol=rtol, atol=atol * y0.abs().max().item())
    assert g0.keys() == g1.keys()
    for name in g0:  # gradients are sums over b·l terms: tolerance relative to the largest entry
        # A = -exp(A_log.float()) in both paths: A_log's gradient passes float32 whatever the model's dtype
        r, a = (max(rtol, 1e-6), max(atol, 1e-6)) if name.endswith("A_log") else (rtol, atol)
        torch.testing.assert_close(g1[name], g0[name], rtol=r, atol=a * g0[name].abs().max().item(), msg=name)


# (b, l, d_model, d_state, d_conv, per_channel_decay): d_model 32 gives dt_rank 2; l < d_conv and l = 1 included
CASES = [(3, 23, 8, 4, 4, False), (2, 40, 12, 8, 4, True), (1, 3, 8, 4, 4, False), (2, 17, 32, 8, 2, False),
         (4, 1, 6, 3, 3, True), (2, 30, 12, 1, 4, False)]
IDS = ["b{}-l{}-D{}-N{}-K{}".format(*c[:5]) + ("-chanA" if c[5] else "") for c in CASES]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_bimamba_block_fused_matches_reference(case, dtype):
    b, l, d, n, k, chan = case
    ref, fused = _pair(BiMambaBlock, dtype, d_model=d, d_state=n, d_conv=k, per_channel_decay=chan)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(b, l, d, generator=g, dtype=dtype)
    lengths = torch.randint(0, l + 1, (b,), generator=g)
    lengths[0] = l  # one full-length track, the others padded (length 0 included when drawn)
    gy = torch.randn(b, l, d, generator=g, dtype=dtype)
    tol = {"rtol": 1e-9, "atol": 1e-10} if dtype == torch.float64 else {"rtol": 1e-4, "atol": 2e-5}
    _assert_same(ref, fused, x, gy, lengths, **tol)


@pytest.mark.parametrize("chan", [False, True], ids=["A(E,N)", "A(E,)"])
def test_single_direction_mamba_fused_matches_reference(chan):
    ref, fused = _pair(Mamba, torch.float64, d_model=8, d_state=4, per_channel_decay=chan)
    g = torch.Generator().manual_seed(2)
    x, gy = (torch.randn(3, 19, 8, generator=g, dtype=torch.float64) for _ in range(2))
    _assert_same(ref, fused, x, gy, rtol=1e-9, atol=1e-10)


def test_gradcheck_fused_inner():
    torch.manual_seed(3)
    blocks = [_perturbed(Mamba(MambaConfig(d_model=4, d_state=2)), s).double() for s in (3, 4)]
    x = torch.randn(2, 6, 4, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([6, 4])

    def f(x, *params):  # the parameters enter through the blocks; gradcheck perturbs them in place
        return mamba_fused.fused_inner(x, blocks, lengths, reverse=(False, True))

    # out_proj is not part of fused_inner; A_log enters through float32 (A = -exp(A_log.float())), too coarse
    # for finite differences: its gradient is held to the reference in the tests above
    params = [p for m in blocks for n, p in m.named_parameters() if n not in ("out_proj.weight", "A_log")]
    assert torch.autograd.gradcheck(f, (x, *params), eps=1e-6, atol=1e-7)


def test_fused_padded_and_unpadded_agree():
    torch.manual_seed(4)
    block = _perturbed(BiMambaBlock(MambaConfig(d_model=8, d_state=4, block_impl="fused")), 4).eval()
    lengths = torch.tensor([23, 9, 16, 0])
    x = torch.randn(4, 30, 8) * 5.0  # garbage on the padding frames too
    with torch.no_grad():
        out = block(x, lengths)
        for i, n in enumerate(lengths.tolist()):
            if n:
                torch.testing.assert_close(out[i, :n], block(x[i : i + 1, :n], torch.tensor([n]))[0], rtol=1e-5, atol=1e-6)
            assert torch.all(out[i, n:] == 0)


def test_auto_picks_fused_only_where_it_applies(monkeypatch):
    m = Mamba(MambaConfig(d_model=8, d_state=4))
    x = torch.zeros(1, 5, 8)
    assert m.use_fused(x) and not m.use_fused(x.to(torch.bfloat16))
    assert not Mamba(MambaConfig(d_model=8, scan_impl="fused")).use_fused(x)  # an explicit scan asks for ops
    assert not Mamba(MambaConfig(d_model=8, block_impl="ops")).use_fused(x)
    monkeypatch.setattr(mamba_fused, "fused_available", lambda: False)  # numba missing: op by op
    assert not m.use_fused(x)
    with pytest.raises(ValueError, match="block_impl"):
        MambaConfig(block_impl="cuda")


def test_auto_choice_leaves_torch_onnx_unimported_and_sees_an_export(monkeypatch):
    """Deciding fused vs op by op must not import torch.onnx (0.2 s at every start of the command line), and must
    still see an export in progress once torch.onnx is imported."""
    import subprocess
    import sys

    code = ("import sys, torch; from andimamba.nn.mamba import Mamba, MambaConfig; "
            "m = Mamba(MambaConfig(d_model=8, d_state=4)); assert m.use_fused(torch.zeros(1, 5, 8)); "
            "m(torch.zeros(1, 5, 8)); print('torch.onnx' in sys.modules)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "False"
    import torch.onnx

    m, x = Mamba(MambaConfig(d_model=8, d_state=4)), torch.zeros(1, 5, 8)
    assert m.use_fused(x)
    monkeypatch.setattr(torch.onnx, "is_in_onnx_export", lambda: True)  # as inside torch.onnx.export
    assert not m.use_fused(x)


def test_torch_threads_survive_the_kernels():
    saved = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        m = Mamba(MambaConfig(d_model=8, d_state=4, block_impl="fused"))
        m(torch.randn(2, 5, 8)).sum().backward()
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(saved)


def test_kernels_are_loaded_from_the_cache_not_compiled_here():
    """Freshly compiled and cache-loaded numba code can round differently (see ``mamba_fused._kernel``); a
    process must run the cached kernels, so that a resumed training run repeats the interrupted one."""
    m = Mamba(MambaConfig(d_model=8, d_state=4, block_impl="fused"))
    m(torch.randn(2, 5, 8)).sum().backward()
    assert mamba_fused._LOADED
    for fn in mamba_fused._LOADED.values():
        assert not fn.stats.cache_misses, "compiled in this process"


def test_f32_elementwise_helpers():
    from andimamba.nn import numba_ops as kernels
    x = np.linspace(-30, 30, 20001, dtype=np.float32)
    ref = np.logaddexp(0, x.astype(np.float64))  # softplus
    got = np.array([kernels._softplus_f32(v) for v in x[::50]])
    np.testing.assert_allclose(got, ref[::50], rtol=3e-7)
    e = np.linspace(0, 1, 1001, dtype=np.float32)
    got = np.array([kernels._log1p_f32(v) for v in e])
    np.testing.assert_allclose(got, np.log1p(e.astype(np.float64)), rtol=2e-7, atol=1e-30)


def test_shipped_model_outputs_unchanged():
    """The fused block reproduces the op-by-op outputs of the shipped Bi-Mamba to float32 rounding."""
    from andimamba.checkpoint import load_model
    from andimamba.nn.features import compute_features
    from andimamba.predict import resolve_model_path
    from andimamba.sim.dataset import TrainingStream

    model = load_model(resolve_model_path("bimamba"))
    batch = next(TrainingStream(16, seed=11))
    pos, lengths = torch.as_tensor(batch.positions), torch.as_tensor(batch.lengths)
    feats, log_s = compute_features(pos, lengths)
    blocks = [blk for stage in (model.seg, model.k_stage, model.alpha_stage) for blk in stage.blocks]
    assert all(blk.fwd.use_fused(feats) for blk in blocks)
    with torch.no_grad():
        fused = model.forward_features(feats, log_s, lengths)
        for blk in blocks:
            blk.fwd.config.block_impl = "ops"  # one MambaConfig object per block, shared by both directions
        ops = model.forward_features(feats, log_s, lengths)
    for k in ops:
        torch.testing.assert_close(fused[k], ops[k], rtol=0, atol=1e-5, msg=k)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_preload_loads_the_kernel_the_forward_uses(monkeypatch, dtype):
    """preload() (run in a thread by the pipeline while it reads input) must load exactly the forward kernel that
    MambaInnerFn then asks for: same dtypes, dimensions and layout, so the forward loads nothing more."""
    from andimamba.nn import mamba_fused

    monkeypatch.setattr(mamba_fused, "_LOADED", {})
    mamba_fused.preload(dtype)
    assert [k[0] for k in mamba_fused._LOADED] == ["_fwd"]
    assert not next(iter(mamba_fused._LOADED.values())).stats.cache_misses  # loaded from the cache, not compiled here
    blk = BiMambaBlock(MambaConfig(d_model=8, d_state=4)).to(dtype)
    with torch.no_grad():
        blk(torch.randn(3, 17, 8, dtype=dtype), torch.tensor([17, 9, 4]))
    assert [k[0] for k in mamba_fused._LOADED] == ["_fwd"]  # other arrays would have added a second _fwd key


@pytest.mark.parametrize("nr", [1, 2])
def test_work_items_are_dealt_so_that_contiguous_slices_hold_similar_work(nr):
    """The parallel loop gives each thread a contiguous slice of items; a batch sorted by length must not leave
    one thread the long tracks."""
    from andimamba.nn.mamba_numba import _balanced_order

    lengths = np.sort(np.random.default_rng(0).integers(20, 201, 127)).astype(np.int64)  # as the predictor batches
    order = _balanced_order(lengths, nr)
    assert sorted(order.tolist()) == list(range(len(lengths) * nr))  # every item once
    work = np.repeat(lengths, nr)[order]
    for threads in (2, 3, 4, 16):
        parts = [w.sum() for w in np.array_split(work, threads)]
        assert max(parts) - min(parts) <= 0.15 * np.mean(parts)  # the sorted order itself: up to 80 %
