"""metrics.folder: a submission folder scored as andi-datasets' ``run_single_task`` + ``run_ensemble_task``.

Official quirks reproduced on purpose: FOV indices shifted by "last index + 1" separately for truth
and predictions; an empty first prediction file discards the FOVs gathered so far; one missing
prediction file fails the whole single task; any ensemble failure fails the ensemble task.
"""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pytest
from random_labels import KEYS, assert_same, random_experiment, random_reference, write_lines

from andimamba.andi2 import parse_label_line
from andimamba.metrics import ENSEMBLE_FAILURE, SINGLE_FAILURE, score_directory


def _official_dir(uc, res, ref, ensemble=True):
    exps = sorted(int(p.name.split("_")[1]) for p in (ref / "track_2").iterdir())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        single, df = uc.run_single_task(exps, 2, str(res), str(ref))
        ens = uc.run_ensemble_task(exps, 2, str(res), str(ref))[0] if ensemble else None
    return single, df, ens


def _ours_dir(res, ref, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return score_directory(res, ref, **kw)


def test_score_directory_matches_official(uc, tmp_path):
    res, ref = random_reference(np.random.default_rng(11), tmp_path, n_exp=2, n_fov=3)
    # quirk: FOV 0 of exp 1 lacks its highest index → later FOVs shifted off their truth
    f = res / "track_2" / "exp_1" / "fov_0.txt"
    lines = f.read_text().splitlines()
    top = max(int(float(x.split(",")[0])) for x in lines)
    f.write_text("".join(x + "\n" for x in lines if int(float(x.split(",")[0])) != top))
    single, df, ens = _official_dir(uc, res, ref)
    per_exp, overall, ens_df = _ours_dir(res, ref)
    assert_same(overall, single)
    assert per_exp["n_tracks"].tolist() == df["num_trajs"].tolist()
    for ours_col, off_col in zip(KEYS, ["RMSE CP", "JSC CP", "alpha", "K", "state"]):
        assert np.allclose(per_exp[ours_col], df[off_col].astype(float), rtol=1e-9, atol=0)
    assert np.allclose([overall["ensemble_alpha"], overall["ensemble_K"]], ens, rtol=1e-9, atol=0)
    assert len(ens_df) == 2
    # the offset quirk matters here, and turning it off changes exp 1 only
    aligned, _, _ = _ours_dir(res, ref, official_offsets=False)
    assert aligned.loc[1, "K_msle"] != per_exp.loc[1, "K_msle"]
    assert np.allclose(aligned.drop(index=1)["K_msle"], per_exp.drop(index=1)["K_msle"])


def test_score_directory_empty_first_prediction_file(uc, tmp_path):
    res, ref = random_reference(np.random.default_rng(12), tmp_path, n_exp=1, n_fov=3)
    (res / "track_2" / "exp_0" / "fov_0.txt").write_text("")  # official: FOV 0 truth is discarded
    single, df, _ = _official_dir(uc, res, ref, ensemble=False)
    per_exp, overall, _ = _ours_dir(res, ref)
    assert_same(overall, single)
    assert per_exp["n_tracks"].tolist() == df["num_trajs"].tolist()


def test_score_directory_failures(uc, tmp_path):
    res, ref = random_reference(np.random.default_rng(13), tmp_path, n_exp=2, n_fov=2)
    (res / "track_2" / "exp_1" / "fov_1.txt").unlink()
    (res / "track_2" / "exp_0" / "ensemble_labels.txt").unlink()
    single, _, ens = _official_dir(uc, res, ref)
    with pytest.warns(UserWarning) as rec:
        per_exp, overall, ens_df = score_directory(res, ref)
    msgs = [str(w.message) for w in rec]
    assert any("exp_1/fov_1.txt" in m for m in msgs) and any("exp_0/ensemble_labels.txt" in m for m in msgs)
    assert_same(overall, single)
    assert [overall[k] for k in KEYS] == list(SINGLE_FAILURE.values())
    assert (overall["ensemble_alpha"], overall["ensemble_K"]) == tuple(ens) == ENSEMBLE_FAILURE
    assert per_exp.isna().all().all() and ens_df.isna().all().all()


def test_score_directory_simulated_perfect(uc, tmp_path):
    """A realistic reference folder scored against itself (with one FOV's K perturbed)."""
    pytest.importorskip("andimamba.sim.experiment")
    from andimamba.sim.experiment import simulate_experiment
    from andimamba.sim.layout import write_experiment

    for e, model in enumerate(["confinement", "immobile_traps"]):
        params, fovs = simulate_experiment(model, n_fovs=2, seed=e, progress=False)
        write_experiment(tmp_path / "ref", e, params, fovs)
        src, dst = tmp_path / "ref" / "track_2" / f"exp_{e}", tmp_path / "res" / "track_2" / f"exp_{e}"
        dst.mkdir(parents=True)
        for j in range(2):
            shutil.copy(src / f"traj_labs_fov_{j}.txt", dst / f"fov_{j}.txt")
        shutil.copy(src / "ensemble_labels.txt", dst / "ensemble_labels.txt")
    per_exp, overall, _ = _ours_dir(tmp_path / "res", tmp_path / "ref")
    assert overall["jsc_cp"] == 1 and overall["rmse_cp"] == 0 and overall["alpha_mae"] == 0
    assert overall["state_f1"] == 1 and overall["ensemble_alpha"] == 0
    f = tmp_path / "res" / "track_2" / "exp_0" / "fov_1.txt"
    f.write_text("".join(",".join(v if i % 4 != 1 else repr(float(v) * 1.5) for i, v in enumerate(x.split(","))) + "\n"
                         for x in f.read_text().splitlines()))
    single, df, ens = _official_dir(uc, tmp_path / "res", tmp_path / "ref")
    per_exp, overall, _ = _ours_dir(tmp_path / "res", tmp_path / "ref")
    assert_same(overall, single)
    assert np.allclose([overall["ensemble_alpha"], overall["ensemble_K"]], ens, rtol=1e-9, atol=0)
    assert overall["K_msle"] > 0


def test_score_directory_track1_vip(uc, tmp_path):
    """Track 1: only the VIP tracks are scored; a VIP set mismatch fails the single task."""
    rng = np.random.default_rng(14)
    ref, res = tmp_path / "ref" / "track_1" / "exp_0", tmp_path / "res" / "track_1" / "exp_0"
    for j in range(2):
        t_lines, p_lines = random_experiment(rng, 20)
        vip = sorted(rng.choice(20, 5, replace=False).tolist())
        write_lines(ref / f"traj_labs_fov_{j}.txt", t_lines)
        write_lines(ref / f"vip_idx_fov_{j}.txt", [str(i) for i in vip])
        p_lines = [x for x in p_lines if int(float(x.split(",")[0])) in vip and parse_label_line(x) is not None]
        p_ids = {int(float(x.split(",")[0])) for x in p_lines}
        p_lines += [f"{i},1,1,2,50" for i in vip if i not in p_ids]  # every VIP predicted
        write_lines(res / f"fov_{j}.txt", p_lines)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        single, df = uc.run_single_task([0], 1, str(tmp_path / "res"), str(tmp_path / "ref"))
        per_exp, overall, _ = score_directory(tmp_path / "res", tmp_path / "ref", track=1)
    assert_same(overall, single)
    assert per_exp["n_tracks"].tolist() == df["num_trajs"].tolist() == [10]
    f = res / "fov_1.txt"
    f.write_text("".join(x + "\n" for x in f.read_text().splitlines()[1:]))
    with pytest.warns(UserWarning) as rec:
        _, overall, _ = score_directory(tmp_path / "res", tmp_path / "ref", track=1)
    assert any("VIP" in str(w.message) for w in rec)
    assert [overall[k] for k in KEYS] == list(SINGLE_FAILURE.values())


def test_score_directory_without_reference_folder(tmp_path):
    from andimamba.errors import InputNotFoundError

    with pytest.raises(InputNotFoundError, match="no track_2/ folder"):
        score_directory(tmp_path / "res", tmp_path)
