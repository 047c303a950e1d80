"""End-to-end `andimamba predict` / `score` on simulated data, and one test per bad-input case."""

import numpy as np
import pytest
import torch

from andimamba.checkpoint import save_model
from andimamba.cli import main
from andimamba.nn.model import AnDiNet, tiny
from andimamba.sim.experiment import simulate_experiment
from andimamba.sim.layout import write_experiment


@pytest.fixture(scope="module")
def andi_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("ref")
    for e, m in enumerate(("multi_state", "confinement")):
        params, fovs = simulate_experiment(m, n_fovs=2, seed=e, progress=False)
        write_experiment(root, e, params, fovs)
    return root


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    d = tmp_path_factory.mktemp("model")
    torch.manual_seed(0)
    save_model(AnDiNet(tiny("bimamba")), d)
    return d


def _one_line_error(capsys, *needles):
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    for n in needles:
        assert n in err, err
    return err


def test_predict_andi_folder_then_score(andi_dir, tiny_model, tmp_path, capsys):
    out = tmp_path / "sub"
    assert main(["predict", str(andi_dir), "--out", str(out), "--model", str(tiny_model), "--no-progress"]) == 0
    for e in (0, 1):
        for j in (0, 1):
            lines = (out / f"track_2/exp_{e}/fov_{j}.txt").read_text().splitlines()
            ref = (andi_dir / f"track_2/exp_{e}/traj_labs_fov_{j}.txt").read_text().splitlines()
            assert len(lines) == len(ref)
            assert all(len(l.split(",")) % 4 == 1 for l in lines)
        assert (out / f"track_2/exp_{e}/ensemble_labels.txt").read_text().startswith("model:")
    assert (out / "segments.csv").is_file() and (out / "frames.csv").is_file()
    capsys.readouterr()
    assert main(["score", str(out), str(andi_dir)]) == 0
    text = capsys.readouterr().out
    assert "overall" in text and "JSC" in text


def test_predict_single_file_with_units_plots_and_tta(andi_dir, tiny_model, tmp_path):
    src = andi_dir / "track_2/exp_0/trajs_fov_0.csv"
    out = tmp_path / "o"
    assert main(["predict", str(src), "--out", str(out), "--model", str(tiny_model), "--pixel-size", "0.1", "--frame-interval", "0.05",
                 "--plots", "--max-plots", "2", "--tta", "--no-progress"]) == 0
    import pandas as pd

    seg = pd.read_csv(out / "segments.csv")
    assert {"alpha", "K_px2_per_frame_alpha", "K_um2_per_s_alpha", "state_name"} <= set(seg.columns)
    assert np.allclose(seg.K_um2_per_s_alpha, seg.K_px2_per_frame_alpha * 0.01 / 0.05**seg.alpha, rtol=1e-6)
    assert (out / "plots/alpha_logK_map.png").stat().st_size > 1000
    assert len(list((out / "plots").glob("track_*.png"))) == 2


def test_predict_preloads_the_compiled_kernels(andi_dir, tiny_model, tmp_path, monkeypatch):
    """The command starts loading (on a fresh install: compiling) the network's, the table writer's and the pooling's
    kernels before it reads the input, as the library's pipeline does (the first predict after install waits less)."""
    from andimamba import mixture_em
    from andimamba.io import _csv_kernels
    from andimamba.predict import Predictor

    calls = []

    def preload(self, after=()):
        calls.append("network")
        assert len(after) == 2  # the writer's and the pooling's compiles queued behind the features', not at once
        for load in after:
            load()  # each imports its kernel module in the loader's thread, then loads

    monkeypatch.setattr(Predictor, "preload", preload)
    monkeypatch.setattr(_csv_kernels, "preload", lambda: calls.append("writer"))
    monkeypatch.setattr(mixture_em, "preload", lambda: calls.append("pooling"))
    src = andi_dir / "track_2/exp_0/trajs_fov_0.csv"
    assert main(["predict", str(src), "--out", str(tmp_path / "o"), "--model", str(tiny_model), "--no-progress"]) == 0
    assert calls.count("network") == 1 and set(calls) == {"network", "writer", "pooling"}  # each checks it again itself


def test_classical_model_runs(andi_dir, tmp_path):
    assert main(["predict", str(andi_dir / "track_2/exp_1/trajs_fov_1.csv"), "--out", str(tmp_path / "c"), "--model", "classical", "--no-progress"]) == 0


def _csv(tmp_path, text, name="t.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def _walk_rows(n=25, tid=0, start=0):
    rng = np.random.default_rng(tid)
    xy = np.cumsum(rng.normal(size=(n, 2)), 0)
    return "".join(f"{tid},{start + i},{x:.4f},{y:.4f}\n" for i, (x, y) in enumerate(xy))


@pytest.mark.parametrize(
    "content, needles",
    [
        ("traj_idx,frame,x\n0,0,1.0\n", ["t.csv", "found columns traj_idx, frame, x"]),
        ("traj_idx,frame,x,y\n" + _walk_rows()[:-1] + "\n0,25,abc,1.0\n", ["t.csv", "line 27"]),
        ("traj_idx,frame,x,y\n" + _walk_rows() + "0,25,nan,1.0\n", ["t.csv", "line 27"]),
        ("traj_idx,frame,x,y\n" + _walk_rows() + "0,25,inf,1.0\n", ["t.csv", "line 27"]),
        ("traj_idx,frame,x,y\n" + _walk_rows() + "0,24,1.0,1.0\n", ["t.csv", "duplicate"]),
        ("", ["t.csv", "empty"]),
        ("traj_idx,frame,x,y\n" + _walk_rows(n=4), ["t.csv", "6"]),
    ],
    ids=["missing-column", "non-numeric", "nan", "inf", "duplicate-frame", "empty-file", "all-too-short"],
)
def test_bad_input_one_line_error_nothing_written(tmp_path, capsys, content, needles):
    src = _csv(tmp_path, content)
    out = tmp_path / "out"
    assert main(["predict", str(src), "--out", str(out), "--model", "classical", "--no-progress"]) == 2
    _one_line_error(capsys, *needles)
    assert not out.exists() or not any(out.iterdir())


def test_missing_column_with_explicit_format(tmp_path, capsys):
    src = _csv(tmp_path, "traj_idx,frame,x\n0,0,1.0\n")
    assert main(["predict", str(src), "--out", str(tmp_path / "o"), "--format", "andi", "--model", "classical", "--no-progress"]) == 2
    _one_line_error(capsys, "t.csv", "y")


def test_short_tracks_are_reported_and_skipped(tmp_path, capsys):
    src = _csv(tmp_path, "traj_idx,frame,x,y\n" + _walk_rows(30, 0) + _walk_rows(4, 1))
    out = tmp_path / "out"
    assert main(["predict", str(src), "--out", str(out), "--model", "classical", "--no-progress"]) == 0
    assert "skipped 1 track" in capsys.readouterr().err
    assert "1,4" in (out / "skipped_tracks.csv").read_text()


def test_short_tracks_get_the_short_regime(tiny_model, tmp_path, capsys):
    import json

    import pandas as pd

    src = _csv(tmp_path, "traj_idx,frame,x,y\n" + _walk_rows(30, 0) + _walk_rows(12, 1) + _walk_rows(6, 2) + _walk_rows(5, 3))
    out = tmp_path / "out"
    assert main(["predict", str(src), "--out", str(out), "--model", str(tiny_model), "--no-progress"]) == 0
    cap = capsys.readouterr()
    assert "3 tracks (1 full with change points, 2 short)" in cap.out and "skipped 1 track" in cap.err
    seg = pd.read_csv(out / "segments.csv")
    short = seg[seg.regime == "short"]
    assert sorted(short.track_id) == [1, 2] and (short.segment == 0).all() and set(seg[seg.track_id == 0].regime) == {"full"}
    assert np.isfinite(short.alpha).all() and (short.K_px2_per_frame_alpha > 0).all()
    fr = pd.read_csv(out / "frames.csv")
    assert len(fr[fr.track_id == 1]) == 12 and fr.loc[fr.track_id == 1, "cp_prob"].isna().all()
    assert json.loads((out / "run.json").read_text())["tracks_short"] == 2
    assert (out / "track_2").exists() is False  # single file: no submission layout
    out2 = tmp_path / "out2"
    assert main(["predict", str(src), "--out", str(out2), "--model", "classical", "--min-length", "20", "--no-progress"]) == 0
    assert set(pd.read_csv(out2 / "segments.csv").regime) == {"full"}
    assert main(["predict", str(src), "--out", str(tmp_path / "o3"), "--model", "classical", "--min-length", "2", "--no-progress"]) == 2


def test_wrong_format_and_unreadable_model(tmp_path, capsys, tiny_model):
    src = _csv(tmp_path, "traj_idx,frame,x,y\n" + _walk_rows(30))
    assert main(["predict", str(src), "--out", str(tmp_path / "o1"), "--format", "trackpy", "--model", "classical", "--no-progress"]) == 2
    _one_line_error(capsys, "t.csv")
    bad = tmp_path / "badmodel"
    bad.mkdir()
    (bad / "config.json").write_text((tiny_model / "config.json").read_text())
    (bad / "model.safetensors").write_bytes(b"not a safetensors file")
    assert main(["predict", str(src), "--out", str(tmp_path / "o2"), "--model", str(bad), "--no-progress"]) == 2
    _one_line_error(capsys, "badmodel")
    assert main(["predict", str(src), "--out", str(tmp_path / "o3"), "--model", "no-such-model", "--no-progress"]) == 2
    _one_line_error(capsys, "no-such-model")
    assert not (tmp_path / "o2").exists() and not (tmp_path / "o3").exists()


def test_overwrite_replaces_the_whole_previous_run(andi_dir, tiny_model, tmp_path):
    src = str(andi_dir / "track_2/exp_0/trajs_fov_0.csv")
    out = tmp_path / "o"
    assert main(["predict", src, "--out", str(out), "--model", str(tiny_model), "--plots", "--max-plots", "1", "--no-progress"]) == 0
    assert (out / "plots").is_dir() and (out / "run.json").is_file()
    assert main(["predict", src, "--out", str(out), "--model", "classical", "--no-frames", "--no-progress"]) == 2  # not empty
    assert main(["predict", src, "--out", str(out), "--model", "classical", "--no-frames", "--overwrite", "--no-progress"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["run.json", "segments.csv"]  # no stale plots or frames.csv
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]  # no staging folders left beside it


def test_overwrite_never_deletes_the_users_files(andi_dir, tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("precious")
    src = str(andi_dir / "track_2/exp_0/trajs_fov_0.csv")
    assert main(["predict", src, "--out", str(out), "--model", "classical", "--overwrite", "--no-progress"]) == 2
    _one_line_error(capsys, "notes.txt", "--out")
    assert (out / "notes.txt").read_text() == "precious" and len(list(out.iterdir())) == 1


@pytest.mark.parametrize(
    "extra, needle",
    [
        (["--batch-size", "-1"], "--batch-size"),
        (["--batch-size", "0"], "--batch-size"),
        (["--threads", "-1"], "--threads"),
        (["--window", "-1"], "--window"),
        (["--window", "5"], "--window"),
        (["--max-plots", "-1"], "--max-plots"),
        (["--min-length", "0"], "--min-length"),
        (["--pixel-size", "-0.1"], "--pixel-size"),
        (["--pixel-size", "nan"], "--pixel-size"),
        (["--frame-interval", "0"], "--frame-interval"),
        (["--tta", "--model", "classical"], "--tta"),
    ],
)
@pytest.mark.parametrize("folder", [False, True], ids=["file", "folder"])
def test_bad_options_one_line_error_before_any_work(andi_dir, tmp_path, capsys, extra, needle, folder):
    src = str(andi_dir if folder else andi_dir / "track_2/exp_0/trajs_fov_0.csv")
    out = tmp_path / "o"
    argv = ["predict", src, "--out", str(out), "--no-progress"] + extra
    if "--model" not in extra:
        argv += ["--model", "classical"]
    assert main(argv) == 2
    _one_line_error(capsys, needle)
    assert not out.exists()


def test_out_that_is_a_file_or_under_a_file(andi_dir, tmp_path, capsys):
    f = tmp_path / "f.txt"
    f.write_text("x")
    src = str(andi_dir / "track_2/exp_0/trajs_fov_0.csv")
    for out in (f, f / "sub"):
        assert main(["predict", src, "--out", str(out), "--model", "classical", "--no-progress"]) == 2
        _one_line_error(capsys, "--out")
    assert f.read_text() == "x"


def test_folder_plots_per_experiment_and_overall(andi_dir, tiny_model, tmp_path):
    out = tmp_path / "o"
    assert main(["predict", str(andi_dir), "--out", str(out), "--model", str(tiny_model), "--plots", "--max-plots", "3", "--no-progress"]) == 0
    names = sorted(p.name for p in (out / "plots").iterdir())
    assert {"alpha_logK_map.png", "alpha_logK_map_exp_0.png", "alpha_logK_map_exp_1.png"} <= set(names)
    assert len([n for n in names if n.startswith("track_exp")]) == 3


def test_specialise_runs_per_experiment(andi_dir, tiny_model, tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["predict", str(andi_dir), "--out", str(out), "--model", str(tiny_model), "--specialise", "--specialise-steps", "1",
                 "--no-frames", "--no-progress"]) == 0
    assert "+specialised" in capsys.readouterr().out
    assert (out / "track_2/exp_1/fov_1.txt").is_file()
    assert main(["predict", str(andi_dir), "--out", str(tmp_path / "o2"), "--model", "classical", "--specialise"]) == 2
    _one_line_error(capsys, "--specialise")


def _tidy_rows(header, rows_fn, n_tracks=2, n=25):
    return header + "\n" + "".join(rows_fn(t, i, x, y) for t in range(n_tracks)
                                   for i, (x, y) in enumerate(np.cumsum(np.random.default_rng(t).normal(size=(n, 2)), 0)))


def test_cli_columns_units_and_fixes_spelled_as_flags(tmp_path, capsys):
    odd = _csv(tmp_path, _tidy_rows("TID,FR,PX,PY", lambda t, i, x, y: f"{t},{i},{x:.4f},{y:.4f}\n"), "odd.csv")
    assert main(["predict", str(odd), "--out", str(tmp_path / "o1"), "--model", "classical", "--no-progress"]) == 2
    err = _one_line_error(capsys, "odd.csv", "--columns")
    assert "columns=" not in err  # the CLI user is told the CLI flag, not the Python keyword
    assert not (tmp_path / "o1").exists()
    assert main(["predict", str(odd), "--out", str(tmp_path / "o2"), "--model", "classical", "--no-progress",
                 "--columns", "track=TID,frame=FR,x=PX,y=PY"]) == 0
    assert "read " in capsys.readouterr().err  # what was read is reported
    assert main(["predict", str(odd), "--out", str(tmp_path / "o3"), "--model", "classical", "--no-progress", "--columns", "track"]) == 2
    _one_line_error(capsys, "--columns")

    nm = _csv(tmp_path, _tidy_rows('"id","frame","x [nm]","y [nm]","track_id"', lambda t, i, x, y: f"{t * 100 + i},{i},{x * 160:.2f},{y * 160:.2f},{t}\n"), "nm.csv")
    assert main(["predict", str(nm), "--out", str(tmp_path / "o4"), "--model", "classical", "--no-progress"]) == 2
    _one_line_error(capsys, "nm.csv", "--pixel-size")
    assert main(["predict", str(nm), "--out", str(tmp_path / "o5"), "--model", "classical", "--no-progress", "--pixel-size", "0.16"]) == 0
    import pandas as pd

    fr = pd.read_csv(tmp_path / "o5" / "frames.csv")
    ref = np.cumsum(np.random.default_rng(0).normal(size=(25, 2)), 0)
    assert np.allclose(fr.loc[fr.track_id == 0, ["x_px", "y_px"]].to_numpy(), ref, atol=1e-3)  # nm -> px with the pixel size

    quot = _csv(tmp_path, _tidy_rows("y,x,frame,trajectory,loc_idx", lambda t, i, x, y: f"{y:.4f},{x:.4f},{i},{t},{i}\n"), "quot.csv")
    assert main(["predict", str(quot), "--out", str(tmp_path / "o6"), "--model", "classical", "--no-progress"]) == 0


def test_cli_ragged_row_is_refused_with_its_line(tmp_path, capsys):
    src = _csv(tmp_path, "traj_idx,frame,x,y\n" + _walk_rows(30) + "0,30,45.03,48.91,1,2,3\n")
    assert main(["predict", str(src), "--out", str(tmp_path / "o"), "--model", "classical", "--no-progress"]) == 2
    _one_line_error(capsys, "t.csv", "line 32")
    assert not (tmp_path / "o").exists()


def test_challenge_folder_with_a_gap_names_file_and_line(tmp_path, capsys):
    exp = tmp_path / "f" / "track_2" / "exp_0"
    exp.mkdir(parents=True)
    (exp / "trajs_fov_0.csv").write_text("traj_idx,frame,x,y\n" + _walk_rows(30, 0) + _walk_rows(10, 1) + _walk_rows(20, 1, start=11))
    out = tmp_path / "o"
    assert main(["predict", str(tmp_path / "f"), "--out", str(out), "--model", "classical", "--no-progress"]) == 2
    _one_line_error(capsys, "trajs_fov_0.csv", "line 42", "gap")
    assert not out.exists()


def test_sigkill_during_overwrite_leaves_a_whole_run(andi_dir, tmp_path):
    """A predict killed at any moment leaves the previous run or the new one, never a mix; the next run cleans up."""
    import json
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "o"
    src = str(andi_dir)
    assert main(["predict", src, "--out", str(out), "--model", "classical", "--no-progress", "--plots", "--max-plots", "2"]) == 0
    old = json.loads((out / "run.json").read_text())
    cmd = [sys.executable, "-m", "andimamba.cli", "predict", src, "--out", str(out), "--model", "classical", "--no-progress",
           "--overwrite", "--min-length", "20"]
    for delay in (0.5, 2.0, 3.5, 5.0):
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
        if not out.exists():  # killed between the two renames: the next run puts the previous one back
            from andimamba.io.outdir import clean_leftovers

            clean_leftovers(out)
        run = json.loads((out / "run.json").read_text())
        assert run["min_length"] in (old["min_length"], 20)
        names = {q.name for q in out.iterdir()}
        assert {"segments.csv", "frames.csv", "track_2", "run.json"} <= names
        assert ("plots" in names) == (run["min_length"] == old["min_length"])  # the old run had plots, the new one not
        assert all(f.stat().st_size > 0 for f in out.rglob("*") if f.is_file())
    assert main(["predict", src, "--out", str(out), "--model", "classical", "--no-progress", "--overwrite"]) == 0
    assert sorted(q.name for q in tmp_path.iterdir()) == ["o"]  # leftovers of the killed runs removed


def test_every_format_the_help_names_is_accepted(tmp_path, capsys):
    from andimamba.cli import build_parser
    from andimamba.commands.predict import FORMAT_NAMES
    from andimamba.io import read_tracks

    parser = build_parser(["predict"])
    sub = next(a for a in parser._actions if a.dest == "command").choices["predict"]
    help_text = next(a for a in sub._actions if a.dest == "format").help
    src = _csv(tmp_path, "traj_idx,frame,x,y\n" + _walk_rows(30))
    for name in FORMAT_NAMES:
        assert name in help_text
        try:
            read_tracks(src, format=name)
        except Exception as exc:  # a mismatch with this AnDi file is fine; an unknown name is not
            assert "unknown" not in str(exc), (name, exc)


def test_a_bug_shows_its_traceback_and_asks_for_a_report(tmp_path, capsys, monkeypatch):
    import andimamba.pipeline

    def broken(*args, **kwargs):
        raise KeyError("internal")

    monkeypatch.setattr(andimamba.pipeline, "run_predictor", broken)
    src = _csv(tmp_path, "traj_idx,frame,x,y\n" + _walk_rows(30))
    assert main(["predict", str(src), "--out", str(tmp_path / "o"), "--model", "classical", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "KeyError" in err and "please report" in err
    assert not (tmp_path / "o").exists()  # nothing half-written


def test_specialised_pass_keeps_the_first_pass_change_points(andi_dir, tiny_model):
    from andimamba.pipeline import predict_folder

    plain = predict_folder(andi_dir, model=str(tiny_model))
    spec = predict_folder(andi_dir, model=str(tiny_model), specialise=True, specialise_steps=3)
    a = [r for res in plain.results for r in res]
    b = [r for res in spec.results for r in res]
    assert [r.track_id for r in a] == [r.track_id for r in b]
    assert all(np.array_equal(x.cps, y.cps) for x, y in zip(a, b))
    full = [(x, y) for x, y in zip(a, b) if x.regime == "full"]
    assert full and any(not np.allclose(x.alphas, y.alphas) for x, y in full)  # the values are the fine-tuned network's


def test_pooling_per_experiment_and_no_pool(andi_dir, tiny_model, tmp_path):
    import json
    import shutil

    import pandas as pd

    from andimamba.checkpoint import load_checkpoint, write_segmenter
    from andimamba.pipeline import predict_folder
    from andimamba.pooling import PoolingConfig, pool_alphas
    from andimamba.state_pooling import pool_states

    model = tmp_path / "calibrated"
    shutil.copytree(tiny_model, model)
    cal = PoolingConfig((0, 21, 81), (0.3, 0.2, 0.1), (0.4, 0.3, 0.2), min_segments=5)
    write_segmenter(model, load_checkpoint(model).segmenter, None, cal)
    for flag, out in (([], "pooled"), (["--no-pool"], "raw")):
        assert main(["predict", str(andi_dir), "--out", str(tmp_path / out), "--model", str(model), "--no-progress", *flag]) == 0
    pooled, raw = (pd.read_csv(tmp_path / d / "segments.csv") for d in ("pooled", "raw"))
    same = ["experiment", "fov", "track_id", "start_frame", "end_frame"]  # pooling leaves the change points
    pd.testing.assert_frame_equal(pooled[same], raw[same])
    kept = pooled.state == raw.state
    assert not kept.all() or not np.allclose(pooled.alpha, raw.alpha)  # pooling changed something
    np.testing.assert_array_equal(pooled.K_px2_per_frame_alpha[kept], raw.K_px2_per_frame_alpha[kept])  # K only moves with a state
    np.testing.assert_array_equal(pooled.alpha[(raw.regime == "short")], raw.alpha[(raw.regime == "short")])
    # the ensemble summary comes from the segments before their α was pooled, their states pooled
    run_p, run_raw = (predict_folder(andi_dir, model=str(model), pool=p) for p in (True, False))
    for before, after, raw_ in zip(run_p.alpha_unpooled, run_p.results, run_raw.results):
        for b, a, r in zip(before, after, raw_):
            np.testing.assert_array_equal(b.states, a.states)
            same = b.states == r.states
            np.testing.assert_array_equal(b.alphas[same], r.alphas[same])
    run_p.write(tmp_path / "api", frames=False)
    for e in (0, 1):  # the CLI wrote the same
        ens = f"track_2/exp_{e}/ensemble_labels.txt"
        assert (tmp_path / "pooled" / ens).read_bytes() == (tmp_path / "api" / ens).read_bytes()
    record, none = (json.loads((tmp_path / d / "run.json").read_text()) for d in ("pooled", "raw"))
    assert {r["experiment"] for r in record["pooled_states"]} == {0, 1} and none["pooled"] == none["pooled_states"] == []
    for r in record["pooled_states"]:  # each component's state mix over immobile, confined, mobile
        np.testing.assert_allclose(np.sum(r["state_mix"], axis=1), 1.0, rtol=1e-6)
        assert len(r["state_mix"]) == len(r["weights"]) == len(r["means"])
    # each experiment pooled on its own: the same as pooling that experiment's tracks alone
    run = predict_folder(andi_dir, model=str(model), pool=False)
    exp0 = [r for g, res in zip(run.groups, run.results) if g.experiment == 0 for r in res]
    seg = load_checkpoint(model).segmenter
    alone, _ = pool_alphas(pool_states(exp0, cal, seg)[0], cal)
    got = pooled[pooled.experiment == 0]
    np.testing.assert_allclose(got.alpha.to_numpy(), np.concatenate([r.alphas for r in alone]), rtol=1e-6)
    np.testing.assert_array_equal(got.state.to_numpy(), np.concatenate([r.states for r in alone]))
