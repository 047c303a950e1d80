"""Training loop: it learns, it writes the run, it refuses to clobber, and a SIGKILLed run resumes exactly."""

import csv
import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from andimamba.batch import TrackBatch
from andimamba.checkpoint import load_model, weights_sha256
from andimamba.cli import main
from andimamba.nn.model import AnDiNet, tiny
from andimamba.sim.dataset import TrainingStream, save_shard
from andimamba.train import (
    METRIC_COLUMNS,
    ShardSet,
    TrainConfig,
    pin_threads,
    stream_batches,
    train,
    train_step,
)


def _cfg(**kw):
    base = dict(model=tiny("bimamba"), batch_size=16, epochs=3, steps_per_epoch=3, n_val=200, num_threads=1,
                boxes_per_call=2, seed=3, val_seed=5)  # fmt: skip
    return TrainConfig(**{**base, **kw})


def _rows(path):
    with open(path / "metrics.csv", newline="") as f:
        return list(csv.reader(f))


@pytest.mark.parametrize("arch", ["bimamba", "bilstm"])
def test_overfits_a_fixed_batch(arch):
    cfg = _cfg(model=tiny(arch), lr=1e-2)
    full = next(stream_batches(cfg, epoch=0, rank=0, skip=0))
    l = 50  # short tracks keep the test fast
    batch = TrackBatch(lengths=np.minimum(full.lengths, l), **{k: getattr(full, k)[:, :l] for k in ("positions", "alpha", "K", "state", "cp")})
    torch.manual_seed(0)
    model = AnDiNet(cfg.model)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    cw = torch.ones(4)
    threads = torch.get_num_threads()
    pin_threads(1, cfg.model, torch.device("cpu"))  # one torch thread, numba's OpenMP pool started first
    try:
        losses = [train_step(model, opt, batch, cw, cfg, torch.device("cpu"), (0, s)) for s in range(30)]
    finally:
        torch.set_num_threads(threads)
    assert np.mean(losses[-5:]) < 0.6 * np.mean(losses[:3]), losses


def test_streams_differ_by_rank_and_epoch_and_repeat():
    cfg = _cfg()
    first = lambda e, r: next(stream_batches(cfg, e, r, 0)).positions  # noqa: E731
    a = first(0, 0)
    assert np.array_equal(a, first(0, 0))
    assert not np.array_equal(a, first(0, 1)) and not np.array_equal(a, first(1, 0))


def test_shards_pass_is_a_permutation_split_over_ranks(tmp_path):
    stream = TrainingStream(20, seed=1, boxes_per_call=2)
    for i in range(2):
        save_shard(next(stream), tmp_path / f"s{i}.npz")
    shards = ShardSet(tmp_path)
    assert len(shards) == 40
    cfg = _cfg(batch_size=5, shards=str(tmp_path), steps_per_epoch=0)
    key = {tuple(p.ravel()[:6]) for p in shards.data.positions}
    seen = []
    for rank in (0, 1):
        it = shards.batches(cfg, epoch=0, rank=rank, world=2, skip=0)
        seen += [tuple(p.ravel()[:6]) for _ in range(4) for p in next(it).positions]
    assert len(seen) == 40 and set(seen) == key  # 2 ranks x 4 steps x 5 = one pass, no repeat


def test_cli_run_writes_files_and_refuses_to_clobber(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["train", "--out", str(out), "--config", "tiny", "--arch", "bilstm", "--epochs", "2",
            "--steps-per-epoch", "2", "--batch-size", "8", "--n-val", "100", "--threads", "1", "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    rows = _rows(out)
    assert tuple(rows[0]) == METRIC_COLUMNS and len(rows) == 3
    assert [r[:2] for r in rows[1:]] == [["1", "2"], ["2", "4"]]
    assert all(np.isfinite(float(x)) for r in rows[1:] for x in r)
    config = json.loads((out / "config.json").read_text())
    assert config["model"]["arch"] == "bilstm" and config["train"]["n_val"] == 100
    model = load_model(out)
    assert model.config.arch == "bilstm"
    pred = model.predict(next(TrainingStream(4, seed=0, boxes_per_call=1)))
    assert pred["alpha"].shape[0] == 4

    capsys.readouterr()
    assert main(argv) == 2  # refuses to overwrite
    err = capsys.readouterr().err.strip()
    assert "not empty" in err and "--resume" in err and len(err.splitlines()) == 1
    assert main(argv[:-1] + ["--resume", "--lr", "0.5"]) == 2  # a different run cannot resume this one
    assert "cannot resume" in capsys.readouterr().err
    assert main(["train", "--out", str(tmp_path / "nothing"), "--resume"]) == 2

    png = tmp_path / "fig3.png"
    assert main(["plot-curves", str(out), str(out), "--out", str(png)]) == 0
    assert png.stat().st_size > 1000


def test_shards_training(tmp_path):
    stream = TrainingStream(24, seed=2, boxes_per_call=2)
    (tmp_path / "shards").mkdir()
    for i in range(2):
        save_shard(next(stream), tmp_path / "shards" / f"part{i}.npz")
    cfg = _cfg(model=tiny("bilstm"), epochs=1, steps_per_epoch=0, shards=str(tmp_path / "shards"), n_val=50)
    train(cfg, tmp_path / "run", progress=False)
    assert _rows(tmp_path / "run")[1][:2] == ["1", "3"]  # 48 tracks // 16 = 3 steps
    # the checkpoint names the shard set, not the machine's folder, and records the training length as the window
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["train"]["shards"] == {"name": "shards", "files": 2} and str(tmp_path) not in json.dumps(config)
    assert config["window"] == ShardSet(tmp_path / "shards").length and "model" not in config["train"]
    # resuming finds the folder in run_paths.json; moved shards of the same name and size resume with --shards
    argv = ["train", "--out", str(tmp_path / "run"), "--resume", "--epochs", "2", "--no-progress"]
    assert main(argv) == 0 and len(_rows(tmp_path / "run")) == 3
    (tmp_path / "moved").mkdir()
    (tmp_path / "shards").rename(tmp_path / "moved" / "shards")
    (tmp_path / "run" / "run_paths.json").unlink()  # as in a run folder copied from another machine
    assert main(argv[:-2] + ["3", "--no-progress"]) == 2  # the folder is unknown here: the error says to pass --shards
    assert main(argv[:-2] + ["3", "--shards", str(tmp_path / "moved" / "shards"), "--no-progress"]) == 0
    assert len(_rows(tmp_path / "run")) == 4


def test_stream_run_records_the_simulated_length_as_window(tmp_path):
    from andimamba.checkpoint import load_checkpoint, write_segmenter
    from andimamba.segments import SegmenterConfig

    cfg = _cfg(epochs=1, steps_per_epoch=1, n_val=20)
    train(cfg, tmp_path / "run", progress=False)
    ck = load_checkpoint(tmp_path / "run")
    assert ck.window == 200 and not ck.segmenter_tuned and ck.train["n_val"] == 20 and ck.train["shards"] is None
    # a tuned segmenter survives a resume that changes nothing, and is dropped when the weights change
    write_segmenter(tmp_path / "run", SegmenterConfig(cp_threshold=0.9), {"seed": 1})
    train(cfg, tmp_path / "run", resume=True, progress=False)
    assert load_checkpoint(tmp_path / "run").segmenter == SegmenterConfig(cp_threshold=0.9)
    train(_cfg(epochs=2, steps_per_epoch=1, n_val=20), tmp_path / "run", resume=True, progress=False)
    assert not load_checkpoint(tmp_path / "run").segmenter_tuned


_LAUNCH = "import json, sys; from andimamba.train import TrainConfig, train; train(TrainConfig.from_dict(json.loads(sys.argv[1])), sys.argv[2], progress=False)"


def test_sigkilled_run_resumes_to_the_same_metrics(tmp_path):
    """Kill a run (SIGKILL, mid-epoch, at whatever it is doing) and resume: the same weights, bit for bit."""
    cfg = _cfg(checkpoint_every=1)
    # the uninterrupted reference runs in a fresh process too, like the killed and the resumed one: the test is about
    # resuming, not about the thread settings earlier tests left in this process
    subprocess.run([sys.executable, "-c", _LAUNCH, json.dumps(cfg.to_dict()), str(tmp_path / "a")], check=True)
    ref = load_model(tmp_path / "a")

    run = tmp_path / "b"
    proc = subprocess.Popen([sys.executable, "-c", _LAUNCH, json.dumps(cfg.to_dict()), str(run)])
    state = run / "train_state.json"
    try:
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            try:
                if json.loads(state.read_text())["step"] >= 4:  # in epoch 2, one step in
                    break
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(30)
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert len(_rows(run)) < 4  # it really was interrupted

    rc = subprocess.run([sys.executable, "-m", "andimamba.cli", "train", "--out", str(run), "--resume", "--no-progress"])
    assert rc.returncode == 0
    a, b = _rows(tmp_path / "a"), _rows(run)
    assert len(a) == 4
    # training is bit-exact (weights hash, epoch, step, training loss); the validation metrics are allowed the last
    # float32 bits: a vectorised reduction's rounding can depend on where the allocator put the tensors
    assert [r[:3] for r in a] == [r[:3] for r in b]
    for ra, rb in zip(a[1:], b[1:]):
        np.testing.assert_allclose(np.array(ra[3:-1], float), np.array(rb[3:-1], float), rtol=1e-6, atol=0)
    assert weights_sha256(load_model(run)) == weights_sha256(ref)


def test_cosine_schedule_runs_from_lr_to_the_floor():
    from andimamba.train import learning_rate

    cfg = _cfg(lr=1e-3, lr_schedule="cosine", lr_min_ratio=0.1)
    lrs = [learning_rate(cfg, s, 11) for s in range(11)]
    assert lrs[0] == pytest.approx(1e-3) and lrs[-1] == pytest.approx(1e-4) and lrs[5] == pytest.approx(5.5e-4)
    assert all(a >= b for a, b in zip(lrs, lrs[1:]))
    assert learning_rate(_cfg(lr=2e-3), 7, 11) == 2e-3  # constant by default
    with pytest.raises(ValueError, match="lr_schedule"):
        _cfg(lr_schedule="linear")


def test_init_from_starts_from_the_given_weights(tmp_path):
    from andimamba.checkpoint import save_model

    torch.manual_seed(42)
    src = AnDiNet(tiny("bimamba"))
    (tmp_path / "src").mkdir()
    save_model(src, tmp_path / "src")
    model = train(_cfg(epochs=1, steps_per_epoch=1, lr=1e-9, init_from=str(tmp_path / "src")), tmp_path / "run", progress=False)
    fresh = AnDiNet(tiny("bimamba"))  # what a run without init_from starts from (seed 3)
    for (name, a), b, c in zip(model.state_dict().items(), src.state_dict().values(), fresh.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6), name
    assert any(not torch.allclose(b, c) for b, c in zip(src.state_dict().values(), fresh.state_dict().values()))
    with pytest.raises(ValueError, match="differs in"):
        train(_cfg(model=tiny("bilstm"), init_from=str(tmp_path / "src")), tmp_path / "run2", progress=False)


def test_cli_offers_every_prior_the_simulator_has():
    """`train --prior` spells its choices out (the parser must not import the simulator, for start-up): they must be
    the simulator's PRIORS, no more and no fewer."""
    from andimamba.cli import build_parser
    from andimamba.sim.dataset import PRIORS

    parser = build_parser(["train"])
    train = next(a for a in parser._subparsers._group_actions[0].choices["train"]._actions if "--prior" in a.option_strings)
    assert set(train.choices) == set(PRIORS)


def test_cli_cp_sigma_is_recorded_and_checked(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["train", "--out", str(out), "--config", "tiny", "--epochs", "1", "--steps-per-epoch", "1",
            "--batch-size", "4", "--n-val", "20", "--threads", "1", "--no-progress"]  # fmt: skip
    assert main(argv + ["--cp-sigma", "0.7"]) == 0
    assert json.loads((out / "config.json").read_text())["train"]["loss"]["cp_sigma"] == 0.7
    assert main(argv[:2] + [str(tmp_path / "ign")] + argv[3:] + ["--cp-ignore", "2"]) == 0
    assert json.loads((tmp_path / "ign" / "config.json").read_text())["train"]["loss"]["cp_ignore"] == 2
    capsys.readouterr()
    assert main(argv[:2] + [str(tmp_path / "bad")] + argv[3:] + ["--cp-sigma", "-1"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--cp-sigma" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "bad").exists()
