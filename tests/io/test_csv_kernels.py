"""io._csv_kernels formats %.Pg floats and %d integers as Python does, byte for byte, and leaves to
Python only the few cells it cannot round with certainty."""

import io

import numpy as np
import pandas as pd
import pytest

from andimamba.io import _csv
from andimamba.io._csv import write_csv

N = 100_000


def _families(P, rng):
    """Value families that stress rounding and the choice between fixed and exponent notation."""
    ties = (rng.integers(10 ** (P - 1), 10 ** P, N) * 10 + 5).astype(np.float64)  # exact ties at P digits
    return {
        "wide": rng.normal(size=N) * 10.0 ** rng.integers(-300, 300, N),
        "unit": rng.uniform(0, 1, N),
        "float32": rng.uniform(-2, 2, N).astype(np.float32).astype(np.float64),
        "microns": rng.normal(0, 100, N).round(6),
        "ties": np.concatenate([ties, -ties / 2.0 ** rng.integers(1, 30, N)]),  # halves in binary stay exact
        "near powers of ten": np.concatenate([np.nextafter(10.0 ** np.arange(-30, 30), d) for d in (-np.inf, 0, np.inf)]),
        "nines": np.array([1 - 10.0 ** -P / 2 * s for s in (0.999, 1, 1.001)] + [10.0 ** P - 0.5, 10.0 ** P - 0.4,
                          9.99995e-5, 1e-4, 1e-5, 10.0 ** P, 10.0 ** (P - 1)]),
        "integers": rng.integers(-10 ** 15, 10 ** 15, N).astype(np.float64),
        "special": np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -1e-310, 1e-300, 1e300,
                             1.7976931348623157e308, 2.2250738585072014e-308, 1e-281, 1e281]),
    }


@pytest.mark.parametrize("P", [1, 6, 10, 12])
def test_floats_same_text_as_python(P):
    rng = np.random.default_rng(P)
    for name, v in _families(P, rng).items():
        f = io.StringIO()
        write_csv(f, pd.DataFrame({"v": v}), f"%.{P}g")
        got = f.getvalue().split("\n")[1:-1]
        ref = ["" if x != x else f"%.{P}g" % x for x in v.tolist()]
        bad = [(x, g, r) for x, g, r in zip(v.tolist(), got, ref) if g != r]
        assert not bad, f"{name}: {len(bad)} cells differ, e.g. {bad[:3]}"


def test_kernel_decides_nearly_all_cells():
    from andimamba.io._csv_kernels import format_rows
    v = np.random.default_rng(0).uniform(0, 100, N)
    cols = _csv._columns(pd.DataFrame({"v": v}))
    kinds, index, floats, ints, starts, ends, blob, width = cols
    out, at, val = np.empty(N * width, np.uint8), np.empty(N, np.int64), np.empty(N)
    size, missed = format_rows(kinds, index, floats, ints, starts, ends, blob, 10, out, at, val)
    assert missed < N * 1e-3  # about 2 in 1e5 expected at P = 10
    assert size > N * 10


@pytest.mark.parametrize("x", [0, 7, -7, 10 ** 18, -(2 ** 63), 2 ** 63 - 1])
def test_integers(x):
    df = pd.DataFrame({"i": np.array([x, x // 3, -1, 0], np.int64)})
    f = io.StringIO()
    write_csv(f, df, "%.10g")
    assert f.getvalue() == df.to_csv(index=False)

