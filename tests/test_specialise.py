"""Experiment-level specialisation: surrogates mirror the first pass; fine-tuning is seeded and leaves the input model alone."""

import numpy as np
import torch

from andimamba.result import SegmentResult
from andimamba.nn.model import AnDiNet, tiny
from andimamba.specialise import SpecialiseConfig, specialise, surrogate_experiments


def _two_state_results(n=60, T=100, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        cp = int(rng.integers(30, 70))
        out.append(SegmentResult(str(i), T, cps=[cp], alphas=[rng.normal(0.4, 0.03), rng.normal(1.3, 0.03)],
                                 Ks=[0.05 * np.exp(rng.normal(0, 0.05)), 2.0 * np.exp(rng.normal(0, 0.05))], states=[2, 2]))
    return out


def test_surrogates_follow_the_first_pass():
    exps = surrogate_experiments(_two_state_results())
    assert [p.model for p in exps] == ["multi_state"]
    p = exps[0]
    order = np.argsort(p.Ks[:, 0])
    assert np.allclose(p.alphas[order, 0], [0.4, 1.3], atol=0.05)
    assert np.allclose(p.Ks[order, 0], [0.05, 2.0], rtol=0.1)
    assert np.allclose(np.diag(p.M), 1 - 60 / 6000)  # one CP per 100-frame track
    assert (p.alphas[:, 1] >= 0.01).all()  # spreads widened


def test_immobile_and_confined_answers_add_traps_and_confinement():
    res = [SegmentResult(str(i), 100, cps=[50], alphas=[0.0, 1.0], Ks=[0.0, 1.0], states=[0, 2]) for i in range(20)]
    exps = surrogate_experiments(res)
    assert [p.model for p in exps] == ["immobile_traps"] and np.isclose(exps[0].Pu, 1 / 50)
    res = [SegmentResult(str(i), 100, cps=[50], alphas=[0.3, 1.0], Ks=[0.1, 1.0], states=[1, 2]) for i in range(20)]
    exps = surrogate_experiments(res)
    assert "confinement" in [p.model for p in exps]
    conf = exps[[p.model for p in exps].index("confinement")]
    assert conf.alphas[1, 0] < conf.alphas[0, 0] and conf.Ks[1, 0] < conf.Ks[0, 0]


def test_specialise_is_seeded_and_leaves_the_model_alone():
    torch.manual_seed(0)
    model = AnDiNet(tiny("bimamba")).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    cfg = SpecialiseConfig(steps=2, batch_size=8, boxes_per_call=1)
    a = specialise(model, _two_state_results(n=10), cfg)
    b = specialise(model, _two_state_results(n=10), cfg)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    assert any(not torch.equal(x, before[k]) for k, x in a.state_dict().items())
    assert not a.training
