"""Our ground-truth files, read back by andi-datasets' own scorer, score perfectly against themselves."""

import shutil
import warnings

import numpy as np
import pytest

from andimamba.errors import UserError
from andimamba.sim.experiment import simulate_experiment
from andimamba.sim.layout import write_experiment
from andimamba.sim.params import MODELS


def test_layout_files(tmp_path):
    params, fovs = simulate_experiment("dimerization", n_fovs=2, seed=1, progress=False)
    d = write_experiment(tmp_path, 3, params, fovs)
    assert d == tmp_path / "track_2" / "exp_3"
    names = sorted(p.name for p in d.iterdir())
    assert names == ["ensemble_labels.txt", "params.json", "traj_labs_fov_0.txt", "traj_labs_fov_1.txt", "trajs_fov_0.csv", "trajs_fov_1.csv"]
    first = (d / "traj_labs_fov_0.txt").read_text().splitlines()[0].split(",")
    assert len(first) % 4 == 1  # idx + 4 per segment (K, alpha, state, CP) ... + T
    assert int(first[-1]) >= 20
    with pytest.raises(UserError, match="already exists"):
        write_experiment(tmp_path, 3, params, fovs)
    assert not [p for p in (tmp_path / "track_2").iterdir() if p.name.startswith(".")]


def test_our_labels_score_perfectly_with_official_scorer(tmp_path):
    uc = pytest.importorskip("andi_datasets.utils_challenge")
    ref, sub = tmp_path / "ref", tmp_path / "res"
    for e, model in enumerate(MODELS):
        params, fovs = simulate_experiment(model, n_fovs=2, seed=10 + e, progress=False)
        d = write_experiment(ref, e, params, fovs)
        out = sub / "track_2" / f"exp_{e}"
        out.mkdir(parents=True)
        for j in range(2):
            shutil.copy(d / f"traj_labs_fov_{j}.txt", out / f"fov_{j}.txt")
        shutil.copy(d / "ensemble_labels.txt", out / "ensemble_labels.txt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        avg, per_exp = uc.run_single_task(list(range(len(MODELS))), 2, str(sub), str(ref))
        (ens_a, ens_k), _ = uc.run_ensemble_task(list(range(len(MODELS))), 2, str(sub), str(ref))
    rmse, jsc, a_mae, k_msle, f1 = avg
    assert (per_exp["num_trajs"] > 0).all()
    assert rmse == 0 and jsc == 1 and a_mae == 0 and k_msle == 0 and f1 == 1
    assert np.isclose(ens_a, 0) and np.isclose(ens_k, 0)
