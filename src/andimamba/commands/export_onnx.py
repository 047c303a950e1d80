"""``andimamba export-onnx``: write a network as an ONNX file (pixel positions in, per-frame predictions out)."""

from __future__ import annotations

import argparse

from ..errors import UserError
from .args import add_model, add_out, add_overwrite


def register(sub) -> None:
    p = sub.add_parser(
        "export-onnx",
        help="export a model to ONNX for other tools (Fiji, Java, C++, ...)",
        description="Write the whole inference path (features, network, probabilities) as one ONNX graph with dynamic "
        "batch and length: inputs positions (tracks, frames, 2) float32 px and lengths (tracks,) int64; outputs per frame "
        "state_prob, state, cp_prob, alpha, K, log_K, state_logits, cp_logit (docs/onnx.md).",
    )
    add_model(p, classical=False)
    add_out(p, "the .onnx file to write")
    add_overwrite(p, "replace an existing --out file")
    p.add_argument("--no-verify", action="store_true", help="skip the onnxruntime check against PyTorch")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..export import export_onnx

    try:
        res = export_onnx(args.model, args.out, overwrite=args.overwrite, verify=not args.no_verify)
    except ImportError as err:
        raise UserError(str(err)) from err
    check = "not verified" if res.max_abs_diff is None else f"max |ONNX - PyTorch| {res.max_abs_diff:.1e}"
    print(f"wrote {res.path} ({res.arch}, {res.size_bytes / 1e6:.2f} MB, {res.n_nodes} nodes, opset {res.opset}) "
          f"in {res.seconds:.0f} s; {check}")
    return 0
