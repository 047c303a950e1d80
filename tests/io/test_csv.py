"""io._csv.write_csv writes the bytes pandas' to_csv writes, and hands what it does not cover to pandas."""

import io

import numpy as np
import pandas as pd
import pytest

from andimamba.io import _csv
from andimamba.io._csv import write_csv


def _both(df, fmt="%.10g"):
    a, b = io.StringIO(), io.StringIO()
    df.to_csv(a, index=False, float_format=fmt)
    write_csv(b, df, fmt)
    return a.getvalue(), b.getvalue()


def _table(n=1000, seed=0):
    rng = np.random.default_rng(seed)
    v = rng.normal(size=n) * 10.0 ** rng.integers(-300, 300, n)
    v[::7], v[1::11], v[2::13], v[3::17] = np.nan, np.inf, -np.inf, -0.0
    return pd.DataFrame({"track_id": [f"{i // 10}.{i % 3}" for i in range(n)], "frame": np.arange(n, dtype=np.int64) - 5,
                         "x": rng.normal(size=n), "K": v, "state": rng.integers(0, 4, n), "f32": rng.normal(size=n).astype(np.float32)})


@pytest.mark.parametrize("fmt", ["%.10g", "%.3f"])
def test_same_bytes_as_pandas(fmt, monkeypatch):
    monkeypatch.setattr(_csv, "CHUNK_ROWS", 300)  # several chunks
    ref, fast = _both(_table(), fmt)
    assert fast == ref


def test_empty_and_object_text_columns():
    df = _table(0)
    assert _both(df)[1] == _both(df)[0] == ",".join(df.columns) + "\n"
    df = _table(20).astype({"track_id": object})
    ref, fast = _both(df)
    assert fast == ref


@pytest.mark.parametrize("change", [
    lambda d: d.assign(track_id=["a,b"] + list(d.track_id[1:])),   # a cell CSV quotes
    lambda d: d.assign(track_id=['say "x"'] + list(d.track_id[1:])),
    lambda d: d.assign(track_id=[None] + list(d.track_id[1:])),     # a missing id
    lambda d: d.assign(flag=True),                                    # bool
    lambda d: d.assign(state=d.state.astype("Int64")),                # nullable int
    lambda d: d.assign(cat=pd.Categorical(["u"] * len(d))),
    lambda d: d.rename(columns={"x": "x, px"}),                        # a column name CSV quotes
])
def test_what_it_does_not_cover_goes_to_pandas(change):
    ref, fast = _both(change(_table(50)))
    assert fast == ref
