"""metrics.ensemble: W1 between the ensembles' mixtures, and agreement with andi-datasets' scorer."""

from __future__ import annotations

import numpy as np
import pytest

from andimamba.metrics import ensemble_scores


def test_ensemble_identical_is_zero_and_shift():
    m = np.array([[1.0, 0.5], [0.01, 0.02], [1.0, 0.05], [0.01, 0.0005], [0.7, 0.3]])
    assert ensemble_scores(m, m) == (0.0, 0.0)
    single = np.array([1.0, 0.001, 1.0, 0.001, 1.0])
    a, k = ensemble_scores(single, single + np.array([0.1, 0, 0, 0, 0]))
    assert np.isclose(a, 0.1, rtol=1e-3) and k == 0
    with pytest.raises(ValueError):
        ensemble_scores(m[:4], m)


def test_ensemble_matches_official(uc):
    rng = np.random.default_rng(7)
    for rep in range(3):
        k_t, k_p = rng.integers(1, 4, 2)
        mats = []
        for k in (k_t, k_p):
            m = np.vstack([rng.uniform(0, 2, k), rng.uniform(0, 0.05, k) * (rng.random(k) > .2),
                           10 ** rng.uniform(-2, 0.5, k), rng.uniform(0, 0.05, k), rng.integers(1, 60, k)])
            mats.append(m[:, 0] if k == 1 and rep % 2 else m)  # loadtxt gives a vector for one state
        official = uc.error_Ensemble_dataset(mats[0].copy(), mats[1].copy())
        ours = ensemble_scores(*mats)
        assert np.allclose(ours, official, rtol=1e-9, atol=0), (rep, ours, official)
