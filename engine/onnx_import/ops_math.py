"""ONNX arithmetic and element-wise math -> catalogue layers.

Between computed tensors: Add, Sum, Mul, Sub, Div, Pow, Max, Min, MatMul. With a constant:
folded into the layer before it where that is exact (a scale or shift per channel of a
Linear or convolution), else the constant becomes a Parameter or Constant of its own
(constants.py) and the operation a layer between the two. Element-wise functions map one
to one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.onnx_import.constants import constant_layer
from engine.onnx_import.context import Importer, Unsupported
from engine.onnx_import.ops import const, converter, tensor
from engine.onnx_import.values import Const, Merged, ShapeVec, Tensor, Value

_LAYER = {
    "Add": "Add",
    "Sum": "Add",
    "Mul": "Multiply",
    "Sub": "Subtract",
    "Div": "Divide",
    "Pow": "Power",
    "Max": "Maximum",
    "Min": "Minimum",
}
_MANY_WIRES = ("Add", "Multiply")  # one port taking any number of wires; the others take a, b


@converter(*_LAYER)
def arithmetic(
    ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]
) -> list[Value]:
    present = [v for v in ins if v is not None]
    tensors = [v for v in present if isinstance(v, Tensor)]
    if not tensors:
        raise Unsupported("its inputs must be computed from the network's input")
    if any(t.integer for t in tensors):
        raise Unsupported("arithmetic on token ids has no layer")
    if len(present) == 2 and len(tensors) == 1:
        folded = _folded(ctx, node, present)
        if folded is not None:
            return [folded]
    rank = max(t.full_rank for t in tensors)
    operands = [
        v if isinstance(v, Tensor) else constant_layer(ctx, _constant(v), rank) for v in present
    ]
    return [combine(ctx, _LAYER[node.op_type], operands)]


def combine(ctx: Importer, layer: str, operands: list[Tensor]) -> Tensor:
    """`layer` over the operands: one node for Add and Multiply, else two at a time, in order."""
    if len(operands) == 1:
        return operands[0]
    if layer in _MANY_WIRES:
        return ctx.add_layer(layer, {}, operands)
    result = operands[0]
    for other in operands[1:]:
        result = ctx.add_layer(layer, {}, [result, other])
    return result


def _constant(value: Value) -> Const:
    if isinstance(value, ShapeVec) and value.const() is not None:
        return value.const()  # type: ignore[return-value]
    if not isinstance(value, Const):
        raise Unsupported("it combines a computed tensor with a value no layer holds")
    return value


def _folded(ctx: Importer, node: Any, present: list[Value]) -> Tensor | None:
    """x + c, x - c, x * c or x / c folded into the layer computing x, when that is exact;
    a sine/cosine table added to a sequence is a PositionalEncoding."""
    from engine.onnx_import.fusion import fold_into_producer, positional_encoding

    op = node.op_type
    first_is_tensor = isinstance(present[0], Tensor)
    x = present[0] if first_is_tensor else present[1]
    assert isinstance(x, Tensor)
    c = const(present[1] if first_is_tensor else present[0], "operand").astype(np.float64)
    if op not in ("Add", "Sum", "Mul", "Sub", "Div") or (
        op in ("Sub", "Div") and not first_is_tensor
    ):
        return None
    if op in ("Add", "Sum") and positional_encoding(c, x):
        return ctx.add_layer("PositionalEncoding", {}, [x])
    if op == "Div" and np.any(c == 0):
        return None
    shift = c if op in ("Add", "Sum") else (-c if op == "Sub" else None)
    scale = c if op == "Mul" else (1.0 / c if op == "Div" else None)
    onnx_input = node.input[0] if first_is_tensor else node.input[1]
    folded = fold_into_producer(ctx, x, onnx_input, shift=shift, scale=scale)
    if folded is not None:
        ctx.producer_of[folded.node] = node.output[0]
    return folded


@converter("MatMul")
def matmul(ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]) -> list[Value]:
    """x @ W with a constant matrix W is a Linear; any other product a MatMul layer (a
    constant operand becoming a Parameter or Constant)."""
    a, b = ins[0], ins[1]
    if isinstance(a, Merged) and isinstance(b, Const) and b.value.ndim == 2:  # Conv1D
        params = {"out_features": int(b.value.shape[1]), "bias": False}
        linear = ctx.add_layer("Linear", params, [a.tensor], {"weight": b.value.T})
        return [Merged(linear, a.reshape)]
    if isinstance(a, Tensor) and isinstance(b, (Const, ShapeVec)):
        w = const(b, "second operand")
        if w.ndim == 2:
            params = {"out_features": int(w.shape[1]), "bias": False}
            return [ctx.add_layer("Linear", params, [a], {"weight": w.T})]
    tensors = [v for v in (a, b) if isinstance(v, Tensor)]
    if not tensors:
        raise Unsupported("its inputs must be computed from the network's input")
    rank = max(t.full_rank for t in tensors)
    operands = [
        v if isinstance(v, Tensor) else constant_layer(ctx, _constant(v), rank)  # type: ignore[arg-type]
        for v in (a, b)
    ]
    return [ctx.add_layer("MatMul", {}, operands)]


# ------------------------------------------------------------------ element-wise functions
_FUNCTIONS = {
    "Exp": "Exp",
    "Log": "Log",
    "Sqrt": "Sqrt",
    "Abs": "Abs",
    "Neg": "Neg",
    "Reciprocal": "Reciprocal",
    "Erf": "Erf",
    "Softsign": "Softsign",
    "Mish": "Mish",
}


@converter(*_FUNCTIONS)
def function(
    ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]
) -> list[Value]:
    return [ctx.add_layer(_FUNCTIONS[node.op_type], {}, [tensor(ins[0])])]


@converter("HardSigmoid")
def hard_sigmoid(
    ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]
) -> list[Value]:
    alpha = float(attrs.get("alpha", 0.2))
    params = {"alpha": 1 / 6 if abs(alpha - 1 / 6) < 1e-7 else round(alpha, 7)}
    params["beta"] = round(float(attrs.get("beta", 0.5)), 7)
    return [ctx.add_layer("HardSigmoid", params, [tensor(ins[0])])]
