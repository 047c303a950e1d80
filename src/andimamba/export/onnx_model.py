"""Export a trained network to ONNX: raw positions in, per-frame predictions out, for use from other tools.

The exported graph holds the whole inference path of :meth:`andimamba.nn.model.AnDiNet.predict`: the
features of :func:`andimamba.nn.features.compute_features` (in float64, as in PyTorch), the network, and the
softmax / sigmoid / exp of its heads. Users feed pixel positions; nothing is reimplemented outside.

Glossary: b = number of tracks, l = padded length (frames), n = ``lengths[i]``. Both b and l are dynamic.

============  =======  ==========  ==========================================================================
name          dtype    shape       meaning
============  =======  ==========  ==========================================================================
positions     float32  (b, l, 2)   input: x, y in pixels; track i on frames 0 .. n-1, any value after that
lengths       int64    (b,)        input: n, valid frames of each track (clipped to [0, l])
state_prob    float32  (b, l, 4)   P(state) per frame; states 0 immobile, 1 confined, 2 free, 3 directed
state         int64    (b, l)      argmax of ``state_prob``
cp_prob       float32  (b, l)      probability that frame t starts a new segment
alpha         float32  (b, l)      anomalous exponent α in [0, 2]
K             float32  (b, l)      generalised diffusion coefficient in px²/frame^α
log_K         float32  (b, l)      natural log of K
state_logits  float32  (b, l, 4)   logits of ``state_prob``
cp_logit      float32  (b, l)      logit of ``cp_prob``
============  =======  ==========  ==========================================================================

Every output is 0 on the padding frames t >= n.

The selective scan (a recurrence over time) becomes one ONNX ``Scan`` per direction and block: the model
runs with ``scan_impl="export"`` (:mod:`andimamba.nn.scan_export`), whose custom operator
:mod:`andimamba.export.onnx_ops` translates into a ``Scan`` over frames with the body
h = exp(Δ_t A)·h + B_t Δ_t u_t, y_t = C_t h. Nothing is unrolled, so every length runs. The LSTM baseline
becomes ONNX ``LSTM`` nodes (PyTorch's translation; traced with PyTorch's while_loop decomposition of the
LSTM, which keeps the length dynamic).

Not here: the per-track windows of ``andimamba predict`` for tracks longer than ``--window`` (the graph sees
whole tracks, like ``--window 0``), test-time augmentation, and the per-frame → segments step.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from andimamba.checkpoint import load_model
from andimamba.andi2 import STATE_NAMES as ANDI2_STATE_NAMES
from andimamba.errors import UserError
from andimamba.io.atomic import atomic_write_bytes
from andimamba.nn.model import AnDiNet, ModelConfig
from andimamba.options import opt

__all__ = ["export_onnx", "run_onnx", "ExportResult", "INPUT_NAMES", "OUTPUT_NAMES", "STATE_NAMES"]

INPUT_NAMES = ("positions", "lengths")
OUTPUT_NAMES = ("state_prob", "state", "cp_prob", "alpha", "K", "log_K", "state_logits", "cp_logit")
STATE_NAMES = tuple(ANDI2_STATE_NAMES[c] for c in range(len(ANDI2_STATE_NAMES)))  # index = AnDi-2 state code

_DOCS = {
    "positions": "float32 (b, l, 2): x, y in pixels; track i on frames 0..lengths[i]-1, anything after",
    "lengths": "int64 (b,): valid frames of each track (clipped to [0, l])",
    "state_prob": "float32 (b, l, 4): P(state), states 0 immobile, 1 confined, 2 free, 3 directed",
    "state": "int64 (b, l): argmax of state_prob",
    "cp_prob": "float32 (b, l): probability that the frame starts a new segment",
    "alpha": "float32 (b, l): anomalous exponent alpha in [0, 2]",
    "K": "float32 (b, l): generalised diffusion coefficient, px^2/frame^alpha",
    "log_K": "float32 (b, l): natural log of K",
    "state_logits": "float32 (b, l, 4): logits of state_prob",
    "cp_logit": "float32 (b, l): logit of cp_prob",
}
# compute_features branches in Python on l (shifts of up to HALF_WINDOW + 1 frames), so a trace is valid
# only for l >= 6; padding every track by this many frames inside the graph makes it valid for every l >= 1
_PAD = 8


@dataclass
class ExportResult:
    """What :func:`export_onnx` wrote.

    Attributes
    ----------
    path : Path
    model : str
        The model as given (shipped name or folder).
    arch : str
        ``bimamba`` or ``bilstm``.
    size_bytes : int
    n_nodes : int
        Nodes of the main graph (loop bodies not counted).
    opset : int
        ONNX opset of the default domain.
    seconds : float
        Export time, verification excluded.
    max_abs_diff : float or None
        Largest |ONNX - PyTorch| of state_prob, cp_prob, alpha and log_K on the valid frames of the check
        batch (None: not verified, or onnxruntime not installed).
    """

    path: Path
    model: str
    arch: str
    size_bytes: int
    n_nodes: int
    opset: int
    seconds: float
    max_abs_diff: float | None = None


class _TracksToFrames(nn.Module):
    """positions (b, l, 2), lengths (b,) -> the outputs of :data:`OUTPUT_NAMES`, as AnDiNet.predict computes them."""

    def __init__(self, model: AnDiNet):
        super().__init__()
        self.model = model

    def forward(self, positions: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, ...]:
        l = positions.shape[1]
        lengths = lengths.clamp(min=0, max=l)  # (b,)
        pos = F.pad(positions, (0, 0, 0, _PAD))  # (b, l + PAD, 2); padding never reaches valid frames
        res = self.model.frame_predictions(pos, lengths)  # features and heads as AnDiNet.predict computes them
        return tuple(res[k][:, :l] for k in OUTPUT_NAMES)  # each (b, l) or (b, l, 4)


# -------------------------------------------------------------------------------------------------
# Export, run
# -------------------------------------------------------------------------------------------------
def _load(model: str | Path | AnDiNet) -> tuple[AnDiNet, str]:
    """The model with the exportable scan, and a name for messages."""
    from andimamba.predict import resolve_model_path

    if isinstance(model, AnDiNet):
        return _with_scan(model, "export"), model.config.arch
    if str(model) == "classical":
        raise UserError(f"the classical method is not a network and has no ONNX form: give {opt('model', 'bimamba')}, "
                         f"{opt('model', 'bilstm')} or a trained run folder")
    return load_model(resolve_model_path(model), scan_impl="export"), str(model)


def _with_scan(model: AnDiNet, scan_impl: str) -> AnDiNet:
    """A copy of ``model`` (same weights, eval mode) whose Mamba blocks use ``scan_impl``."""
    net = AnDiNet(ModelConfig.from_dict({**model.config.to_dict(), "scan_impl": scan_impl}))
    net.load_state_dict(model.state_dict())
    return net.eval()


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    """Silence the exporter's notes that concern PyTorch, not the user (torchvision absent, deprecations)."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            yield
    finally:
        logger.setLevel(level)


@contextlib.contextmanager
def _dynamic_rnn() -> Iterator[None]:
    """Trace ``nn.LSTM`` with a dynamic length: PyTorch's while_loop decomposition, no batch or length 1 assumed.

    Needed around the capture and around the ONNX translation, which traces again. Both switches are private
    PyTorch APIs (torch 2.13); without them a BiLSTM export stops with torch.export's "specialized" error.
    """
    with contextlib.ExitStack() as stack:
        try:
            from torch.export._patches import register_lstm_while_loop_decomposition

            stack.enter_context(register_lstm_while_loop_decomposition())
            stack.enter_context(torch.fx.experimental._config.patch(backed_size_oblivious=True))
        except (ImportError, AttributeError):  # another torch version: the Mamba path does not need them
            pass
        yield


def _capture(net: AnDiNet, pos: np.ndarray, lengths: np.ndarray) -> torch.export.ExportedProgram:
    """torch.export of the whole path with dynamic batch and length; raises rather than fixing a length.

    (``torch.onnx.export`` given the module would, on a failure, silently export for the example's shape.)
    """
    batch, frames = torch.export.Dim("batch", min=1), torch.export.Dim("frames", min=1)
    example = (torch.from_numpy(np.nan_to_num(pos)), torch.from_numpy(lengths))  # (b, l, 2), (b,)
    return torch.export.export(_TracksToFrames(net), example, strict=False,
                               dynamic_shapes={"positions": {0: batch, 1: frames}, "lengths": {0: batch}})


def _name_axes(proto) -> None:
    """Call the dynamic axes ``batch`` and ``frames`` (torch.export's symbols, e.g. s2, s18) everywhere in the graph."""
    dims = proto.graph.input[0].type.tensor_type.shape.dim  # positions (b, l, 2)
    names = {dims[0].dim_param: "batch", dims[1].dim_param: "frames"}
    pattern = re.compile(r"\b(" + "|".join(re.escape(k) for k in names if k) + r")\b")

    def rename(graph) -> None:
        for v in [*graph.input, *graph.output, *graph.value_info]:
            for d in v.type.tensor_type.shape.dim:
                if d.dim_param:
                    d.dim_param = pattern.sub(lambda m: names[m.group(1)], d.dim_param)
        for node in graph.node:
            for attr in node.attribute:
                if attr.HasField("g"):
                    rename(attr.g)

    rename(proto.graph)


def _metadata(net: AnDiNet, name: str) -> dict[str, str]:
    from andimamba import __version__

    return {
        "andimamba_version": __version__,
        "andimamba_model": name,
        "model_config": json.dumps({k: v for k, v in net.config.to_dict().items() if k != "scan_impl"}),
        "inputs": json.dumps({k: _DOCS[k] for k in INPUT_NAMES}),
        "outputs": json.dumps({k: _DOCS[k] for k in OUTPUT_NAMES}),
        "state_names": ",".join(STATE_NAMES),
        "padding": "every output is 0 on frames t >= lengths[i]",
    }


def _example(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A small padded batch of random walks in px (b, l, 2) float32 with lengths (b,) int64, padding NaN."""
    rng = np.random.default_rng(seed)
    lengths = np.array([5, 20, 57, 211], dtype=np.int64)
    pos = np.full((len(lengths), int(lengths.max()), 2), np.nan, dtype=np.float32)
    for i, n in enumerate(lengths):
        pos[i, :n] = 100.0 + np.cumsum(rng.normal(0.0, 2.0, size=(n, 2)), axis=0)
    return pos, lengths


def export_onnx(model: str | Path | AnDiNet, out: str | Path, *, overwrite: bool = False, verify: bool = True) -> ExportResult:
    """Export a network to an ONNX file taking raw positions (the table of the module docstring).

    Parameters
    ----------
    model : str, Path or AnDiNet
        Shipped model name (``bimamba``, ``bilstm``), a trained run folder, or a model.
    out : str or Path
        The ``.onnx`` file to write (atomically).
    overwrite : bool
        Replace an existing ``out``.
    verify : bool
        Run the file with onnxruntime (when installed) on a padded batch of four tracks (5 to 211 frames) and
        record the largest difference to PyTorch in ``max_abs_diff``.

    Returns
    -------
    ExportResult
    """
    try:
        import onnx  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError as err:
        raise ImportError(f"ONNX export needs the onnx and onnxscript packages ({err}): pip install 'andimamba[onnx]'") from err
    out = Path(out)
    if out.exists() and not overwrite:
        raise UserError(f"{out} already exists: pass {opt('overwrite', True)} or choose another file")
    if not out.parent.is_dir():
        raise UserError(f"{out.parent} is not a folder: create it first")
    net, name = _load(model)
    from andimamba.export.onnx_ops import finish, translation_table

    t0 = time.perf_counter()
    pos, lengths = _example()
    with _quiet_exporter(), _dynamic_rnn(), torch.no_grad():
        program = torch.onnx.export(
            _capture(net, pos, lengths), dynamo=True, input_names=list(INPUT_NAMES), output_names=list(OUTPUT_NAMES),
            custom_translation_table=translation_table(),
            optimize=False, verbose=False,
        )
    proto = finish(program.model)
    _name_axes(proto)
    for v in list(proto.graph.input) + list(proto.graph.output):
        v.doc_string = _DOCS[v.name]
    proto.doc_string = "andimamba: per-frame diffusive state, change points, alpha and K of 2-D tracks (see metadata)"
    for k, v in _metadata(net, name).items():
        proto.metadata_props.add(key=k, value=v)
    atomic_write_bytes(out, proto.SerializeToString())
    seconds = time.perf_counter() - t0
    opset = next(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx"))
    res = ExportResult(out, str(name), net.config.arch, out.stat().st_size, len(proto.graph.node), opset, seconds)
    if verify:
        try:
            res.max_abs_diff = _max_abs_diff(out, net, pos, lengths)
        except ImportError:  # onnxruntime is optional: the export itself does not need it
            pass
    return res


def run_onnx(path: str | Path, positions: np.ndarray, lengths: np.ndarray, threads: int = 0) -> dict[str, np.ndarray]:
    """Run an exported file with onnxruntime (CPU).

    Parameters
    ----------
    path : str or Path
        File written by :func:`export_onnx`.
    positions : ndarray, shape (b, l, 2)
        Pixels; cast to float32.
    lengths : ndarray, shape (b,)
        Valid frames per track; cast to int64.
    threads : int
        Intra-op threads (0: onnxruntime's default).

    Returns
    -------
    dict of ndarray
        The outputs of :data:`OUTPUT_NAMES`.
    """
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = int(threads)
    if threads:
        so.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    feed = {"positions": np.asarray(positions, dtype=np.float32), "lengths": np.asarray(lengths, dtype=np.int64)}
    return dict(zip(OUTPUT_NAMES, sess.run(list(OUTPUT_NAMES), feed)))


def _max_abs_diff(path: Path, net: AnDiNet, pos: np.ndarray, lengths: np.ndarray) -> float:
    """Largest |ONNX - PyTorch| over the outputs on valid frames (PyTorch: the model's default scan)."""
    from andimamba.batch import TrackBatch

    got = run_onnx(path, pos, lengths, threads=1)
    ref = _with_scan(net, "auto").predict(TrackBatch(positions=np.nan_to_num(pos), lengths=lengths))
    mask = np.arange(pos.shape[1])[None, :] < lengths[:, None]  # (b, l)
    diffs = [np.abs(got[k] - ref[k])[mask].max() for k in ("state_prob", "cp_prob", "alpha", "log_K")]
    return float(max(diffs))
