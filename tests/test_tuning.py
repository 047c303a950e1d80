import json

import torch

from andimamba import tuning
from andimamba.checkpoint import load_checkpoint, save_model
from andimamba.nn.model import AnDiNet, tiny
from andimamba.predict import load_predictor
from andimamba.sim.experiment import simulate_experiment


def test_tune_segmenter_writes_best_and_predict_uses_it(tmp_path, monkeypatch):
    torch.manual_seed(0)
    save_model(AnDiNet(tiny("bimamba")), tmp_path)
    _, fovs = simulate_experiment("multi_state", n_fovs=1, seed=3, progress=False)
    monkeypatch.setattr(tuning, "tuning_set", lambda n_fovs, seed: [("multi_state", fovs)])
    best, table = tuning.tune_segmenter(tmp_path, n_fovs=1)
    assert len(table) == len(tuning.candidates())
    assert table["mean_rank"].is_monotonic_increasing
    saved = json.loads((tmp_path / "config.json").read_text())["segmenter"]  # part of the checkpoint
    assert saved["cp_threshold"] == best.cp_threshold and saved["tuning"]["n_fovs"] == 1
    assert load_checkpoint(tmp_path).segmenter == best
    assert load_predictor(tmp_path).segmenter == best
    # the pooling calibration is measured with the chosen settings on the same tracks, and predict gets it
    pc = load_checkpoint(tmp_path).pooling
    assert pc is not None and load_predictor(tmp_path).pooling == pc
    assert len(pc.alpha_sd) == len(pc.length_edges) and all(0 < s < 2 for s in pc.alpha_sd)
