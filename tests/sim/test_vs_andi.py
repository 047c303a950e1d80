"""Two-sample comparisons between our challenge pipeline and andi-datasets' on matched settings.

Skipped when the optional extra (andi-datasets) is not installed; CI installs it. Seeds are fixed,
so every run sees the same samples; thresholds are p > 1e-3 per test.
"""

import functools

import numpy as np
import pytest
from scipy import stats

from andimamba.result import segments_from_labels
from andimamba.sim.challenge import simulate_fovs_batched
from andimamba.sim.params import MODELS, challenge_params

pytest.importorskip("andi_datasets")
from andimamba.sim.reference import andi_challenge_fovs  # noqa: E402

N_FOVS_ANDI = 6
N_FOVS_OURS = 40
P_MIN = 1e-3


@functools.lru_cache(maxsize=None)
def samples(model):
    params = challenge_params(model, np.random.default_rng(100 + MODELS.index(model)))
    ours = simulate_fovs_batched(params, N_FOVS_OURS, np.random.default_rng(7))
    ref, _, _ = andi_challenge_fovs(params, N_FOVS_ANDI, seed=11)
    return params, [t for f in ours for t in f.tracks], [t for f in ref for t in f.tracks]


def _tamsd_exponent(xy):
    n = len(xy)
    lags = np.arange(1, max(3, min(10, n // 4)) + 1)
    msd = np.array([np.mean(np.sum((xy[l:] - xy[:-l]) ** 2, axis=1)) for l in lags])
    return np.polyfit(np.log(lags), np.log(msd), 1)[0]


def _stats(tracks):
    segs = [segments_from_labels(t.alpha, t.K, t.state) for t in tracks]
    return dict(
        length=np.array([len(t.frames) for t in tracks]),
        n_cp=np.array([len(s[0]) for s in segs]),
        seg_alpha=np.concatenate([s[1] for s in segs]),
        seg_K=np.concatenate([s[2] for s in segs]),
        state=np.concatenate([t.state for t in tracks]),
        log_step=np.array([np.mean(np.log(np.linalg.norm(np.diff(t.xy, axis=0), axis=1) + 1e-12)) for t in tracks]),
        msd_exp=np.array([_tamsd_exponent(t.xy) for t in tracks]),
    )


def _ks(a, b, what):
    p = stats.ks_2samp(a, b).pvalue
    assert p > P_MIN, f"{what}: KS p={p:.2g} (ours n={len(a)}, andi n={len(b)})"


def _means_close(a, b, what, slack=0.0):
    se = np.sqrt(a.var() / len(a) + b.var() / len(b))
    assert abs(a.mean() - b.mean()) <= 4 * se + slack, f"{what}: {a.mean():.4f} vs andi {b.mean():.4f} (se {se:.4f})"


@pytest.mark.parametrize("model", MODELS)
def test_pipeline_statistically_equal_to_andi(model):
    params, ours, ref = samples(model)
    assert len(ref) > 60 and len(ours) > 300
    o, r = _stats(ours), _stats(ref)
    _ks(o["length"], r["length"], "track length")
    _means_close(o["n_cp"].astype(float), r["n_cp"].astype(float), "change points per track", slack=0.02)
    _ks(o["seg_alpha"], r["seg_alpha"], "segment alpha labels")
    pos_o, pos_r = o["seg_K"][o["seg_K"] > 0], r["seg_K"][r["seg_K"] > 0]
    _ks(np.log10(pos_o), np.log10(pos_r), "segment log K labels")
    for s in range(4):
        _means_close((o["state"] == s).astype(float), (r["state"] == s).astype(float), f"fraction of frames in state {s}", slack=0.03)
    _ks(o["log_step"], r["log_step"], "per-track mean log step size")
    _ks(o["msd_exp"], r["msd_exp"], "per-track MSD exponent")
