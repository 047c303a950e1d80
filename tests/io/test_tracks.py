"""io.tracks.Tracks: the per-track views (ids, lengths, first frames, count) and packing."""

import numpy as np
import pandas as pd

from andimamba.io import Tracks


def _tracks():
    return Tracks.from_arrays({"b": np.ones((3, 2)), "a": np.zeros((5, 2)), "7": np.full((1, 2), 2.0)},
                              first_frames={"b": 10, "a": -2, "7": 0})


def test_views_follow_the_rows():
    t = _tracks()
    assert t.ids == ["b", "a", "7"] and len(t) == 3
    assert t.lengths.tolist() == [3, 5, 1] and t.first_frames.tolist() == [10, -2, 0]
    batch, ids = t.to_batch()
    assert ids == t.ids and batch.positions.shape == (3, 5, 2) and batch.lengths.tolist() == [3, 5, 1]


def test_views_see_a_new_data_frame():
    t = _tracks()
    assert len(t) == 3
    t.data = pd.DataFrame({"track_id": ["z", "z"], "frame": [4, 5], "x": [0.0, 1.0], "y": [0.0, 0.0]})
    assert t.ids == ["z"] and t.lengths.tolist() == [2] and t.first_frames.tolist() == [4] and len(t) == 1


def test_empty():
    t = Tracks.from_arrays([])
    assert t.ids == [] and len(t) == 0 and t.lengths.tolist() == [] and t.first_frames.tolist() == []


def test_construction_checks_the_runs_the_views_rely_on():
    import pytest

    def frame(ids, frames):
        return pd.DataFrame({"track_id": ids, "frame": frames, "x": 0.0, "y": 0.0})

    with pytest.raises(ValueError, match="keep the rows of each track together"):
        Tracks(frame(["a", "b", "a"], [0, 0, 1]))
    with pytest.raises(ValueError, match="consecutive frames within each track"):
        Tracks(frame(["a", "a", "a", "b"], [0, 1, 3, 7]))
    t = Tracks(frame(["a", "a", "a", "b"], [0, 1, 2, 7]))  # a jump between tracks is fine
    assert t.ids == ["a", "b"] and t.lengths.tolist() == [3, 1]
