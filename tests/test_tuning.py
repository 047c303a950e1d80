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
    assert saved["cp_threshold"] == best.cp_threshold and saved["tuning"]["n_fovs"] == 1 and saved["tuning"]["pooled"]
    assert load_checkpoint(tmp_path).segmenter == best
    assert load_predictor(tmp_path).segmenter == best
    # the pooling calibration is measured with the chosen settings on the same tracks, and predict gets it
    pc = load_checkpoint(tmp_path).pooling
    assert pc is not None and load_predictor(tmp_path).pooling == pc
    assert len(pc.alpha_sd) == len(pc.length_edges) and all(0 < s < 2 for s in pc.alpha_sd)


def test_candidates_are_scored_on_pooled_segments(tmp_path):
    import numpy as np

    from andimamba.metrics import single_trajectory_scores
    from andimamba.pooling import PoolingConfig, pool_alphas
    from andimamba.segments import SegmenterConfig, segment_batch
    from andimamba.state_pooling import pool_states

    torch.manual_seed(0)
    save_model(AnDiNet(tiny("bimamba")), tmp_path)
    pred = load_predictor(tmp_path)
    _, fovs = simulate_experiment("immobile_traps", n_fovs=1, seed=4, progress=False)
    truth, pos, lengths = tuning.experiment_arrays(fovs)
    exps = [("traps", truth, pred.frame_outputs(pos, lengths), lengths)]
    cal = PoolingConfig((0, 21, 81), (0.3, 0.2, 0.1), (0.4, 0.3, 0.2), min_segments=5)
    cfgs = [SegmenterConfig(cp_threshold=0.5), SegmenterConfig(cp_threshold=0.8, state_weights=(0.25, 0.5, 1.0, 1.0))]
    plain, pooled = tuning._ranked(cfgs, exps), tuning._ranked(cfgs, exps, cal)
    for i, cfg in enumerate(cfgs):
        res = segment_batch(exps[0][2], lengths, cfg=cfg)
        want = single_trajectory_scores(truth, dict(enumerate(pool_alphas(pool_states(res, cal, cfg)[0], cal)[0])))
        np.testing.assert_allclose(pooled.loc[i, ["alpha_mae", "state_f1", "rmse_cp"]].to_numpy(float),
                                   [want["alpha_mae"], want["state_f1"], want["rmse_cp"]])
        assert plain.loc[i, "rmse_cp"] == pooled.loc[i, "rmse_cp"]  # pooling leaves the change points
