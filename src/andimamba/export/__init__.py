"""Trained networks for use outside Python: one ONNX file with the whole inference path (docs/onnx.md).

:func:`export_onnx` writes the file, :func:`run_onnx` runs it with onnxruntime; the graph's inputs and
outputs are listed in :mod:`andimamba.export.onnx_model`, the ONNX form of the scan in
:mod:`andimamba.export.onnx_ops`.
"""

from andimamba.export.onnx_model import (
    INPUT_NAMES,
    OUTPUT_NAMES,
    STATE_NAMES,
    ExportResult,
    export_onnx,
    run_onnx,
)

__all__ = ["export_onnx", "run_onnx", "ExportResult", "INPUT_NAMES", "OUTPUT_NAMES", "STATE_NAMES"]
