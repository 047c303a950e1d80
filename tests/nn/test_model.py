"""AnDiNet: padding invariance, ranges, soft coupling of the stages, config round trip, predict."""

import numpy as np
import pytest
import torch

from andimamba.batch import TrackBatch
from andimamba.nn.features import N_FEATURES, compute_features
from andimamba.nn.losses import andi_loss
from andimamba.nn.masking import length_mask
from andimamba.nn.model import AnDiNet, ModelConfig, count_parameters, paper, tiny

ARCHS = ["bimamba", "bilstm"]
KEYS = ("state_logits", "cp_logit", "log_K", "alpha")


def _net(arch, **kw):
    torch.manual_seed(0)
    return AnDiNet(tiny(arch, scan_impl="reference", **kw))


def _batch(seed=0, lengths=(30, 21, 12), l=30):
    rng = np.random.default_rng(seed)
    pos = np.cumsum(rng.normal(size=(len(lengths), l, 2)), axis=1) * 2.0
    lengths = np.asarray(lengths)
    for i, n in enumerate(lengths):
        pos[i, n:] = 0.0
    return pos, lengths


def _targets(lengths, l, seed=0):
    g = torch.Generator().manual_seed(seed)
    b = len(lengths)
    return {
        "state": torch.randint(0, 4, (b, l), generator=g),
        "cp": torch.rand(b, l, generator=g) < 0.1,
        "K": torch.rand(b, l, generator=g) * 3,
        "alpha": torch.rand(b, l, generator=g) * 2,
    }


@pytest.mark.parametrize("arch", ARCHS)
def test_padded_and_unpadded_copies_agree(arch):
    net = _net(arch).eval()
    pos, lengths = _batch()
    feats, log_s = compute_features(pos, lengths)
    with torch.no_grad():
        out = net.forward_features(feats, log_s, torch.as_tensor(lengths))
        for i, n in enumerate(lengths):
            f1, s1 = compute_features(pos[i : i + 1, :n], [n])
            alone = net.forward_features(f1, s1, torch.tensor([n]))
            for k in KEYS:
                torch.testing.assert_close(out[k][i, :n], alone[k][0], rtol=1e-5, atol=1e-5)
                assert torch.all(out[k][i, n:] == 0), k


@pytest.mark.parametrize("arch", ARCHS)
def test_shapes_and_alpha_range(arch):
    net = _net(arch).eval()
    pos, lengths = _batch()
    feats, log_s = compute_features(pos, lengths)
    with torch.no_grad():
        out = net.forward_features(feats * 50.0, log_s, torch.as_tensor(lengths))  # extreme inputs saturate the sigmoid
    assert out["state_logits"].shape == (3, 30, 4)
    assert all(out[k].shape == (3, 30) for k in KEYS[1:])
    assert out["alpha"].min() >= 0 and out["alpha"].max() <= 2


@pytest.mark.parametrize("arch", ARCHS)
def test_log_K_is_in_absolute_units(arch):
    net = _net(arch).eval()
    pos, lengths = _batch()
    feats, log_s = compute_features(pos, lengths)
    mask = length_mask(torch.as_tensor(lengths), 30)
    with torch.no_grad():
        a = net.forward_features(feats, log_s, torch.as_tensor(lengths))["log_K"]
        b = net.forward_features(feats, log_s + 1.5, torch.as_tensor(lengths))["log_K"]
    torch.testing.assert_close((b - a)[mask], torch.full_like(a[mask], 3.0))


@pytest.mark.parametrize("arch", ARCHS)
def test_gradients_flow_to_all_stages(arch):
    net = _net(arch)
    pos, lengths = _batch()
    feats, log_s = compute_features(pos, lengths)
    lt = torch.as_tensor(lengths)
    targets = _targets(lengths, 30)
    total, _ = andi_loss(net.forward_features(feats, log_s, lt), targets, length_mask(lt, 30))
    total.backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    # the stages are coupled softly: a K-only loss still trains the segmentation stage
    net.zero_grad()
    net.forward_features(feats, log_s, lt)["log_K"].sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.seg.parameters())


@pytest.mark.parametrize("arch", ARCHS)
def test_forward_takes_positions_and_computes_the_features_itself(arch):
    """forward(positions, lengths) is exactly forward_features on compute_features: one feature path for all callers."""
    net = _net(arch).eval()
    pos, lengths = _batch()
    pos_t, lt = torch.as_tensor(pos, dtype=torch.float32), torch.as_tensor(lengths)
    with torch.no_grad():
        a = net(pos_t, lt)
        b = net.forward_features(*compute_features(pos_t, lt), lt)
    for k in KEYS:
        assert torch.equal(a[k], b[k]), k
    with pytest.raises(ValueError, match="feature channels"):
        net.forward_features(torch.zeros(1, 5, N_FEATURES - 1), torch.zeros(1), torch.tensor([5]))


def test_config_round_trip_and_errors():
    cfg = paper("bilstm", dropout=0.1)
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg and cfg.n_features == N_FEATURES
    with pytest.raises(ValueError, match="unknown"):
        ModelConfig.from_dict({**cfg.to_dict(), "width": 3})
    with pytest.raises(ValueError, match="arch"):
        ModelConfig(arch="transformer")


def test_parameter_counts_are_small():
    for arch in ARCHS:
        assert count_parameters(AnDiNet(tiny(arch))) < count_parameters(AnDiNet(paper(arch))) < 20_000


@pytest.mark.parametrize("arch", ARCHS)
def test_predict(arch):
    net = _net(arch).train()
    pos, lengths = _batch()
    batch = TrackBatch(positions=pos.astype(np.float32), lengths=lengths)
    res = net.predict(batch, chunk_size=2)
    assert net.training  # mode restored
    assert res["state_prob"].shape == (3, 30, 4) and res["state"].dtype == np.int64
    np.testing.assert_allclose(res["state_prob"].sum(-1)[batch.mask], 1.0, rtol=1e-5)
    np.testing.assert_allclose(res["K"][batch.mask], np.exp(res["log_K"][batch.mask]), rtol=1e-6)
    assert np.all(res["alpha"][~batch.mask] == 0) and np.all(res["K"][~batch.mask] == 0)
    feats, log_s = compute_features(pos.astype(np.float32), lengths)
    with torch.no_grad():
        direct = net.eval().forward_features(feats, log_s, torch.as_tensor(lengths))
    np.testing.assert_allclose(res["alpha"], direct["alpha"].numpy(), rtol=1e-5, atol=1e-6)
