import numpy as np
import pytest

from andimamba.cli import main
from andimamba.sim.dataset import TrainingStream, broad_params, load_shard
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


def test_make_shards_roundtrip(tmp_path, capsys):
    out = tmp_path / "shards"
    assert main(["make-shards", "--out", str(out), "--n-shards", "2", "--shard-size", "50", "--models", "single_state", "multi_state", "--no-progress"]) == 0
    s0 = load_shard(out / "shard_00000.npz")
    assert s0.positions.shape == (50, 200, 2) and s0.cp.dtype == bool
    assert main(["make-shards", "--out", str(out), "--no-progress"]) == 2
    assert "not empty" in capsys.readouterr().err
