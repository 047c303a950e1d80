"""The resume state of a run: training-state round trip, RNG states as JSON, atomic commit, never unpickling."""

import json
import os

import numpy as np
import pytest
import torch

from andimamba import checkpoint as ckpt
from andimamba.nn.losses import andi_loss
from andimamba.nn.model import AnDiNet, tiny
from andimamba.train import state as tstate


def _step(model, opt, data):
    feats, log_s, lengths, targets, mask = data
    loss, _ = andi_loss(model.forward_features(feats, log_s, lengths), targets, mask)
    opt.zero_grad()
    loss.backward()
    opt.step()


pytestmark = pytest.mark.usefixtures("one_thread", "no_torch_load")  # tests/conftest.py


def test_train_state_round_trip_continues_identically(tmp_path, train_batch):
    data = train_batch
    torch.manual_seed(0)
    model = AnDiNet(tiny("bilstm"))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(2):
        _step(model, opt, data)
    tstate.save_train_state(tmp_path, model, opt, {"epoch": 3, "rng": tstate.get_rng_state()})
    mirror = json.loads((tmp_path / "train_state.json").read_text())
    assert mirror["epoch"] == 3 and "param_groups" in mirror["optimizer"]

    torch.manual_seed(123)  # different init: everything must come from the checkpoint
    model2 = AnDiNet(tiny("bilstm"))
    opt2 = torch.optim.Adam(model2.parameters(), lr=1e-2)
    record = tstate.load_train_state(tmp_path, model2, opt2)
    assert record["epoch"] == 3
    assert ckpt.weights_sha256(model2) == ckpt.weights_sha256(model)
    _step(model, opt, data)
    _step(model2, opt2, data)
    assert ckpt.weights_sha256(model2) == ckpt.weights_sha256(model)


def test_load_train_state_absent(tmp_path):
    model = AnDiNet(tiny("bilstm"))
    assert tstate.load_train_state(tmp_path, model) is None


def test_rng_state_round_trip():
    import random

    state = json.loads(json.dumps(tstate.get_rng_state()))  # survives JSON
    a = (torch.rand(3), np.random.rand(3), random.random())
    tstate.set_rng_state(state)
    b = (torch.rand(3), np.random.rand(3), random.random())
    assert torch.equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and a[2] == b[2]


def test_kill_during_save_leaves_previous_checkpoint(tmp_path, monkeypatch, train_batch):
    """A save interrupted at any os.replace leaves a loadable, self-consistent checkpoint and no temp file."""
    data = train_batch
    torch.manual_seed(0)
    model = AnDiNet(tiny("bilstm"))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    _step(model, opt, data)
    tstate.save_train_state(tmp_path, model, opt, {"epoch": 1})
    old_hash = ckpt.weights_sha256(model)
    _step(model, opt, data)

    real_replace = os.replace
    for fail_at in range(2):  # kill before the 1st replace (the commit) or the 2nd (the JSON mirror)
        calls = []

        def flaky(src, dst, _n=fail_at, _calls=calls):
            if len(_calls) == _n:
                raise KeyboardInterrupt("simulated kill")
            _calls.append(dst)
            return real_replace(src, dst)

        monkeypatch.setattr(os, "replace", flaky)
        with pytest.raises(KeyboardInterrupt):
            tstate.save_train_state(tmp_path, model, opt, {"epoch": 2})
        monkeypatch.setattr(os, "replace", real_replace)
        assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
        fresh = AnDiNet(tiny("bilstm"))
        record = tstate.load_train_state(tmp_path, fresh, torch.optim.Adam(fresh.parameters()))
        expect = (1, old_hash) if fail_at == 0 else (2, ckpt.weights_sha256(model))
        assert (record["epoch"], ckpt.weights_sha256(fresh)) == expect
