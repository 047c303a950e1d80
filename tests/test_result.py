"""result: the core SegmentResult type (checked and unchecked) and the CP ↔ per-frame label conversions."""

from __future__ import annotations

import numpy as np
import pytest

from andimamba.result import SegmentResult, change_points, labels_from_segments, segments_from_labels


def test_segments_roundtrip():
    a = np.array([1.0] * 5 + [0.5] * 7 + [1.0] * 3)
    k = np.array([1.0] * 5 + [0.1] * 7 + [1.0] * 3)
    s = np.array([2] * 15)
    cps, al, ks, st = segments_from_labels(a, k, s)
    assert cps.tolist() == [5, 12]
    assert al.tolist() == [1.0, 0.5, 1.0] and ks.tolist() == [1.0, 0.1, 1.0] and st.tolist() == [2, 2, 2]
    assert np.array_equal(labels_from_segments(cps, al, 15), a)
    assert np.array_equal(labels_from_segments(cps, ks, 15), k)
    assert change_points(np.ones(4)).tolist() == [] and change_points([1, 1, 2], [0, 1, 1]).tolist() == [1, 2]


def test_checked_result_normalises_and_refuses():
    r = SegmentResult(12, 50, [20], [0.5, 1.2], [0.1, 1], [1.0, 2.0], first_frame=np.int64(3))
    assert r.track_id == "12" and r.states.dtype == np.int64 and r.cps.dtype == np.int64 and r.first_frame == 3
    assert r.n_segments == 2 and r.bounds().tolist() == [[0, 20], [20, 50]]
    with pytest.raises(ValueError, match="increasing positions in"):
        SegmentResult(1, 20, [5, 3], [1, 1, 1], [1, 1, 1], [2, 2, 2])
    with pytest.raises(ValueError, match="need 2"):
        SegmentResult(1, 20, [5], [1], [1, 1], [2, 2])
    with pytest.raises(ValueError, match="T must be >= 1"):
        SegmentResult(1, 0, [], [1], [1], [2])
    with pytest.raises(ValueError, match="no change points"):
        SegmentResult(1, 20, [5], [1, 1], [1, 1], [2, 2], regime="short")
    with pytest.raises(ValueError, match="cp_prob has 3 values"):
        SegmentResult(1, 20, [], [1], [1], [2], cp_prob=np.zeros(3))


def test_unchecked_result_keeps_values_as_given():
    states = np.array([2.7, np.nan, 4.5])
    r = SegmentResult(3, None, np.array([40, 10]), np.array([0.5, 1.0, 2.0]), np.ones(3), states, check=False)
    assert r.track_id == "3" and r.T is None and r.cps.tolist() == [40, 10] and r.states is states


def test_per_frame_expands_segments_and_zeroes_immobile():
    r = SegmentResult("a", 10, [4], [0.0, 1.5], [0.0, 2.0], [0, 2], state_frame=np.array([1] * 4 + [2] * 6))
    pf = r.per_frame()
    assert pf["alpha"].tolist() == [0.0] * 4 + [1.5] * 6 and pf["K"].tolist() == [0.0] * 4 + [2.0] * 6
    assert pf["state"].tolist() == [0] * 4 + [2] * 6  # the immobile segment's frames: state 0
    assert np.isnan(pf["cp_prob"]).all()
