"""The shipped models' answers on the shipped sample tracks do not drift: segments.csv as written before the issue-10
restructuring (tests/data/shipped_outputs/, made with the code of commit 90e5d19).

Change points, states and the table layout must match exactly; α and K to 1e-6 relative (bit-identical on the
development machine, where `andimamba predict` reproduced these files byte for byte; the tolerance only admits
another CPU's rounding). A deliberate change of the answers (new weights, new decision rules) regenerates the files
with `andimamba predict examples/sample_tracks.csv --out tmp --model M` and says so in its commit.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from andimamba.pipeline import predict_file

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data" / "shipped_outputs"


@pytest.mark.parametrize("model", ["bimamba", "bilstm", "classical"])
def test_sample_segments_unchanged(model, tmp_path):
    predict_file(ROOT / "examples" / "sample_tracks.csv", model=model).write(tmp_path, frames=False)
    got = pd.read_csv(tmp_path / "segments.csv", dtype={"track_id": str})
    want = pd.read_csv(DATA / f"sample_segments_{model}.csv", dtype={"track_id": str})
    assert list(got.columns) == list(want.columns) and len(got) == len(want)
    for c in want.columns:
        if want[c].dtype.kind == "f":
            np.testing.assert_allclose(got[c], want[c], rtol=1e-6, atol=1e-12, err_msg=c)
        else:
            assert (got[c] == want[c]).all(), c
