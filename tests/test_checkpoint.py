"""Checkpoints: the config.json contract (each fact once, no machine paths, feature version, legacy layout), weights
round trip, never unpickling. The resume state: tests/train/test_state.py."""

import json
import os

import pytest
import torch

from andimamba import checkpoint as ckpt
from andimamba.nn.features import FEATURE_NAMES, FEATURE_VERSION
from andimamba.nn.model import AnDiNet, tiny
from andimamba.segments import SegmenterConfig


pytestmark = pytest.mark.usefixtures("one_thread", "no_torch_load")  # tests/conftest.py


@pytest.mark.parametrize("arch", ["bimamba", "bilstm"])
def test_model_round_trip_from_config_alone(tmp_path, arch, train_batch):
    torch.manual_seed(1)
    model = AnDiNet(tiny(arch, d_model=6)).eval()
    ckpt.save_model(model, tmp_path, train_config={"note": "x", "model": model.config.to_dict()}, window=150)
    cfg = json.loads((tmp_path / "config.json").read_text())
    assert cfg["model"]["arch"] == arch and cfg["model"]["d_model"] == 6 and "package_version" in cfg
    # each fact once: the model config only at the top, not in the training record nor in the weights
    assert cfg["train"] == {"note": "x"} and ckpt.read_metadata(tmp_path / "model.safetensors") == {}
    assert cfg["features"] == {"version": FEATURE_VERSION, "names": list(FEATURE_NAMES)} and cfg["window"] == 150
    loaded = ckpt.load_checkpoint(tmp_path)  # rebuilt from config.json alone
    assert loaded.window == 150 and loaded.segmenter == SegmenterConfig() and not loaded.segmenter_tuned
    feats, log_s, lengths, _, _ = train_batch
    with torch.no_grad():
        a, b = model.forward_features(feats, log_s, lengths), loaded.model.forward_features(feats, log_s, lengths)
    for k in a:
        assert torch.equal(a[k], b[k]), k
    # the weights file alone has no config any more
    alone = tmp_path / "alone"
    alone.mkdir()
    os.replace(tmp_path / "model.safetensors", alone / "model.safetensors")
    with pytest.raises(FileNotFoundError, match="config.json"):
        ckpt.load_model(alone / "model.safetensors")


def _legacy_folder(path, model, shards="/nowhere/shards_train"):
    """A run folder as written before the format-2 checkpoint: config three times, machine path, segmenter.json."""
    path.mkdir()
    meta = {"model_config": json.dumps(model.config.to_dict())}
    (path / "model.safetensors").write_bytes(ckpt.tensors_bytes(model.state_dict(), meta))
    train = {"model": model.config.to_dict(), "batch_size": 16, "shards": shards, "init_from": None}
    cfg = {"package_version": "0.1.0", "model": model.config.to_dict(), "train": train}
    (path / "config.json").write_text(json.dumps(cfg))
    (path / "segmenter.json").write_text(json.dumps({"cp_threshold": 0.7, "trim": 0, "tuning": {"seed": 1}}))


def test_legacy_layout_loads_and_is_rewritten_by_the_next_write(tmp_path):
    torch.manual_seed(2)
    model = AnDiNet(tiny("bilstm")).eval()
    old = tmp_path / "old"
    _legacy_folder(old, model)
    loaded = ckpt.load_checkpoint(old)
    assert ckpt.weights_sha256(loaded.model) == ckpt.weights_sha256(model)
    assert loaded.window == 200 and loaded.segmenter == SegmenterConfig(cp_threshold=0.7, trim=0) and loaded.segmenter_tuned
    assert loaded.train["shards"] == "/nowhere/shards_train" and "model" not in loaded.train
    # the lone legacy weights file still rebuilds the model from its metadata
    assert ckpt.weights_sha256(ckpt.load_model(old / "model.safetensors")) == ckpt.weights_sha256(model)
    # recording a segmenter rewrites the folder in format 2: the path leaves config.json for run_paths.json
    ckpt.write_segmenter(old, SegmenterConfig(cp_threshold=0.6), {"seed": 9})
    cfg = json.loads((old / "config.json").read_text())
    assert cfg["format"] == ckpt.FORMAT and cfg["train"]["shards"] == {"name": "shards_train", "files": 0}
    assert "/nowhere" not in (old / "config.json").read_text() and not (old / "segmenter.json").exists()
    assert json.loads((old / ckpt.RUN_PATHS).read_text()) == {"shards": "/nowhere/shards_train"}
    assert ckpt.read_train_record(old)["shards"] == "/nowhere/shards_train"
    again = ckpt.load_checkpoint(old)
    assert again.segmenter == SegmenterConfig(cp_threshold=0.6) and again.config["segmenter"]["tuning"] == {"seed": 9}


def test_machine_paths_stay_out_of_config_json(tmp_path):
    shards = tmp_path / "my_shards"
    shards.mkdir()
    for i in range(3):
        (shards / f"s{i}.npz").write_bytes(b"")
    run = tmp_path / "run"
    run.mkdir()
    model = AnDiNet(tiny("bilstm"))
    ckpt.save_model(model, run, {"shards": str(shards), "init_from": str(tmp_path / "other_run"), "seed": 1})
    text = (run / "config.json").read_text()
    assert str(tmp_path) not in text
    assert json.loads(text)["train"] == {"shards": {"name": "my_shards", "files": 3}, "init_from": {"name": "other_run"}, "seed": 1}
    assert ckpt.read_train_record(run)["shards"] == str(shards)
    ckpt.save_model(model, run, {"init_from": "bimamba"})  # a shipped name is no path
    assert json.loads((run / "config.json").read_text())["train"] == {"init_from": "bimamba"}


def test_other_feature_version_is_refused(tmp_path):
    ckpt.save_model(AnDiNet(tiny("bilstm")), tmp_path)
    cfg = json.loads((tmp_path / "config.json").read_text())
    cfg["features"]["version"] = FEATURE_VERSION + 1
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="feature version") as err:
        ckpt.load_model(tmp_path)
    assert str(tmp_path) in str(err.value) and "retrain" in str(err.value) and "\n" not in str(err.value)
    cfg["features"] = {"version": FEATURE_VERSION, "names": list(FEATURE_NAMES[::-1])}  # same version, other channels
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="feature version"):
        ckpt.load_model(tmp_path)


def test_shipped_weights_hold_the_whole_contract():
    from andimamba.predict import resolve_model_path

    for name in ("bimamba", "bilstm"):
        path = resolve_model_path(name)
        text = (path / "config.json").read_text()
        assert not any(p in text for p in ("/work", "/tmp", "/root", "/home")) and not (path / "segmenter.json").exists()
        c = ckpt.load_checkpoint(path)
        assert c.window == 200 and c.segmenter_tuned and c.config["format"] == ckpt.FORMAT and "model" not in (c.train or {})
        # trained on the fly from earlier runs' weights (or averaged from such runs): no field may name a folder of
        # this machine
        runs = [c.train] if c.train is not None else [r["train"] for r in c.config["average"]["of"]]
        assert runs and all(isinstance(r, dict) for r in runs)
        for run in runs:
            init = run["init_from"]
            assert run["shards"] is None and set(init) == {"name"} and init["name"].startswith(f"{name}_")
            assert "/" not in init["name"] and "\\" not in init["name"]


def test_load_model_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        ckpt.load_model(tmp_path)
