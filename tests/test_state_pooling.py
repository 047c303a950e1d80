import numpy as np
import pytest

from andimamba.pooling import PoolingConfig
from andimamba.result import SegmentResult
from andimamba.segments import SegmenterConfig, segment_batch
from andimamba.state_pooling import pool_states

CFG = PoolingConfig((0, 21, 81), (0.25, 0.15, 0.08), (0.3, 0.2, 0.1), min_segments=20)
UNIT = SegmenterConfig(state_weights=(1.0, 1.0, 1.0, 1.0), immobile_zero=True)  # no decision weights


def _track(i, alpha, K, post, T=60, cp=30, other=(1.0, 1.0, (0.0, 0.0, 1.0, 0.0))):
    """A track of two segments: the one under test first, then a free segment (α, K, posterior of ``other``)."""
    a2, K2, p2 = other
    post = np.array([post, p2], float)
    states = post.argmax(axis=1)
    net = np.array([[alpha, K], [a2, K2]], float)
    alphas, Ks = net[:, 0].copy(), net[:, 1].copy()
    alphas[states == 0], Ks[states == 0] = 0.0, 0.0
    return SegmentResult(str(i), T, [cp], alphas, Ks, states, state_post=post, net_alpha_K=net)


def _population(rng, n, alpha, K, p_minority, minority, majority):
    """n tracks whose first segment has (α, K) near the given values and a posterior that calls ``minority`` on
    a fraction p_minority of them by a close call (the network's single-track confusion), ``majority`` on the rest."""
    out = []
    for i in range(n):
        post = np.full(4, 0.025)
        if rng.random() < p_minority:  # a close call, as the mean posterior of a short or ambiguous segment
            post[minority], post[majority] = 0.55, 0.4
        else:
            post[minority], post[majority] = 0.15, 0.8
        out.append(_track(i, alpha + 0.1 * rng.standard_normal(), K * 10 ** (0.1 * rng.standard_normal()), post))
    return out


def test_a_population_the_network_mostly_calls_immobile_becomes_immobile():
    rng = np.random.default_rng(0)
    res = _population(rng, 80, 0.5, 1e-3, 0.3, 2, 0)  # trapped: 70 % called immobile, 30 % free
    out, pop = pool_states(res, CFG, UNIT)
    assert pop is not None and len(pop["state_mix"]) == len(pop["weights"])
    first = np.array([r.states[0] for r in out])
    assert (first == 0).all()
    assert all(r.alphas[0] == 0 and r.Ks[0] == 0 for r in out)  # the immobile convention
    assert all(r.states[1] == 2 for r in out)  # the free segments stay free


def test_a_slow_free_population_keeps_its_state_and_gets_its_values_back():
    rng = np.random.default_rng(1)
    res = _population(rng, 80, 1.0, 3e-3, 0.2, 0, 2)  # slow free (dimerization): 20 % called immobile
    called_immobile = [i for i, r in enumerate(res) if r.states[0] == 0]
    assert called_immobile
    out, _ = pool_states(res, CFG, UNIT)
    assert all(r.states[0] == 2 for r in out)
    for i in called_immobile:  # α and K come back from the network's values
        assert out[i].alphas[0] == res[i].net_alpha_K[0, 0] and out[i].Ks[0] == res[i].net_alpha_K[0, 1]
        assert res[i].alphas[0] == 0  # the input is left as it was
    untouched = [i for i in range(len(res)) if i not in called_immobile]
    assert all(out[i] is res[i] for i in untouched)


def test_own_weight_one_is_the_segment_decision_and_free_directed_is_the_networks():
    rng = np.random.default_rng(2)
    res = _population(rng, 60, 1.95, 1.0, 0.4, 2, 3)  # one population, free or directed by each segment
    same = PoolingConfig(CFG.length_edges, CFG.alpha_sd, CFG.log10K_sd, min_segments=20, state_own_weight=1.0)
    out, _ = pool_states(res, same, UNIT)
    assert all(o is r for o, r in zip(out, res))
    out, _ = pool_states(res, CFG, UNIT)  # the population is mobile: free vs directed stays each segment's own
    np.testing.assert_array_equal([r.states[0] for r in out], [r.states[0] for r in res])


def test_state_weights_enter_the_segment_side():
    rng = np.random.default_rng(3)
    res = _population(rng, 60, 0.2, 0.01, 0.5, 1, 2)  # half confined, half free
    w_low = pool_states(res, PoolingConfig(CFG.length_edges, CFG.alpha_sd, CFG.log10K_sd, state_own_weight=1.0),
                        SegmenterConfig(state_weights=(1.0, 0.01, 1.0, 1.0)))[0]
    assert all(r.states[0] == 2 for r in w_low)


def test_passes_through_what_it_cannot_pool():
    rng = np.random.default_rng(4)
    few = _population(rng, 5, 0.5, 1e-3, 0.3, 2, 0)  # 10 segments < min_segments
    out, pop = pool_states(few, CFG, UNIT)
    assert pop is None and all(o is r for o, r in zip(out, few))
    classical = [SegmentResult(str(i), 50, [], [1.0], [1.0], [2]) for i in range(30)]  # no network outputs
    short = [SegmentResult("s", 12, [], [0.7], [0.5], [2], regime="short")]
    out, pop = pool_states(classical + short, CFG, UNIT)
    assert pop is None and all(o is r for o, r in zip(out, classical + short))


def test_segment_batch_attaches_the_network_values():
    rng = np.random.default_rng(5)
    b, l = 6, 50
    outputs = {"cp_prob": np.zeros((b, l), np.float32), "state_prob": rng.dirichlet(np.ones(4), (b, l)).astype(np.float32),
               "alpha": rng.uniform(0, 2, (b, l)).astype(np.float32), "log_K": rng.normal(0, 1, (b, l)).astype(np.float32)}
    outputs["cp_prob"][:, 25] = 0.99
    cfg = SegmenterConfig(cp_threshold=0.5, use_state_changes=False, trim=0, state_weights=(0.25, 0.5, 1.0, 1.0))
    for r, i in zip(segment_batch(outputs, np.full(b, l), cfg=cfg), range(b)):
        assert r.state_post.shape == (2, 4) and r.net_alpha_K.shape == (2, 2)
        np.testing.assert_allclose(r.state_post[0], outputs["state_prob"][i, :25].mean(axis=0), rtol=1e-5)
        np.testing.assert_array_equal(r.states, np.argmax(r.state_post * np.array(cfg.state_weights), axis=1))
        mobile = r.states != 0
        np.testing.assert_array_equal(r.alphas[mobile], r.net_alpha_K[mobile, 0])
        assert (r.alphas[~mobile] == 0).all()


def test_checks():
    with pytest.raises(ValueError, match="state_own_weight"):
        PoolingConfig((0,), (0.1,), (0.1,), state_own_weight=1.5)
    with pytest.raises(ValueError, match="state_post must have shape"):
        SegmentResult("t", 10, [5], [1, 1], [1, 1], [2, 2], state_post=np.ones((1, 4)))
