"""Per-experiment pooling of segment α: deconvolution recovers a population, pooling lowers the error where the
theory says it should (short segments) and leaves what it must alone (long segments, immobile, short regime, rare
states), the calibration measures the errors it is given, and the checkpoint carries it."""

import dataclasses

import numpy as np
import pytest

from andimamba.pooling import PoolingConfig, calibrate, fit_mixture, pool_alphas
from andimamba.result import SegmentResult

EDGES = (0, 11, 41, 81)
CFG = PoolingConfig(EDGES, alpha_sd=(0.3, 0.2, 0.12, 0.06), log10K_sd=(0.4, 0.3, 0.2, 0.1))


def test_fit_mixture_deconvolves_the_measurement_errors():
    rng = np.random.default_rng(0)
    n = 4000
    comp = rng.random(n) < 0.3
    theta = np.where(comp[:, None], [0.4, -1.5], [1.0, 0.0]) + rng.normal(0, [0.05, 0.1], (n, 2))  # true values
    sd = rng.choice([0.05, 0.15, 0.3], n)[:, None] * [1.0, 1.5]  # heteroscedastic errors, known
    x = theta + rng.normal(0, 1, (n, 2)) * sd
    mix = fit_mixture(x, sd**2, np.ones(n), max_components=3)
    assert len(mix.weights) == 2  # BIC: two populations, not three
    o = np.argsort(mix.means[:, 0])
    np.testing.assert_allclose(mix.means[o], [[0.4, -1.5], [1.0, 0.0]], atol=0.03)
    np.testing.assert_allclose(mix.weights[o], [0.3, 0.7], atol=0.03)
    # the variances are those of the true values (0.05², 0.1²), far below the measured points' spread
    np.testing.assert_allclose(mix.variances[o], [[0.05**2, 0.1**2]] * 2, rtol=0.5)
    assert x[~comp, 0].var() > 10 * mix.variances[o][1, 0]


def _experiment(rng, n_tracks, alpha, sd_alpha, state=2, T=200):
    """Tracks of one population: segments of 8 to 100 frames, true α ~ N(alpha, sd_alpha²), measured with CFG's errors."""
    truth, pred = [], []
    for t in range(n_tracks):
        n = rng.integers(8, 100, size=2)
        T = int(n.sum())
        a_true = rng.normal(alpha, sd_alpha, 2)
        a_meas = a_true + rng.normal(0, 1, 2) * CFG.noise_sd(n)[:, 0]
        k_true = 10 ** rng.normal(-0.5, 0.1, 2)
        k_meas = k_true * 10 ** (rng.normal(0, 1, 2) * CFG.noise_sd(n)[:, 1])
        cps, st = [int(n[0])], [state, state]
        truth.append(SegmentResult(f"t{t}", T, cps, a_true, k_true, st))
        pred.append(SegmentResult(f"t{t}", T, cps, np.clip(a_meas, 0, 2), k_meas, st))
    return truth, pred


def _abs_err(truth, pred, lo=0, hi=10**6):
    e = []
    for t, p in zip(truth, pred):
        n = np.diff(np.concatenate([[0], p.cps, [p.T]]))
        keep = (n >= lo) & (n < hi)
        e.append(np.abs(p.alphas - t.alphas)[keep])
    return np.concatenate(e).mean()


def test_pooling_lowers_the_error_most_on_short_segments_and_keeps_k_and_cps():
    rng = np.random.default_rng(1)
    truth, pred = _experiment(rng, 300, alpha=0.7, sd_alpha=0.05)
    pooled, fits = pool_alphas(pred, CFG)
    assert list(fits) == [2]
    short_raw, short_pooled = _abs_err(truth, pred, hi=41), _abs_err(truth, pooled, hi=41)
    long_raw, long_pooled = _abs_err(truth, pred, lo=81), _abs_err(truth, pooled, lo=81)
    assert short_pooled < 0.5 * short_raw  # a tight population: short segments gain most
    assert long_pooled < long_raw
    for p, q in zip(pred, pooled):
        assert np.array_equal(p.cps, q.cps) and np.array_equal(p.Ks, q.Ks) and np.array_equal(p.states, q.states)
    moved = np.concatenate([np.abs(q.alphas - p.alphas) for p, q in zip(pred, pooled)])
    n = np.concatenate([np.diff(np.concatenate([[0], p.cps, [p.T]])) for p in pred])
    assert moved[n < 41].mean() > 2 * moved[n >= 81].mean()  # the uncertain move more


def test_states_pooled_apart_and_what_is_left_alone():
    rng = np.random.default_rng(2)
    _, free = _experiment(rng, 100, alpha=1.0, sd_alpha=0.05, state=2)
    _, directed = _experiment(rng, 5, alpha=1.95, sd_alpha=0.02, state=3)  # 10 segments: too few to pool
    immobile = [SegmentResult("imm", 50, [], [0.0], [0.0], [0])]
    short = [SegmentResult("s", 12, [], [1.7], [0.3], [2], regime="short")]
    res = free + directed + immobile + short
    pooled, fits = pool_alphas(res, CFG)
    assert list(fits) == [2]
    for p, q in zip(res[100:], pooled[100:]):  # the rare directed state is not drawn toward the free one
        assert q is p
    assert not all(q is p for p, q in zip(res[:100], pooled[:100]))
    # too few segments in the whole experiment: nothing changes
    few, fits = pool_alphas(free[:5], CFG)
    assert fits == {} and all(q is p for p, q in zip(free[:5], few))


def test_pooling_is_deterministic_and_subsampled_fits_agree():
    rng = np.random.default_rng(3)
    _, pred = _experiment(rng, 600, alpha=0.5, sd_alpha=0.1)
    a, _ = pool_alphas(pred, CFG)
    b, _ = pool_alphas(pred, CFG)
    assert all(np.array_equal(p.alphas, q.alphas) for p, q in zip(a, b))
    sub, _ = pool_alphas(pred, dataclasses.replace(CFG, max_fit_segments=300))  # fitted to a quarter of the segments
    diff = np.concatenate([np.abs(p.alphas - q.alphas) for p, q in zip(a, sub)])
    assert diff.max() < 0.05


def test_calibrate_measures_the_rms_error_per_length_bin():
    rng = np.random.default_rng(4)
    truth, pred = _experiment(rng, 2000, alpha=1.0, sd_alpha=0.2)
    pred = [dataclasses.replace(p, alphas=p.alphas) for p in pred]  # measured with CFG's errors (clipping aside)
    got = calibrate(truth, pred, length_edges=EDGES)
    assert got.length_edges == EDGES
    np.testing.assert_allclose(got.alpha_sd[1:], CFG.alpha_sd[1:], rtol=0.1)  # bin 0 (< 11 frames): few segments
    np.testing.assert_allclose(got.log10K_sd[1:], CFG.log10K_sd[1:], rtol=0.1)
    # an empty bin borrows its neighbour's value
    wide = calibrate(truth, pred, length_edges=(0, 200, 300))
    assert wide.alpha_sd[1] == wide.alpha_sd[0] == wide.alpha_sd[2]


def test_config_checks_and_round_trip():
    assert PoolingConfig(**CFG.to_dict()) == CFG
    np.testing.assert_array_equal(CFG.noise_sd(np.array([3, 11, 40, 41, 81, 500]))[:, 0], [0.3, 0.2, 0.2, 0.12, 0.06, 0.06])
    with pytest.raises(ValueError, match="increasing"):
        PoolingConfig((0, 10, 10), (0.1,) * 3, (0.1,) * 3)
    with pytest.raises(ValueError, match="one value per length bin"):
        PoolingConfig((0, 10), (0.1,), (0.1, 0.1))
    with pytest.raises(ValueError, match="> 0"):
        PoolingConfig((0, 10), (0.1, 0.0), (0.1, 0.1))


def test_checkpoint_carries_the_calibration(tmp_path):
    import torch

    from andimamba import checkpoint as ckpt
    from andimamba.nn.model import AnDiNet, tiny
    from andimamba.segments import SegmenterConfig

    torch.manual_seed(0)
    ckpt.save_model(AnDiNet(tiny("bimamba", d_model=6)), tmp_path)
    assert ckpt.load_checkpoint(tmp_path).pooling is None  # untuned: no pooling
    ckpt.write_segmenter(tmp_path, SegmenterConfig(cp_threshold=0.7), {"seed": 1}, CFG)
    ck = ckpt.load_checkpoint(tmp_path)
    assert ck.pooling == CFG and ck.segmenter.cp_threshold == 0.7
    ckpt.write_segmenter(tmp_path, SegmenterConfig(cp_threshold=0.6))  # re-tuned without calibration: none kept
    assert ckpt.load_checkpoint(tmp_path).pooling is None
