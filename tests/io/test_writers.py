"""Writers: AnDi-2 submission files, ensemble labels, CSV tables, atomicity."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from andimamba.io import (
    SegmentResult,
    Tracks,
    frames_table,
    k_physical,
    segments_table,
    write_ensemble_labels,
    write_frames_csv,
    write_segments_csv,
    write_submission_fov,
)
from andimamba.andi2 import exp_dir, fov_file, label_line
from andimamba.io import atomic


def results() -> list[SegmentResult]:
    return [
        SegmentResult("0", T=50, cps=[20], alphas=[0.5, 1.2], Ks=[0.013, 1.0 / 3.0], states=[1, 2], first_frame=10),
        SegmentResult("7", T=30, cps=[], alphas=[0.0], Ks=[0.0], states=[0]),
        SegmentResult("12", T=200, cps=[3, 100, 197], alphas=[1.95, 0.8, 0.1, 1.0], Ks=[2.0, 0.5, 1e-9, 1.0],
                      states=[3, 2, 1, 2]),
    ]


def parse_line(line: str) -> dict:
    """The official reading of a submission line: floats, then (K, alpha, state, CP) groups."""
    v = [float(x) for x in line.split(",")]
    assert len(v) % 4 == 1
    return {"idx": int(v[0]), "K": v[1::4], "alpha": v[2::4], "state": v[3::4], "cp": v[4::4]}


def test_submission_round_trip(tmp_path):
    p = write_submission_fov(fov_file(exp_dir(tmp_path, 0), 3), results())
    assert p == tmp_path / "track_2" / "exp_0" / "fov_3.txt"
    lines = p.read_text().splitlines()
    assert len(lines) == 3
    for line, r in zip(lines, results()):
        d = parse_line(line)
        assert d["idx"] == int(r.track_id)
        assert d["cp"][-1] == r.T  # always ends with T
        np.testing.assert_array_equal(d["cp"][:-1], r.cps)
        np.testing.assert_array_equal(d["K"], r.Ks)  # repr precision: exact round trip
        np.testing.assert_array_equal(d["alpha"], r.alphas)
        np.testing.assert_array_equal(d["state"], r.states)
        assert all("." not in s for s in line.split(",")[3::4])  # states and CPs written as ints
    assert lines[1] == "7,0.0,0.0,0,30"


def test_submission_read_by_andi_datasets(tmp_path):
    uc = pytest.importorskip("andi_datasets.utils_challenge")
    p = write_submission_fov(tmp_path / "fov_0.txt", results())
    df = uc.load_file_to_df(str(p))
    assert df.traj_idx.astype(int).tolist() == [0, 7, 12]
    np.testing.assert_allclose(df.changepoints.iloc[2], [3, 100, 197, 200])


def test_submission_refuses_bad_results(tmp_path):
    with pytest.raises(ValueError, match="integer traj_idx"):
        label_line(SegmentResult("5.2", T=20, cps=[], alphas=[1.0], Ks=[1.0], states=[2]))
    with pytest.raises(ValueError, match="finite"):
        label_line(SegmentResult("5", T=20, cps=[], alphas=[np.nan], Ks=[1.0], states=[2]))
    with pytest.raises(ValueError, match="twice"):
        write_submission_fov(tmp_path / "dup.txt", results() + results()[:1])
    assert list(tmp_path.iterdir()) == []  # nothing written, no temporary left
    with pytest.raises(ValueError, match="change points"):
        SegmentResult("1", T=20, cps=[5, 3], alphas=[1, 1, 1], Ks=[1, 1, 1], states=[2, 2, 2])
    with pytest.raises(ValueError, match="need 2"):
        SegmentResult("1", T=20, cps=[5], alphas=[1], Ks=[1, 1], states=[2, 2])


def test_atomic_write_keeps_previous_file(tmp_path, monkeypatch):
    p = tmp_path / "fov_0.txt"
    write_submission_fov(p, results())
    before = p.read_text()

    def failing():
        yield results()[0]
        raise RuntimeError("model crashed mid-way")

    with pytest.raises(RuntimeError):
        write_submission_fov(p, failing())
    assert p.read_text() == before and os.listdir(tmp_path) == ["fov_0.txt"]

    def bad_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", bad_replace)
    with pytest.raises(OSError):
        write_segments_csv(tmp_path / "segments.csv", results())
    with pytest.raises(OSError):
        write_submission_fov(p, results()[:1])
    assert p.read_text() == before and os.listdir(tmp_path) == ["fov_0.txt"]


def test_ensemble_labels(tmp_path):
    mat = np.array([[1.0, 0.5], [0.01, 0.02], [1.0, 0.05], [0.01, 1e-4], [0.7, 0.3]])
    p = write_ensemble_labels(tmp_path / "ensemble_labels.txt", "multi_state", mat)
    head = p.read_text().splitlines()[0]
    assert head.strip() == "model: multi_state; num_state: 2"
    np.testing.assert_array_equal(np.loadtxt(p, skiprows=1, delimiter=";"), mat)
    info = np.loadtxt(p, max_rows=1, dtype=str)  # how andi_datasets reads the header
    assert info[1][:-1] == "multi_state" and int(info[-1]) == 2
    with pytest.raises(ValueError, match="5, k"):
        write_ensemble_labels(tmp_path / "bad.txt", "multi_state", mat[:4])


def test_segments_csv(tmp_path):
    p = write_segments_csv(tmp_path / "seg.csv", results(), pixel_size=0.1, frame_interval=0.02)
    df = pd.read_csv(p)
    assert list(df.columns) == ["track_id", "segment", "start_frame", "end_frame", "n_frames", "alpha",
                                "K_px2_per_frame_alpha", "K_um2_per_s_alpha", "state", "state_name", "regime"]
    first = df.iloc[:2]
    assert first.start_frame.tolist() == [10, 30] and first.end_frame.tolist() == [29, 59]
    assert first.n_frames.tolist() == [20, 30] and first.state_name.tolist() == ["confined", "free"]
    np.testing.assert_allclose(df.K_um2_per_s_alpha, k_physical(df.K_px2_per_frame_alpha, df.alpha, 0.1, 0.02),
                               rtol=1e-9)
    assert "K_um2_per_s_alpha" not in segments_table(results(), pixel_size=0.1).columns  # needs both


def test_frames_csv_with_positions(tmp_path):
    rng = np.random.default_rng(1)
    xy = {"0": rng.normal(size=(50, 2)), "7": rng.normal(size=(30, 2)), "12": rng.normal(size=(200, 2))}
    tracks = Tracks.from_arrays(xy, first_frames={"0": 10}, pixel_size=0.1, frame_interval=0.02)
    res = results()
    res[1].cp_prob = np.linspace(0, 1, 30)
    p = write_frames_csv(tmp_path / "frames.csv", res, tracks=tracks)
    df = pd.read_csv(p, dtype={"track_id": str})
    assert list(df.columns) == ["track_id", "frame", "x_px", "y_px", "alpha", "K_px2_per_frame_alpha",
                                "K_um2_per_s_alpha", "state", "cp_prob"]
    t0 = df[df.track_id == "0"]
    assert t0.frame.tolist() == list(range(10, 60))
    np.testing.assert_allclose(t0[["x_px", "y_px"]], xy["0"], rtol=1e-9)
    assert t0.alpha.tolist() == [0.5] * 20 + [1.2] * 30 and t0.cp_prob.isna().all()
    np.testing.assert_allclose(df[df.track_id == "7"].cp_prob, np.linspace(0, 1, 30), rtol=1e-9)
    with pytest.raises(ValueError, match="do not match"):
        frames_table(res, tracks=Tracks.from_arrays({"0": xy["0"]}))
