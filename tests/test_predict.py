"""Predictor: batching, windows and TTA change nothing they should not; short tracks; the model registry."""

import numpy as np
import pytest
import torch

from andimamba.checkpoint import save_model
from andimamba.errors import ModelNotFoundError, UserError
from andimamba.io.tracks import Tracks
from andimamba.nn.model import AnDiNet, tiny
from andimamba.predict import Predictor, available_models, load_predictor


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return AnDiNet(tiny("bimamba")).eval()


def _tracks(lengths=(25, 60, 12, 130, 40, 7), seed=0) -> Tracks:
    rng = np.random.default_rng(seed)
    return Tracks.from_arrays({f"t{i}": np.cumsum(rng.normal(size=(n, 2)), 0) for i, n in enumerate(lengths)},
                              first_frames=[5 * i for i in range(len(lengths))])


def _same(a, b, atol=0.0):
    assert [r.track_id for r in a] == [r.track_id for r in b]
    for x, y in zip(a, b):
        assert x.regime == y.regime and x.first_frame == y.first_frame and x.T == y.T
        assert np.array_equal(x.cps, y.cps) and np.array_equal(x.states, y.states)
        np.testing.assert_allclose(x.alphas, y.alphas, atol=atol, rtol=0)
        np.testing.assert_allclose(x.Ks, y.Ks, atol=atol, rtol=atol)


def test_results_follow_track_order_and_regimes(net):
    tr = _tracks()
    res = Predictor(net, window=None).predict(tr)
    assert [r.track_id for r in res] == tr.ids
    assert [r.regime for r in res] == ["full", "full", "short", "full", "full", "short"]
    assert [r.first_frame for r in res] == tr.first_frames.tolist()
    assert all(r.alpha_frame is not None and len(r.alpha_frame) == r.T for r in res if r.regime == "full")


def test_batch_size_does_not_change_results(net):
    tr = _tracks()
    ref = Predictor(net, window=None, batch_size=512).predict(tr)
    _same(Predictor(net, window=None, batch_size=1).predict(tr), ref, atol=1e-5)


def test_a_window_longer_than_every_track_is_whole_tracks(net):
    tr = _tracks()
    _same(Predictor(net, window=500).predict(tr), Predictor(net, window=None).predict(tr))


def test_windows_cover_long_tracks(net):
    tr = _tracks(lengths=(130, 300))
    pred = Predictor(net, window=40)
    batch, _ = tr.to_batch()
    out = pred.frame_outputs(batch.positions, batch.lengths)
    assert out["alpha"].shape == (2, 300) and out["state_prob"].shape == (2, 300, 4)
    valid = np.arange(300)[None] < batch.lengths[:, None]
    assert np.isfinite(out["alpha"][valid]).all() and np.allclose(out["state_prob"][valid].sum(-1), 1, atol=1e-5)
    # a track shorter than the window gives the same outputs as on its own (windows never mix tracks)
    short = Tracks.from_arrays({"s": tr.data[tr.data.track_id == "t0"][["x", "y"]].to_numpy()[:35]})
    b1, _ = short.to_batch()
    alone = pred.frame_outputs(b1.positions, b1.lengths)
    mixed_batch, _ = Tracks.from_arrays([short.data[["x", "y"]].to_numpy(), np.zeros((100, 2)) + np.arange(100)[:, None]]).to_batch()
    mixed = pred.frame_outputs(mixed_batch.positions, mixed_batch.lengths)
    np.testing.assert_allclose(mixed["alpha"][0, :35], alone["alpha"][0], atol=1e-5)


def test_tta_is_invariant_under_rotation(net):
    tr = _tracks(lengths=(50, 80))
    rot = Tracks.from_arrays({tid: xy[:, ::-1] * np.array([1.0, -1.0]) for tid, _, xy in tr},  # a 90° rotation
                             first_frames=tr.first_frames)
    pred = Predictor(net, window=None)
    _same(pred.predict(rot, tta=True), pred.predict(tr, tta=True), atol=1e-5)


def test_classical_and_the_registry(tmp_path):
    assert {"bimamba", "bilstm", "classical"} <= set(available_models())
    pred = load_predictor("classical")
    assert pred.is_classical
    res = pred.predict(_tracks())
    assert all(r.alpha_frame is None for r in res)
    with pytest.raises(ModelNotFoundError, match="no-such-model") as err:
        load_predictor("no-such-model")
    assert isinstance(err.value, UserError) and isinstance(err.value, FileNotFoundError)
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model.safetensors").write_bytes(b"junk")
    with pytest.raises(UserError, match="cannot load model"):
        load_predictor(tmp_path)


def test_a_trained_folder_loads(tmp_path, net):
    save_model(net, tmp_path)
    pred = load_predictor(tmp_path, window=None)
    _same(pred.predict(_tracks()), Predictor(net, window=None).predict(_tracks()), atol=1e-6)


def test_preload_runs_the_mamba_compile_beside_one_other_at_a_time(monkeypatch):
    """On a fresh install the fused Mamba kernel (the longest compile) gets its own thread; the features kernel and
    the loaders given in ``after`` run one after another in a second thread, so at most two compile at once."""
    import threading

    from andimamba import predict as P
    from andimamba.nn import mamba_fused

    events, done = [], threading.Event()

    def record(name):
        def load(*_):
            events.append((name, threading.current_thread().name))
            if name == "writer":
                done.set()
        return load

    monkeypatch.setattr(mamba_fused, "preload", record("mamba"))
    monkeypatch.setattr(P, "_preload_features", record("features"))
    torch.manual_seed(0)
    Predictor(AnDiNet(tiny("bimamba")).eval()).preload(after=(record("writer"),))
    assert done.wait(10)
    for t in threading.enumerate():
        if t.name.startswith("andimamba-preload"):
            t.join(10)
    threads = dict(events)
    assert set(threads) == {"mamba", "features", "writer"}
    assert threads["features"] == threads["writer"] != threads["mamba"]
    assert [n for n, _ in events if n != "mamba"] == ["features", "writer"]
    # the classical method has no network kernels: the loaders still run
    done.clear()
    events.clear()
    Predictor(None, name="classical").preload(after=(record("writer"),))
    assert done.wait(10) and [n for n, _ in events] == ["writer"]
