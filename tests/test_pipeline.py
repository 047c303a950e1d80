"""The library pipeline writes what `andimamba predict` writes; the CLI is a thin layer over it."""

import numpy as np
import pandas as pd
import pytest

from andimamba.cli import main
from andimamba.errors import UserError
from andimamba.pipeline import predict_file, predict_folder
from andimamba.sim.experiment import simulate_experiment
from andimamba.sim.layout import write_experiment


@pytest.fixture(scope="module")
def andi_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("ref")
    for e, m in enumerate(("single_state", "immobile_traps")):
        params, fovs = simulate_experiment(m, n_fovs=2, seed=e, progress=False)
        write_experiment(root, e, params, fovs)
    return root


def _files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "run.json"}


def test_library_and_cli_write_the_same_folder_run(andi_dir, tmp_path):
    run = predict_folder(andi_dir, model="classical")
    run.write(tmp_path / "lib")
    assert main(["predict", str(andi_dir), "--out", str(tmp_path / "cli"), "--model", "classical", "--no-progress"]) == 0
    lib, cli = _files(tmp_path / "lib"), _files(tmp_path / "cli")
    assert sorted(lib) == sorted(cli) and all(lib[k] == cli[k] for k in lib)
    assert {"segments.csv", "frames.csv", "track_2/exp_1/fov_1.txt", "track_2/exp_0/ensemble_labels.txt"} <= set(lib)
    assert set(run.ensembles()) == {0, 1} and all(m.shape[0] == 5 for m in run.ensembles().values())
    seg = run.segments()
    assert list(seg.columns[:3]) == ["experiment", "fov", "track_id"] and len(seg) == run.n_segments


def test_library_and_cli_write_the_same_file_run(andi_dir, tmp_path):
    src = andi_dir / "track_2/exp_0/trajs_fov_1.csv"
    run = predict_file(src, model="classical", pixel_size=0.1, frame_interval=0.05, min_length=25)
    run.write(tmp_path / "lib", plots=True, max_plots=1)
    assert main(["predict", str(src), "--out", str(tmp_path / "cli"), "--model", "classical", "--pixel-size", "0.1",
                 "--frame-interval", "0.05", "--min-length", "25", "--plots", "--max-plots", "1", "--no-progress"]) == 0
    lib, cli = _files(tmp_path / "lib"), _files(tmp_path / "cli")
    assert sorted(lib) == sorted(cli)
    assert all(lib[k] == cli[k] for k in lib if k.endswith(".csv"))
    assert "track_2" not in {k.split("/")[0] for k in lib} and run.ensembles() == {}
    skipped = pd.read_csv(tmp_path / "lib/skipped_tracks.csv")
    assert len(skipped) == len(run.skipped) > 0 and (skipped["n_frames"] < 25).all()
    assert "K_um2_per_s_alpha" in run.segments() and run.record()["skipped_short"] == len(run.skipped)
    with pytest.raises(ValueError, match="challenge folder"):
        run.write_submission(tmp_path / "sub")


def test_options_a_method_cannot_honour_are_refused(andi_dir):
    src = andi_dir / "track_2/exp_0/trajs_fov_0.csv"
    for kw in ({"tta": True}, {"specialise": True}):
        with pytest.raises(UserError, match="classical"):
            predict_file(src, model="classical", **kw)


def test_counts(andi_dir):
    run = predict_folder(andi_dir, model="classical", min_length=20)
    seg = run.segments()
    assert run.n_tracks == seg.groupby(["experiment", "fov", "track_id"]).ngroups
    assert run.n_short == 0 and np.isfinite(seg["alpha"]).all()


def test_folder_batches_across_fovs_and_matches_the_single_file_path(andi_dir, tmp_path):
    """The FOVs of a folder are predicted in shared batches: every track gets exactly what it gets when the same
    tracks, in the same order, are one file."""
    from andimamba import andi2

    # pooling off: a folder pools per experiment, a file as one (tests/test_cli_predict.py tests that)
    run = predict_folder(andi_dir, model="bimamba", batch_size=16, pool=False)  # several batches, each mixing FOVs
    parts = []
    for e in (0, 1):
        for j in range(2):
            df = pd.read_csv(andi2.trajs_file(andi2.exp_dir(andi_dir, e), j))
            df["traj_idx"] = [f"{e}_{j}_{i}" for i in df["traj_idx"]]
            parts.append(df)
    single = tmp_path / "all.csv"
    pd.concat(parts).to_csv(single, index=False)
    one = predict_file(single, model="bimamba", batch_size=16, pool=False)
    flat = [r for res in run.results for r in res]
    assert len(flat) == len(one.results[0]) > 16
    for a, b in zip(flat, one.results[0]):
        assert a.T == b.T and np.array_equal(a.cps, b.cps)
        np.testing.assert_array_equal(a.alphas, b.alphas)
        if a.cp_prob is not None:
            np.testing.assert_array_equal(a.cp_prob, b.cp_prob)
