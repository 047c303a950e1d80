import dataclasses

import numpy as np
import pytest

from andimamba.segments import SegmenterConfig, segment_batch, segment_track


def _outputs(T, cps, alphas, logKs, states, noise=0.0, seed=0):
    rng = np.random.default_rng(seed)
    bounds = np.concatenate([[0], cps, [T]])
    a = np.zeros(T)
    k = np.zeros(T)
    sp = np.full((T, 4), 0.02)
    for j, (s0, s1) in enumerate(zip(bounds[:-1], bounds[1:])):
        a[s0:s1], k[s0:s1] = alphas[j], logKs[j]
        sp[s0:s1, states[j]] = 0.94
    cp = np.full(T, 0.01)
    for c in cps:
        cp[c - 1 : c + 2] = [0.3, 0.9, 0.3]
    return cp, sp, a + noise * rng.standard_normal(T), k + noise * rng.standard_normal(T)


def test_exact_outputs_give_exact_segments():
    cp, sp, a, k = _outputs(100, [30, 62], [0.5, 1.2, 0.8], [np.log(0.1), 0.0, np.log(2)], [2, 2, 1])
    cps, al, ks, st = segment_track(cp, sp, a, k)
    assert cps.tolist() == [30, 62]
    assert np.allclose(al, [0.5, 1.2, 0.8]) and np.allclose(ks, [0.1, 1.0, 2.0]) and st.tolist() == [2, 2, 1]


def test_min_segment_and_edges_respected():
    cp = np.zeros(40)
    cp[[1, 10, 11, 12, 38]] = [0.99, 0.8, 0.95, 0.7, 0.99]  # too close to the ends, and a cluster
    sp = np.tile([0, 0, 1.0, 0], (40, 1))
    cps, *_ = segment_track(cp, sp, np.ones(40), np.zeros(40), SegmenterConfig(min_seg=3))
    assert cps.tolist() == [11]


def test_state_change_adds_cp_and_any_number_of_segments():
    T = 120
    cps_true = [20, 45, 70, 95]
    cp, sp, a, k = _outputs(T, cps_true, [1, 0.3, 1, 0.3, 1], [0, -2, 0, -2, 0], [2, 1, 2, 1, 2])
    cp[:] = 0.01  # CP head silent: the state changes alone must cut
    cps, _, _, st = segment_track(cp, sp, a, k)
    assert cps.tolist() == cps_true and st.tolist() == [2, 1, 2, 1, 2]


def test_segment_batch_respects_lengths():
    b, l = 3, 60
    outs = {"cp_prob": np.zeros((b, l)), "state_prob": np.tile([0, 0, 1.0, 0], (b, l, 1)), "alpha": np.ones((b, l)), "log_K": np.zeros((b, l))}
    outs["alpha"][:, 25:] = 99  # padding garbage beyond length 25 for track 0
    res = segment_batch(outs, np.array([25, 60, 40]), ids=["a", "b", "c"])
    assert [r.T for r in res] == [25, 60, 40]
    assert res[0].alphas.tolist() == [1.0] and res[0].track_id == "a"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cfg", [SegmenterConfig(), SegmenterConfig(trim=0, immobile_zero=False, min_seg=2, cp_threshold=0.3)])
def test_batch_equals_track_by_track_exactly(dtype, cfg):
    """segment_batch computes the segments of all tracks at once; the values are those of segment_track, bit for bit."""
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 120, 300)
    b, l = len(lengths), int(lengths.max())
    sp = rng.dirichlet([0.3] * 4, size=(b, l))
    out = {"cp_prob": rng.beta(0.3, 2.0, (b, l)).astype(dtype), "state_prob": sp.astype(dtype),
           "alpha": rng.uniform(0, 2, (b, l)).astype(dtype), "log_K": rng.normal(0, 2, (b, l)).astype(dtype)}
    out["alpha"][:, ::5] = 1.0  # ties in the medians
    res = segment_batch(out, lengths, cfg=cfg)
    for i, r in enumerate(res):
        T = int(lengths[i])
        cps, a, k, s = segment_track(out["cp_prob"][i, :T], out["state_prob"][i, :T], out["alpha"][i, :T], out["log_K"][i, :T], cfg)
        assert np.array_equal(r.cps, cps) and np.array_equal(r.states, s)
        assert np.array_equal(r.alphas, a) and np.array_equal(r.Ks, k)
        # built unchecked (valid by construction): re-checking changes no value, dtype or shape
        again = dataclasses.replace(r)
        for f in dataclasses.fields(r):
            x, y = getattr(r, f.name), getattr(again, f.name)
            if isinstance(x, np.ndarray):
                assert x.dtype == y.dtype and x.shape == y.shape and np.array_equal(x, y), f.name
            else:
                assert type(x) is type(y) and x == y, f.name
    assert sum(r.n_segments for r in res) > 2 * b  # change points were found


def test_given_change_points_replace_the_found_ones():
    """cps= fixes the change points; the segment values are computed at them with the usual rule."""
    cp, sp, a, k = _outputs(100, [30, 62], [0.5, 1.2, 0.8], [np.log(0.1), 0.0, np.log(2)], [2, 2, 1])
    outs = {"cp_prob": cp[None], "state_prob": sp[None], "alpha": a[None], "log_K": k[None]}
    found = segment_batch(outs, np.array([100]))[0]
    same = segment_batch(outs, np.array([100]), cps=[found.cps])[0]
    assert same.cps.tolist() == found.cps.tolist() and same.alphas.tolist() == found.alphas.tolist()
    merged = segment_batch(outs, np.array([100]), cps=[np.array([30])])[0]  # the second CP dropped
    assert merged.cps.tolist() == [30] and merged.states.tolist() == [2, 1]  # frames 62-99 (state 1) are the majority
    assert merged.alphas[0] == 0.5 and merged.alphas[1] == np.median(a[31:99])  # trim 1 frame next to the CPs


def test_state_weights_are_a_cost_on_calling_a_state():
    T = 30
    sp = np.tile(np.array([0.4, 0.1, 0.35, 0.15], np.float32), (T, 1))  # immobile narrowly most probable
    out = {"cp_prob": np.zeros((1, T), np.float32), "state_prob": sp[None], "alpha": np.full((1, T), 0.8, np.float32),
           "log_K": np.zeros((1, T), np.float32)}
    plain = segment_batch(out, np.array([T]), cfg=SegmenterConfig())[0]
    assert plain.states.tolist() == [0] and plain.alphas.tolist() == [0.0]  # immobile: α = K = 0
    cfg = SegmenterConfig(state_weights=[0.5, 0.5, 1, 1])  # a list, as read from config.json
    assert cfg.state_weights == (0.5, 0.5, 1.0, 1.0) and cfg.to_dict()["state_weights"] == [0.5, 0.5, 1.0, 1.0]
    weighed = segment_batch(out, np.array([T]), cfg=cfg)[0]
    assert weighed.states.tolist() == [2] and weighed.alphas[0] == pytest.approx(0.8)
    assert (weighed.state_frame == 2).all()  # the per-frame states follow the same decision
    assert segment_track(out["cp_prob"][0], sp, out["alpha"][0], out["log_K"][0], cfg)[3].tolist() == [2]
    np.testing.assert_array_equal(out["state_prob"][0], sp)  # the caller's posteriors are left as they were
    for bad in ([1, 1, 1], [0, 1, 1, 1], [1, 1, float("nan"), 1]):
        with pytest.raises(ValueError, match="state_weights"):
            SegmenterConfig(state_weights=bad)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_group_median_equals_numpy_median_per_group(dtype):
    from andimamba.segments import _group_median

    rng = np.random.default_rng(3)
    sizes = rng.integers(1, 40, 300)
    group = np.repeat(np.arange(len(sizes)), sizes)
    v = (rng.normal(size=sizes.sum()) * 10.0 ** rng.integers(-30, 30, sizes.sum())).astype(dtype)
    v[::7], v[::11], v[::13] = 0.0, -0.0, -np.inf  # signed zeros and infinities sort as numbers do
    v[::17] = np.finfo(dtype).smallest_subnormal
    v[5::19] = v[4::19][: len(v[5::19])]  # ties
    offs = np.cumsum(sizes) - sizes
    want = np.array([np.median(v[o : o + s]) for o, s in zip(offs, sizes)], dtype)
    got = _group_median(v, group, sizes)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, want)
