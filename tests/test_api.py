"""The DataFrame API: results keyed by the user's own track id (name and dtype), joined back onto the input."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import andimamba as am
from andimamba.errors import UserError
from andimamba.io.results import k_physical


def _table(ids=(7, 3, 11), lengths=(60, 45, 4), start=10, seed=0) -> pd.DataFrame:
    """A shuffled trackpy-style table (particle, frame, x, y, mass) with a non-default index."""
    rng = np.random.default_rng(seed)
    rows = []
    for p, T in zip(ids, lengths):
        xy = np.cumsum(rng.normal(size=(T, 2)), 0) * (1 + 2 * (p == ids[0]))
        rows += [(p, start + t, xy[t, 0], xy[t, 1], 1.0) for t in range(T)]
    df = pd.DataFrame(rows, columns=["particle", "frame", "x", "y", "mass"]).sample(frac=1, random_state=seed)
    df.index = df.index * 3 + 100
    return df


def test_characterize_keys_segments_by_the_users_id_column_and_dtype():
    df = _table()
    seg = am.characterize(df, model="classical")
    assert seg.columns[0] == "particle" and seg["particle"].dtype == df["particle"].dtype
    first_seen = [p for p in pd.unique(df["particle"]) if p != 11]  # 11 (4 frames) is not analysed
    assert list(pd.unique(seg["particle"])) == first_seen  # tracks in the order they first appear in df
    for p, g in seg.groupby("particle"):
        assert g["segment"].tolist() == list(range(len(g)))
        assert g["n_frames"].sum() == (df["particle"] == p).sum()
        assert g["start_frame"].min() == 10 and g["end_frame"].max() == 9 + (df["particle"] == p).sum()
    assert "K_um2_per_s_alpha" not in seg  # no units given


def test_characterize_string_and_categorical_ids():
    df = _table()
    df["cell"] = df["particle"].map({7: "cell-a", 3: "cell-b", 11: "cell-c"}).astype("category")
    seg = am.characterize(df.drop(columns="particle"), columns={"track": "cell"}, model="classical")
    assert seg.columns[0] == "cell" and isinstance(seg["cell"].dtype, pd.CategoricalDtype)
    assert set(seg["cell"]) == {"cell-a", "cell-b"}


def test_annotate_keeps_rows_order_index_and_joins_with_characterize():
    df = _table()
    out = am.annotate(df, model="classical")
    assert out.index.equals(df.index) and list(out.columns[: len(df.columns)]) == list(df.columns)
    pd.testing.assert_frame_equal(out[df.columns], df)
    short = out["particle"] == 11
    assert out.loc[short, "alpha"].isna().all() and out.loc[short, "state"].isna().all() and out.loc[short, "segment"].isna().all()
    assert out.loc[~short, "state"].notna().all() and str(out["state"].dtype) == "Int64"
    seg = am.characterize(df, model="classical")
    joined = out[~short].merge(seg, on=["particle", "segment"], suffixes=("", "_seg"), validate="many_to_one")
    assert len(joined) == (~short).sum()
    # the classical method has no per-frame model output: each frame carries its segment's values
    assert np.allclose(joined["alpha"], joined["alpha_seg"]) and (joined["state"] == joined["state_seg"]).all()
    assert ((joined["frame"] >= joined["start_frame"]) & (joined["frame"] <= joined["end_frame"])).all()


def test_units_in_and_out():
    df = _table()
    px = am.characterize(df, pixel_size=0.1, frame_interval=0.05, model="classical")
    assert np.allclose(px["K_um2_per_s_alpha"], k_physical(px["K_px2_per_frame_alpha"], px["alpha"], 0.1, 0.05))
    nm = df.rename(columns={"x": "x [nm]", "y": "y [nm]"})
    nm[["x [nm]", "y [nm]"]] *= 0.1 * 1000  # the same positions in nm, 0.1 µm per pixel
    seg_nm = am.characterize(nm, pixel_size=0.1, frame_interval=0.05, model="classical")
    pd.testing.assert_frame_equal(seg_nm, px, rtol=1e-9)
    with pytest.raises(UserError, match="pixel_size"):
        am.characterize(nm, model="classical")


def test_gap_split_track_numbers_segments_on_and_annotates_every_row():
    df = _table(ids=(5,), lengths=(80,))
    df = df[(df["frame"] < 40) | (df["frame"] > 45)]  # frames 40-45 missing: two pieces
    seg = am.characterize(df, model="classical")
    assert seg["segment"].tolist() == list(range(len(seg))) and (seg["particle"] == 5).all()
    assert seg["n_frames"].sum() == len(df)
    assert not (seg["start_frame"].between(40, 45)).any()
    out = am.annotate(df, model="classical")
    assert out["segment"].notna().all() and out["segment"].max() == len(seg) - 1


def test_annotate_refuses_to_overwrite_a_column_and_bad_input_is_a_user_error():
    df = _table()
    with pytest.raises(UserError, match="alpha"):
        am.annotate(df.assign(alpha=1.0), model="classical")
    with pytest.raises(UserError, match="columns"):
        am.characterize(df.rename(columns={"particle": "who"}), model="classical")
    with pytest.raises(UserError, match="DataFrame"):
        am.characterize(df.to_numpy(), model="classical")


def test_network_model_per_frame_columns(tmp_path):
    import torch

    from andimamba.checkpoint import save_model
    from andimamba.nn.model import AnDiNet, tiny

    torch.manual_seed(0)
    save_model(AnDiNet(tiny("bimamba")), tmp_path)
    df = _table()
    out = am.annotate(df, model=str(tmp_path))
    full = out["particle"] != 11
    assert out.loc[full, "cp_prob"].between(0, 1).all() and out.loc[full, "alpha"].between(0, 2).all()
    assert set(out.loc[full, "regime"]) == {"full"}


def test_analyze_folder_and_submission(tmp_path):
    from andimamba.sim.experiment import simulate_experiment
    from andimamba.sim.layout import write_experiment

    params, fovs = simulate_experiment("single_state", n_fovs=1, seed=0, progress=False)
    write_experiment(tmp_path / "ref", 0, params, fovs)
    seg = am.analyze_folder(tmp_path / "ref", model="classical", submission=tmp_path / "sub")
    assert list(seg.columns[:4]) == ["experiment", "fov", "traj_idx", "segment"] and seg["traj_idx"].dtype == np.int64
    lines = (tmp_path / "sub/track_2/exp_0/fov_0.txt").read_text().splitlines()
    assert len(lines) == seg["traj_idx"].nunique()
    assert (tmp_path / "sub/track_2/exp_0/ensemble_labels.txt").is_file()


def test_import_andimamba_is_light():
    code = ("import sys, andimamba as am; "
            "print(','.join(m for m in ('torch', 'pandas', 'numba', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""
    assert {"characterize", "annotate", "analyze_folder", "plots"} <= set(dir(am))
    assert callable(am.plots.plot_alpha_logK_map) and am.UserError is UserError
