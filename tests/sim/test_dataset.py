import numpy as np
import pytest

from andimamba.cli import main
from andimamba.sim.dataset import TrainingStream, broad_params, broadk_params, load_shard, wide_params, widek_params
from andimamba.sim.params import MODELS


def test_training_stream_is_reproducible_fresh_and_labelled():
    a = TrainingStream(64, seed=3)
    b = TrainingStream(64, seed=3)
    b1, b2 = next(a), next(a)
    assert np.array_equal(b1.positions, next(b).positions)
    assert not np.array_equal(b1.positions, b2.positions)
    for bt in (b1, b2):
        m = bt.mask
        assert bt.positions.shape == (64, 200, 2) and bt.lengths.min() >= 20
        assert np.all(bt.positions[~m] == 0) and np.all(bt.alpha[~m] == 0)
        assert np.all((bt.alpha[m] >= 0) & (bt.alpha[m] < 2)) and np.all(bt.K[m] >= 0)
        assert set(np.unique(bt.state[m])) <= {0, 1, 2, 3}
        assert not bt.cp[:, 0].any() and not bt.cp[~m].any()


@pytest.mark.parametrize("model", MODELS)
def test_broad_prior_gives_valid_experiments(model):
    rng = np.random.default_rng(0)
    for _ in range(20):
        p = broad_params(model, rng)
        assert p.model == model
        q = broadk_params(model, rng)
        assert q.model == model


def test_broadk_prior_reaches_the_benchmarks_k_spread():
    """broad never gives particles a K ten times their state's mean; broadk does, as the benchmark's K var 100 does."""
    def ratios(fn):
        rng = np.random.default_rng(1)
        params = [fn("single_state", rng) for _ in range(400)]
        rel = np.array([p.Ks[0][1] / p.Ks[0][0] for p in params])
        return rel
    assert ratios(broad_params).max() <= 0.1 + 1e-12 and ratios(wide_params).max() <= 10 + 1e-12
    assert ratios(widek_params).max() == pytest.approx(100.0)
    rel = ratios(broadk_params)
    assert set(np.round(np.unique(rel), 6)) == {1e-3, 0.01, 0.1, 1.0, 10.0, 100.0}
    assert 0.05 < (rel == 100.0).mean() < 0.15
    batch = next(TrainingStream(256, seed=4, models=["single_state"], prior="broadk"))
    k_mean = batch.K[batch.mask].mean()
    assert (batch.K[batch.mask] > 10 * np.median(batch.K[batch.mask])).any() and np.isfinite(k_mean)


def test_widekfast_prior_reaches_fast_diffusers_and_is_widek_otherwise():
    """widek's K means stop at 10^0.7; widekfast's reach 10^1.3 with the same draws of everything else."""
    from andimamba.sim.dataset import widekfast_params

    def draws(fn):
        rng = np.random.default_rng(2)
        return [fn("multi_state", rng) for _ in range(300)]
    slow, fast = draws(widek_params), draws(widekfast_params)
    k_slow = np.array([k[0] for p in slow for k in p.Ks])
    k_fast = np.array([k[0] for p in fast for k in p.Ks])
    assert k_slow.max() <= 10**0.7 + 1e-9 and k_fast.max() > 10 and k_fast.max() <= 10**1.3 + 1e-9
    assert all(np.array_equal(p.alphas, q.alphas) and p.N == q.N and np.array_equal(p.M, q.M) for p, q in zip(slow, fast))


def test_make_shards_roundtrip(tmp_path, capsys):
    out = tmp_path / "shards"
    assert main(["make-shards", "--out", str(out), "--n-shards", "2", "--shard-size", "50", "--models", "single_state", "multi_state", "--no-progress"]) == 0
    s0 = load_shard(out / "shard_00000.npz")
    assert s0.positions.shape == (50, 200, 2) and s0.cp.dtype == bool
    assert main(["make-shards", "--out", str(out), "--no-progress"]) == 2
    assert "not empty" in capsys.readouterr().err
