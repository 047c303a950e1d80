"""`andimamba export-onnx`: the exported graph, run by onnxruntime, gives PyTorch's per-frame outputs.

Each shipped model is exported once (about 20 s of CPU each, most of the file's run time); the checks then run
the file on padded batches of tracks of different lengths, including one longer than the traced example.
"""

import shutil

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

from andimamba.batch import TrackBatch  # noqa: E402
from andimamba.checkpoint import load_model  # noqa: E402
from andimamba.cli import main  # noqa: E402
from andimamba.export import OUTPUT_NAMES, run_onnx  # noqa: E402
from andimamba.predict import resolve_model_path  # noqa: E402

ATOL = 1e-4  # probabilities, alpha, log K; K relative. Measured: <= 1.2e-6 (float32, other summation order)
LENGTHS = [20, 57, 200, 333]  # 333 > the 211 frames of the export example: the length axis is dynamic


def _tracks(lengths, seed=0, pad=np.nan):
    """Random walks in px, (b, l, 2) float32 padded with ``pad``, and lengths (b,) int64."""
    rng = np.random.default_rng(seed)
    pos = np.full((len(lengths), max(lengths), 2), pad, dtype=np.float32)
    for i, n in enumerate(lengths):
        steps = rng.normal(0.0, rng.uniform(0.3, 3.0), size=(n, 2)) + rng.uniform(-0.5, 0.5, size=2)  # some drift
        pos[i, :n] = rng.uniform(0, 500, size=2) + np.cumsum(steps, axis=0)
    return pos, np.asarray(lengths, dtype=np.int64)


@pytest.fixture(scope="module", params=["bimamba", "bilstm"])
def exported(request, tmp_path_factory):
    """(name, file): bimamba exported by its shipped name, bilstm from a copy of its folder (as a trained run)."""
    tmp = tmp_path_factory.mktemp("onnx")
    model = request.param
    if model == "bilstm":
        model = str(shutil.copytree(resolve_model_path("bilstm"), tmp / "run"))
    out = tmp / f"{request.param}.onnx"
    assert main(["export-onnx", "--model", model, "--out", str(out), "--no-verify"]) == 0  # checked below
    return request.param, out


def test_file_is_standard_onnx_with_dynamic_axes(exported):
    import onnx

    _, path = exported
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    assert {o.domain for o in model.opset_import} <= {"", "ai.onnx"} and not model.functions
    dims = {v.name: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim] for v in model.graph.input}
    assert dims == {"positions": ["batch", "frames", 2], "lengths": ["batch"]}
    assert [o.name for o in model.graph.output] == list(OUTPUT_NAMES)


def _valid(a, lengths):
    mask = np.arange(a.shape[1])[None, :] < lengths[:, None]  # (b, l)
    return a[mask]


def test_onnx_matches_pytorch_on_variable_lengths(exported):
    name, path = exported
    pos, lengths = _tracks(LENGTHS)
    got = run_onnx(path, pos, lengths, threads=1)
    assert set(got) == set(OUTPUT_NAMES)
    ref = load_model(resolve_model_path(name)).predict(TrackBatch(positions=np.nan_to_num(pos), lengths=lengths))
    for k in ("state_prob", "cp_prob", "alpha", "log_K"):
        assert got[k].shape == ref[k].shape, k
        np.testing.assert_allclose(_valid(got[k], lengths), _valid(ref[k], lengths), rtol=0, atol=ATOL, err_msg=k)
    np.testing.assert_allclose(_valid(got["K"], lengths), _valid(ref["K"], lengths), rtol=ATOL, err_msg="K")
    # the argmax agrees wherever the top two probabilities are not within the tolerance
    top2 = np.sort(_valid(ref["state_prob"], lengths), axis=-1)[:, -2:]
    clear = top2[:, 1] - top2[:, 0] > 2 * ATOL
    assert np.array_equal(_valid(got["state"], lengths)[clear], _valid(ref["state"], lengths)[clear])
    # logits are consistent with the probabilities, and every output is 0 on padding
    np.testing.assert_allclose(got["cp_prob"], np.where(got["cp_prob"] > 0, 1 / (1 + np.exp(-got["cp_logit"])), 0), atol=1e-6)
    pad = np.arange(pos.shape[1])[None, :] >= lengths[:, None]  # (b, l)
    for k in OUTPUT_NAMES:
        assert not np.any(got[k][pad]), k


def test_padding_does_not_change_valid_frames(exported):
    """A track alone (batch 1, no padding) and inside a padded batch: same outputs (the backward direction's
    reversal within each track's length is part of the graph)."""
    _, path = exported
    pos, lengths = _tracks(LENGTHS, seed=1, pad=1e6)
    batch = run_onnx(path, pos, lengths, threads=1)
    for i in (0, 2):  # 20 frames (most padding) and 200
        n = lengths[i]
        alone = run_onnx(path, pos[i : i + 1, :n], lengths[i : i + 1], threads=1)
        for k in ("state_prob", "cp_prob", "alpha", "log_K"):
            np.testing.assert_allclose(alone[k][0], batch[k][i, :n], rtol=0, atol=1e-5, err_msg=k)


@pytest.mark.parametrize("model, needle", [("classical", "not a network"), ("no_such_model", "not found")])
def test_bad_model_is_a_one_line_error(model, needle, tmp_path, capsys):
    assert main(["export-onnx", "--model", model, "--out", str(tmp_path / "m.onnx")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err, err
    assert not (tmp_path / "m.onnx").exists()


def test_existing_file_needs_overwrite(exported, capsys):
    _, path = exported
    assert main(["export-onnx", "--model", "bimamba", "--out", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--overwrite" in err, err
