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


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_threads_write_the_chunks_in_order(workers, monkeypatch):
    monkeypatch.setattr(_csv, "CHUNK_ROWS", 70)  # 15 chunks, several rounds of `workers` threads
    df = _table()
    ref = io.StringIO()
    df.to_csv(ref, index=False, float_format="%.10g")
    out = io.StringIO()
    write_csv(out, df, "%.10g", workers=workers)
    assert out.getvalue() == ref.getvalue()


def test_a_failing_chunk_raises_in_the_caller(monkeypatch):
    from andimamba.io import _csv_kernels

    real, calls = _csv_kernels.format_rows, []

    def flaky(*args):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("chunk 3 failed")
        return real(*args)

    monkeypatch.setattr(_csv, "CHUNK_ROWS", 100)
    monkeypatch.setattr(_csv_kernels, "format_rows", flaky)
    with pytest.raises(RuntimeError, match="chunk 3 failed"):
        write_csv(io.StringIO(), _table(), "%.10g", workers=2)


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
    lambda d: d.assign(track_id=pd.array([None] + list(d.track_id[1:]), dtype="string")),  # pd.NA
    lambda d: d.assign(flag=True),                                    # bool
    lambda d: d.assign(state=d.state.astype("Int64")),                # nullable int
    lambda d: d.assign(cat=pd.Categorical(["u"] * len(d))),
    lambda d: d.rename(columns={"x": "x, px"}),                        # a column name CSV quotes
])
def test_what_it_does_not_cover_goes_to_pandas(change):
    ref, fast = _both(change(_table(50)))
    assert fast == ref


def _runs_table(seed=1):
    """A predict-like per-frame table: ids, α, K and state constant over runs of frames (formatted per run)."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 40, 300)  # runs of 1 to 39 rows
    n = int(lengths.sum())
    alpha = np.repeat(rng.uniform(0, 2, len(lengths)), lengths)
    K = np.repeat(rng.normal(size=len(lengths)) * 10.0 ** rng.integers(-30, 30, len(lengths)), lengths)
    K[:50], K[50:90], K[90:95] = 0.0, -0.0, np.nan  # signed zeros differ in print, NaN runs
    return pd.DataFrame({"track_id": np.repeat([f"t{i // 3}" for i in range(len(lengths))], lengths).astype(str),
                         "frame": np.arange(n), "x": rng.normal(size=n), "alpha": alpha, "K": K,
                         "state": np.repeat(rng.integers(0, 4, len(lengths)), lengths).astype(np.int64),
                         "cp": rng.uniform(size=n).astype(np.float32)})


@pytest.mark.parametrize("chunk", [7, 1000, 50_000])
def test_run_length_columns_same_bytes_as_pandas(chunk, monkeypatch):
    monkeypatch.setattr(_csv, "CHUNK_ROWS", chunk)  # chunk edges inside runs
    df = _runs_table()
    blob, start, end = _csv._text_cells(df["track_id"])
    assert blob == "".join(pd.unique(df["track_id"])).encode()  # ids encoded once per run, not per row
    ref, fast = _both(df)
    assert fast == ref


@pytest.mark.parametrize("bad", ["a,b", 'q"', None])
def test_a_run_value_csv_would_quote_goes_to_pandas(bad):
    df = _runs_table()
    ids = df.track_id.to_numpy(dtype=object)
    ids[ids == ids[-1]] = bad  # a whole run (checked once per run) holds the value
    df = df.assign(track_id=ids)
    ref, fast = _both(df)
    assert fast == ref


@pytest.mark.parametrize("table", [_table, _runs_table])
def test_covered_tables_do_not_go_to_pandas(table, monkeypatch):
    df = table()
    ref = df.to_csv(index=False, float_format="%.10g")
    monkeypatch.setattr(pd.DataFrame, "to_csv", lambda *a, **k: pytest.fail("went to pandas"))
    fast = io.StringIO()
    write_csv(fast, df, "%.10g")
    assert fast.getvalue() == ref


def test_non_ascii_ids_and_uint64():
    df = pd.DataFrame({"track_id": ["café", "café", "粒子-1", "ü"], "frame": np.array([0, 1, 2, 2**64 - 1], np.uint64),
                       "x": [1.5, -0.0, 1e-5, 123456789012.0]})
    ref, fast = _both(df)
    assert fast == ref
    df = df.assign(frame=np.array([0, 1, 2, 3], np.uint64))
    ref, fast = _both(df)
    assert fast == ref
