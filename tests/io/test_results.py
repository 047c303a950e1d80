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
