"""The fixed experiment lists: the organisers' published AnDi-2 benchmark (nine experiments) and the legacy nine."""

import numpy as np
import pytest

from andimamba.sim.experiment import simulate_experiment
from andimamba.sim.params import MODELS, ExperimentParams
from andimamba.sim.recipes import PUBLISHED_WEIGHTS, RECIPES, published


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_every_recipe_lists_nine_valid_experiments(name):
    exps = RECIPES[name]()
    assert len(exps) == 9
    for desc, p in exps:
        assert isinstance(p, ExperimentParams) and p.model in MODELS and desc


def test_published_recipe_matches_the_organisers_numbering_and_state_counts():
    exps = published()
    assert [d.split(":")[0] for d, _ in exps] == [f"EXP {k}" for k in range(1, 10)]
    # the tutorial's populations count an immobile state for traps, which has no (α, K) entry of its own
    assert [len(p.alphas) for _, p in exps] == [len(w) - (p.model == "immobile_traps") for w, (_, p) in zip(PUBLISHED_WEIGHTS, exps)]
    assert all(abs(sum(w) - 1) < 0.02 for w in PUBLISHED_WEIGHTS)


def test_published_single_state_experiment_simulates_with_its_broad_k():
    desc, p = published()[7]
    assert "K var 100" in desc and np.array_equal(p.Ks[0], [1, 100])
    _, fovs = simulate_experiment(params=p, n_fovs=1, seed=5, progress=False)
    K = np.concatenate([t.K for t in fovs[0].tracks])
    assert len(fovs[0].tracks) > 20 and (K >= 10).mean() > 0.1  # a K variance of 100 around a mean of 1
