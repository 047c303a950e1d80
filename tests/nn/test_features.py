"""Features: definitions on hand-made tracks, translation and padding invariance, scale handling."""

import numpy as np
import pytest
import torch

from andimamba.nn.features import FEATURE_NAMES, HALF_WINDOW, LAGS, N_FEATURES, SCALE_FLOOR, compute_features

CH = {name: i for i, name in enumerate(FEATURE_NAMES)}


def _tracks(seed=0, b=4, l=40, lengths=(40, 25, 9, 3)):
    rng = np.random.default_rng(seed)
    steps = rng.normal(scale=rng.uniform(0.1, 5.0, size=(b, 1, 1)), size=(b, l, 2))
    pos = np.cumsum(steps, axis=1) + rng.uniform(0, 128, size=(b, 1, 2))
    lengths = np.asarray(lengths)
    for i, n in enumerate(lengths):
        pos[i, n:] = 0.0
    return pos, lengths


def test_shapes_and_names():
    pos, lengths = _tracks()
    feats, log_s = compute_features(pos, lengths)
    assert feats.shape == (4, 40, N_FEATURES) and feats.dtype == torch.float32
    assert log_s.shape == (4,) and len(FEATURE_NAMES) == N_FEATURES == 16


def test_padding_frames_are_zero_and_padding_values_ignored():
    pos, lengths = _tracks()
    garbage = pos.copy()
    for i, n in enumerate(lengths):
        garbage[i, n:] = np.nan if i % 2 else 1e6
    f1, s1 = compute_features(pos, lengths)
    f2, s2 = compute_features(garbage, lengths)
    assert torch.equal(f1, f2) and torch.equal(s1, s2)
    for i, n in enumerate(lengths):
        assert torch.all(f1[i, n:] == 0)


def test_padded_and_unpadded_copies_identical():
    pos, lengths = _tracks()
    full, _ = compute_features(pos, lengths)
    for i, n in enumerate(lengths):
        alone, log_s = compute_features(torch.as_tensor(pos[i : i + 1, :n]), torch.tensor([n]))
        more = np.zeros((1, 70, 2))
        more[0, :n] = pos[i, :n]
        padded, log_s2 = compute_features(more, [n])
        assert torch.equal(alone[0], full[i, :n])
        assert torch.equal(padded[0, :n], alone[0]) and torch.equal(log_s, log_s2)


def test_translation_invariance():
    pos, lengths = _tracks(seed=1)
    mask = np.arange(pos.shape[1])[None, :] < lengths[:, None]
    shifted = np.where(mask[..., None], pos + np.array([1234.5, -987.25]), 0.0)
    f1, s1 = compute_features(pos, lengths)
    f2, s2 = compute_features(shifted, lengths)
    torch.testing.assert_close(f1, f2, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(s1, s2)


def test_definitions_on_a_hand_made_track():
    # unit steps: +x, +y, -x, +x, +x  -> turning angles +90, +90, 180, 0
    steps = np.array([[1, 0], [0, 1], [-1, 0], [1, 0], [1, 0]], dtype=float)
    pos = np.concatenate([[[0.0, 0.0]], np.cumsum(steps, 0)])[None] + 7.0  # (1, 6, 2)
    feats, log_s = compute_features(pos, [6])
    f = feats[0].double()
    s = np.sqrt(5 / (2 * 5))  # sum of squared steps = 5 over 5 steps, 1-D: / 2
    assert log_s.item() == pytest.approx(np.log(s), rel=1e-6)
    np.testing.assert_allclose(f[:, CH["dx"]], np.r_[0, steps[:, 0]] / s, rtol=1e-6)
    np.testing.assert_allclose(f[:, CH["dy2"]], np.r_[0, steps[:, 1]] ** 2 / s**2, rtol=1e-6)
    np.testing.assert_allclose(f[:, CH["cos"]], [0, 0, 0, 0, -1, 1], atol=1e-6)
    np.testing.assert_allclose(f[:, CH["sin"]], [0, 0, 1, 1, 0, 0], atol=1e-6)
    rel = pos[0] - pos[0, 0]
    np.testing.assert_allclose(f[:, CH["dist"]], np.hypot(rel[:, 0], rel[:, 1]) / s, rtol=1e-6)
    np.testing.assert_allclose(f[:, CH["log_scale"]], np.log(s), rtol=1e-6)
    # local MSD, lag 2, x, at frame 0: increments ending at u in [2, min(5, W)] inside the window
    x = rel[:, 0] / s
    u = np.arange(2, min(5, HALF_WINDOW) + 1)
    expected = np.mean((x[u] - x[u - 2]) ** 2)
    assert f[0, CH["msd_x_2"]].item() == pytest.approx(expected, rel=1e-6)
    # at the last frame: u in [max(2, 5 - W + 2), 5]
    u = np.arange(max(2, 5 - HALF_WINDOW + 2), 6)
    assert f[5, CH["msd_x_2"]].item() == pytest.approx(np.mean((x[u] - x[u - 2]) ** 2), rel=1e-6)


def test_local_msd_grows_with_lag_for_directed_motion():
    t = np.arange(30, dtype=float)
    pos = np.stack([2.0 * t, 0.5 * t], axis=-1)[None]  # ballistic
    feats, _ = compute_features(pos, [30])
    msd = feats[0, 10, [CH[f"msd_x_{tau}"] for tau in LAGS]].numpy()
    np.testing.assert_allclose(msd / msd[0], np.asarray(LAGS) ** 2, rtol=1e-5)


def test_scale_normalisation_and_floor():
    pos, lengths = _tracks(seed=2)
    f1, s1 = compute_features(pos, lengths)
    f2, s2 = compute_features(pos * 1000.0, lengths)
    torch.testing.assert_close(s2 - s1, torch.full_like(s1, np.log(1000.0)), rtol=0, atol=1e-5)
    torch.testing.assert_close(f1[..., :-1], f2[..., :-1], rtol=1e-5, atol=1e-5)  # all but log_scale
    still, log_s = compute_features(np.full((2, 5, 2), 3.0), [5, 1])  # motionless and single-frame tracks
    assert torch.isfinite(still).all() and torch.allclose(log_s, torch.tensor(np.log(SCALE_FLOOR)).float())


def test_torch_input_and_errors():
    pos, lengths = _tracks()
    f_np, _ = compute_features(pos, lengths)
    f_t, _ = compute_features(torch.as_tensor(pos, dtype=torch.float32), torch.as_tensor(lengths))
    torch.testing.assert_close(f_np, f_t, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="shape"):
        compute_features(pos[..., :1], lengths)
    with pytest.raises(ValueError, match="lengths"):
        compute_features(pos, lengths + 100)
