"""io.results: the per-segment / per-frame tables and K in physical units."""

from __future__ import annotations

import numpy as np

from andimamba.io import frames_table, k_physical, segments_table
from andimamba.result import SegmentResult


def test_k_physical():
    K, a, p, dt = 0.7, 0.6, 0.107, 0.03
    Kum = k_physical(K, a, p, dt)
    t_s = np.array([0.03, 0.3, 3.0])
    # the same MSD, written in µm and seconds or in px and frames
    np.testing.assert_allclose(4 * Kum * t_s**a, p**2 * 4 * K * (t_s / dt) ** a)
    np.testing.assert_allclose(k_physical([1.0, 2.0], [1.0, 0.5], 0.5, 0.25), [1.0, 1.0])


def test_tables_units_and_immobile_convention():
    res = [SegmentResult("3", T=10, cps=[4], alphas=[0.0, 1.5], Ks=[0.0, 2.0], states=[0, 2], first_frame=7)]
    seg = segments_table(res, pixel_size=0.5, frame_interval=0.25)
    assert seg.start_frame.tolist() == [7, 11] and seg.end_frame.tolist() == [10, 16]
    assert seg.state_name.tolist() == ["immobile", "free"] and seg.regime.tolist() == ["full", "full"]
    np.testing.assert_allclose(seg.K_um2_per_s_alpha, [0.0, 2.0 * 0.25 / 0.25**1.5])
    fr = frames_table(res)
    assert fr.frame.tolist() == list(range(7, 17)) and "K_um2_per_s_alpha" not in fr.columns
    assert fr.alpha.tolist() == [0.0] * 4 + [1.5] * 6 and fr.state.tolist() == [0] * 4 + [2] * 6


def _mixed_results(seed=0):
    """Tracks with and without per-frame model values, immobile zero segments, a short-regime track."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(40):
        T = int(rng.integers(2, 60))
        cps = np.sort(rng.choice(np.arange(1, T), size=min(T - 1, int(rng.integers(0, 4))), replace=False))
        n = len(cps) + 1
        states = rng.integers(0, 4, n)
        alphas, Ks = rng.uniform(0, 2, n), rng.lognormal(size=n)
        alphas[states == 0], Ks[states == 0] = 0.0, 0.0
        per_frame = {} if i % 3 == 0 else {"alpha_frame": rng.uniform(0, 2, T), "K_frame": rng.lognormal(size=T),
                                            "state_frame": rng.integers(0, 4, T), "cp_prob": rng.uniform(size=T)}
        out.append(SegmentResult(f"t{i}", T=T, cps=cps, alphas=alphas, Ks=Ks, states=states,
                                 first_frame=int(rng.integers(-5, 100)), **per_frame))
    out.append(SegmentResult("short", T=12, cps=[], alphas=[0.7], Ks=[1.1], states=[1], regime="short"))
    return out


def test_tables_of_many_tracks_equal_each_tracks_own_values():
    res = _mixed_results()
    seg = segments_table(res)
    assert len(seg) == sum(r.n_segments for r in res)
    for r, (_, rows) in zip(res, seg.groupby("track_id", sort=False)):
        b = r.bounds()
        assert rows.segment.tolist() == list(range(r.n_segments))
        assert rows.start_frame.tolist() == (r.first_frame + b[:, 0]).tolist()
        assert rows.n_frames.tolist() == (b[:, 1] - b[:, 0]).tolist()
        assert rows.alpha.tolist() == r.alphas.tolist() and rows.state.tolist() == r.states.tolist()
    fr = frames_table(res)
    assert fr.track_id.dtype == seg.track_id.dtype
    for r, (tid, rows) in zip(res, fr.groupby("track_id", sort=False)):
        pf = r.per_frame()  # one track's definition of its per-frame values
        assert tid == r.track_id and rows.frame.tolist() == list(range(r.first_frame, r.first_frame + r.T))
        for col, key in (("alpha", "alpha"), ("K_px2_per_frame_alpha", "K"), ("state", "state"), ("cp_prob", "cp_prob")):
            np.testing.assert_array_equal(rows[col].to_numpy(), pf[key])


def test_frames_table_positions_in_any_result_order():
    from andimamba.io import Tracks
    res = _mixed_results()[:10]
    rng = np.random.default_rng(1)
    tracks = Tracks.from_arrays({r.track_id: rng.normal(size=(r.T, 2)) for r in res},
                                first_frames={r.track_id: r.first_frame for r in res})
    a, b = frames_table(res, tracks), frames_table(res[::-1], tracks)  # aligned rows, then a merge
    key = ["track_id", "frame"]
    assert a.sort_values(key).reset_index(drop=True).equals(b.sort_values(key).reset_index(drop=True))
    np.testing.assert_array_equal(a[["x_px", "y_px"]].to_numpy(), tracks.data[["x", "y"]].to_numpy())
