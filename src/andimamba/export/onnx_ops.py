"""ONNX lowering of what the exporter cannot translate well: the selective scan and softplus.

The selective scan reaches the exporter as one custom operator (``andimamba::selective_scan``, see
:mod:`andimamba.nn.scan_export`). It is translated into a node of a private domain, ``andimamba.Recurrence``,
whose definition, an ONNX function holding one ``Scan`` over frames, is added to the model and inlined by
:func:`finish`: the file holds standard ONNX operators only. Glossary as :mod:`andimamba.nn.scan`
(b, l, d, n; Δ, A, B, C, D); inside the loop the state h is laid out (b, n, d), not (b, d, n), because
onnxruntime broadcasts fastest along the last axis (the loop ran 1.5-2x faster).
"""

from __future__ import annotations

from typing import Any, Callable

import torch

__all__ = ["translation_table", "finish"]

DOMAIN = "andimamba"  # private ONNX domain of the recurrence node, gone after inlining


def translation_table() -> dict[Any, Callable]:
    """The ``custom_translation_table`` of ``torch.onnx.export`` for andimamba's models."""
    from andimamba.nn.scan_export import OP as scan_op

    return {scan_op: _scan_translation(), torch.ops.aten.softplus.default: _softplus_translation}


def finish(model):
    """The exporter's ``onnx_ir`` model -> a ``ModelProto`` of standard ops: simplified, recurrence inlined."""
    return _inline_recurrence(_simplify(model))


def _scan_translation():
    """onnxscript translation of ``andimamba::selective_scan``: shapes prepared here, the recurrence in one node.

    The node ``andimamba.Recurrence`` is defined by :func:`_recurrence_function`. Everything per (b, l, n, d)
    is computed inside its loop, one frame at a time: materialising exp(ΔA) and ΔBu for all frames first was
    twice slower in onnxruntime (the memory traffic of four (b, l, n, d) tensors).
    """
    import onnx
    import onnxscript
    from onnxscript import opset18 as op

    schema = onnx.defs.OpSchema(
        "Recurrence", DOMAIN, 1,
        inputs=[onnx.defs.OpSchema.FormalParameter(n, "T") for n in ("delta", "du", "A_t", "B", "C")],
        outputs=[onnx.defs.OpSchema.FormalParameter("y", "T")],
        type_constraints=[("T", ["tensor(float)"], "")],
    )
    recurrence = onnxscript.values.Op(onnxscript.values.Opset(DOMAIN, 1), "Recurrence", schema)

    def selective_scan(u, delta, A, B, C, D):
        # state h laid out (b, n, d), not (b, d, n): onnxruntime broadcasts fastest along the last axis
        y = recurrence(
            op.Unsqueeze(delta, [2]),  # (b, l, 1, d)
            op.Unsqueeze(op.Mul(delta, u), [2]),  # (b, l, 1, d): Δ_t u_t
            op.Transpose(A, perm=[1, 0]),  # (n, d), or (1, d) for a per-channel decay
            op.Unsqueeze(B, [-1]),  # (b, l, n, 1)
            op.Unsqueeze(C, [2]),  # (b, l, 1, n)
        )  # (b, l, 1, d)
        return op.Add(op.Squeeze(y, [2]), op.Mul(u, D))  # (b, l, d)

    return selective_scan


def _softplus_translation(x, beta: float = 1.0, threshold: float = 20.0):
    """aten.softplus as PyTorch computes it, x where beta x > threshold else log(1 + exp(beta x)) / beta.

    onnxruntime's own Softplus op took 2.7x longer (13% of a bimamba call). log(1 + e) instead of log1p(e)
    differs only below softplus ~ 1e-7, where Δ is 0 to float32 precision either way.
    """
    from onnxscript import opset18 as op

    bx = op.Mul(x, op.CastLike(beta, x))
    soft = op.Div(op.Log(op.Add(op.Exp(bx), op.CastLike(1.0, x))), op.CastLike(beta, x))
    return op.Where(op.Greater(bx, op.CastLike(threshold, x)), x, soft)


def _recurrence_function(opset: int):
    """ONNX function ``andimamba.Recurrence(delta, du, A_t, B, C) -> y``: one ``Scan`` over axis 1 (frames).

    Per frame t, with h (b, n, d) starting at 0: h = exp(Δ_t A) h + B_t (Δ_t u_t) and y_t = C_t h (a MatMul).
    Shapes: delta, du (b, l, 1, d); A_t (n, d) or (1, d), read by the loop body from the enclosing scope;
    B (b, l, n, 1); C (b, l, 1, n); y (b, l, 1, d).
    """
    from onnx import TensorProto, helper

    f32 = TensorProto.FLOAT

    def value(name: str, shape: list):
        return helper.make_tensor_value_info(name, f32, shape)

    def ints(name: str, values: list[int]):
        return helper.make_node("Constant", [], [name], value=helper.make_tensor(name, TensorProto.INT64, [len(values)], values))

    step = helper.make_graph(
        [
            helper.make_node("Mul", ["delta_t", "A_t"], ["dA"]),  # (b, n, d)
            helper.make_node("Exp", ["dA"], ["decay"]),
            helper.make_node("Mul", ["B_t", "du_t"], ["x"]),  # (b, n, d)
            helper.make_node("Mul", ["decay", "h"], ["kept"]),
            helper.make_node("Add", ["kept", "x"], ["h_next"]),  # (b, n, d)
            helper.make_node("MatMul", ["C_t", "h_next"], ["y_t"]),  # (b, 1, d)
        ],
        "recurrence_step",
        [value("h", ["b", "n", "d"]), value("delta_t", ["b", 1, "d"]), value("du_t", ["b", 1, "d"]),
         value("B_t", ["b", "n", 1]), value("C_t", ["b", 1, "n"])],
        [value("h_next", ["b", "n", "d"]), value("y_t", ["b", 1, "d"])],
    )
    nodes = [
        helper.make_node("Shape", ["B"], ["B_shape"]),  # [b, l, n, 1]
        helper.make_node("Shape", ["delta"], ["delta_shape"]),  # [b, l, 1, d]
        ints("b_n", [0, 2]),
        ints("d", [3]),
        helper.make_node("Gather", ["B_shape", "b_n"], ["bn"]),
        helper.make_node("Gather", ["delta_shape", "d"], ["dd"]),
        helper.make_node("Concat", ["bn", "dd"], ["h_shape"], axis=0),  # [b, n, d]
        helper.make_node("ConstantOfShape", ["h_shape"], ["h0"], value=helper.make_tensor("zero", f32, [1], [0.0])),
        helper.make_node("Scan", ["h0", "delta", "du", "B", "C"], ["h_last", "y"], body=step, num_scan_inputs=4,
                         scan_input_axes=[1, 1, 1, 1], scan_output_axes=[1]),
    ]
    return helper.make_function(DOMAIN, "Recurrence", ["delta", "du", "A_t", "B", "C"], ["y"], nodes,
                                [helper.make_opsetid("", opset)])


def _inline_recurrence(proto):
    """Define ``andimamba.Recurrence`` in the model and inline it: a graph of standard ONNX ops only."""
    import onnx.inliner

    opset = next(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx"))
    if any(n.domain == DOMAIN for n in proto.graph.node):
        proto.functions.append(_recurrence_function(opset))
    proto = onnx.inliner.inline_local_functions(proto)
    kept = [o for o in proto.opset_import if o.domain != DOMAIN]
    del proto.opset_import[:]
    proto.opset_import.extend(kept)
    return proto


def _simplify(model):
    """Constant folding, dead-code and duplicate removal; the exporter's debug metadata dropped -> ModelProto.

    Instead of the exporter's ``optimize=True``: its pattern rewriter took 20-40% of the export time, and
    onnxruntime, which optimises the graph itself when loading it, ran no faster on its output.
    """
    import onnx_ir as ir
    import onnx_ir.passes.common as passes
    from onnxscript.optimizer import fold_constants_ir

    fold_constants_ir(model)
    ir.passes.Sequential(
        passes.RemoveUnusedNodesPass(),
        passes.CommonSubexpressionEliminationPass(),
        passes.IdentityEliminationPass(),
        passes.RemoveUnusedNodesPass(),
        passes.LiftConstantsToInitializersPass(lift_all_constants=True, size_limit=0),
        passes.DeduplicateInitializersPass(),
        passes.ClearMetadataAndDocStringPass(),  # per-node stack traces: 3/4 of the file
        passes.RemoveUnusedOpsetsPass(),
    )(model)
    return ir.serde.serialize_model(model)
