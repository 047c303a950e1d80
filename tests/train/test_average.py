"""Weight averaging (andimamba.train.average) and the ``andimamba average`` command."""

import json

import pytest
import torch

from andimamba.checkpoint import load_checkpoint, save_model, write_segmenter
from andimamba.cli import main
from andimamba.errors import UserError
from andimamba.nn.model import AnDiNet, tiny
from andimamba.segments import SegmenterConfig
from andimamba.train.average import average_checkpoints


def _run(path, arch="bimamba", seed=0, train=None, **kw):
    torch.manual_seed(seed)
    net = AnDiNet(tiny(arch, **kw))
    path.mkdir()
    save_model(net, path, train_config=train)
    return net


def test_weighted_mean_of_every_parameter(tmp_path):
    a = _run(tmp_path / "a", seed=0, train={"seed": 1, "init_from": str(tmp_path / "parent")})
    b = _run(tmp_path / "b", seed=1)
    write_segmenter(tmp_path / "a", SegmenterConfig(cp_threshold=0.9))  # tuned ingredient: the mean is not
    out = average_checkpoints([tmp_path / "a", tmp_path / "b"], tmp_path / "soup", weights=[3, 1])
    ck = load_checkpoint(out)
    sa, sb = a.state_dict(), b.state_dict()
    for name, t in ck.model.state_dict().items():
        torch.testing.assert_close(t, 0.75 * sa[name] + 0.25 * sb[name], msg=name)
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["segmenter"] is None and cfg["train"] is None and not ck.segmenter_tuned
    assert [(r["name"], r["weight"]) for r in cfg["average"]["of"]] == [("a", 0.75), ("b", 0.25)]
    assert cfg["average"]["of"][0]["train"]["init_from"] == {"name": "parent"}  # no machine path
    assert str(tmp_path) not in (out / "config.json").read_text()
    # equal weights by default; a soup is itself an ingredient
    again = average_checkpoints([tmp_path / "a", tmp_path / "b"], tmp_path / "soup2")
    for name, t in load_checkpoint(again).model.state_dict().items():
        torch.testing.assert_close(t, 0.5 * (sa[name] + sb[name]), msg=name)
    nested = average_checkpoints([out, again], tmp_path / "soup3")
    assert json.loads((nested / "config.json").read_text())["average"]["of"][0]["average"]["of"][1]["name"] == "b"


def test_refuses_what_cannot_be_averaged(tmp_path):
    _run(tmp_path / "a")
    _run(tmp_path / "l", arch="bilstm")
    _run(tmp_path / "a2", seed=3)
    with pytest.raises(UserError, match="architecture"):
        average_checkpoints([tmp_path / "a", tmp_path / "l"], tmp_path / "x")
    with pytest.raises(UserError, match="at least two"):
        average_checkpoints([tmp_path / "a"], tmp_path / "x")
    with pytest.raises(UserError, match="1 weights for 2 checkpoints: give one per checkpoint in weights="):
        average_checkpoints([tmp_path / "a", tmp_path / "a2"], tmp_path / "x", weights=[1])
    with pytest.raises(UserError, match="non-negative numbers with a positive sum in weights="):
        average_checkpoints([tmp_path / "a", tmp_path / "a2"], tmp_path / "x", weights=[1, -1])
    assert not (tmp_path / "x").exists()  # nothing written on a refusal
    with pytest.raises(UserError, match="already holds a checkpoint; choose another out=... or pass overwrite=True"):
        average_checkpoints([tmp_path / "a", tmp_path / "a2"], tmp_path / "a")
    average_checkpoints([tmp_path / "a", tmp_path / "a2"], tmp_path / "a2", overwrite=True)


def test_command(tmp_path, capsys):
    _run(tmp_path / "a")
    _run(tmp_path / "b", seed=2)
    assert main(["average", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "s"), "--weights", "1", "1"]) == 0
    assert "tune-segmenter" in capsys.readouterr().out
    assert load_checkpoint(tmp_path / "s").model is not None
    assert main(["average", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--overwrite" in err[0]
