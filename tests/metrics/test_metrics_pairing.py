"""metrics.pairing: per-track Hungarian pairing of change points and segments (hand-computed)."""

from __future__ import annotations

import numpy as np
import pytest

from andimamba.metrics import FlatTracks, changepoint_counts, segment_pairs
from andimamba.result import SegmentResult


def _flat(*tracks, name="side"):
    """(T, cps) pairs → FlatTracks; CPs kept as given (unsorted, as a submission may hold them)."""
    def one(i, T, cps):
        m = len(cps) + 1
        return SegmentResult(i, T, np.array(cps, np.int64), np.full(m, 0.5), np.ones(m), np.full(m, 2.0), check=False)
    return FlatTracks([one(i, T, cps) for i, (T, cps) in enumerate(tracks)], name)


def test_changepoint_counts():
    G = _flat((100, [50]), (100, [20, 60]), (80, []), (90, []), (100, [30, 31]))
    P = _flat((100, [53]), (100, [62, 21, 90]), (80, []), (90, [40]), (100, []))
    tp, fp, fn, sq, empty = changepoint_counts(G, P)
    # track 0: TP |3|; track 1: Hungarian pairs 20↔21 and 60↔62 (TPs 1, 2), 90 unpaired (FP);
    # track 3: FP; track 4: two FNs; track 2: empty on both sides
    assert (tp, fp, fn, empty) == (3, 2, 2, 1)
    assert sorted(sq.tolist()) == [1, 4, 9]
    far = changepoint_counts(_flat((100, [50])), _flat((100, [60])))  # |Δt| = 10: not < 10
    assert far[:3] == (0, 1, 1)


def test_segment_pairs_by_overlap_and_quirk():
    # truth without CP ↔ the longer predicted segment; 2 × 2 crossed; prediction without CP (quirk)
    G = _flat((100, []), (100, [70]), (100, [10, 20]))
    P = _flat((100, [80]), (100, [30]), (100, []))
    t, g, p = segment_pairs(G, P)
    pairs = sorted(zip(t.tolist(), g.tolist(), p.tolist()))
    assert (0, 0, 0) in pairs  # the whole track pairs with the 80-frame segment 0
    assert (1, 0, 0) in pairs and (1, 1, 1) in pairs  # overlap 30/70 beats the swap
    # official: the truth index is the *position* in row_ind of the row paired with column 0 (1),
    # although the truth's segment 2 (80 frames) overlaps the whole track best
    assert (2, 1, 0) in pairs and len(pairs) == 4


def test_flat_tracks_refuses_what_the_official_scorer_crashes_on():
    bad = SegmentResult("7", 50, np.array([10, 20]), np.array([1.0]), np.array([1.0]), np.array([2.0]), check=False)
    with pytest.raises(ValueError, match=r"prediction: tracks \['7'\]"):
        FlatTracks([bad], "prediction")
