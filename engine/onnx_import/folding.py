"""Constant folding: operators whose inputs are all constants become constants.

onnx's reference evaluator computes them, so every standard operator folds.
Operators that could be told to allocate absurd amounts (ConstantOfShape,
Expand, Tile, Range) are sized before they run, against the memory this
machine has free.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.onnx_import.errors import OnnxImportError
from engine.onnx_import.memory import too_big
from engine.onnx_import.values import BATCH, Const, ShapeVec, Value

FOLDED_BYTES = 8  # per value, at worst (float64 or int64)
_ALWAYS_FITS = 2**20  # values; smaller constants are not worth asking the system about


def fold(node: Any, inputs: list[np.ndarray | None], opset: int) -> list[np.ndarray]:
    """Evaluate `node` on constant inputs (None for an omitted optional input).

    onnx's reference evaluator knows every operator at every opset; where it fails (its
    GatherElements cannot pick from more than 32 entries) onnxruntime computes the node."""
    from onnx.reference import ReferenceEvaluator

    _guard_size(node, inputs)
    feeds = {name: value for name, value in zip(node.input, inputs) if name and value is not None}
    model = _one_node_model(node, feeds, opset)
    try:
        results = list(ReferenceEvaluator(model).run(None, feeds))
    except Exception as error:  # the reference evaluator raises many kinds
        computed = _run_in_onnxruntime(model, feeds)
        if computed is None:
            raise OnnxImportError(
                f"node '{node.name or node.op_type}' ({node.op_type}) cannot be computed on its "
                f"constant inputs: {_first_line(error)}"
            ) from None
        results = computed
    return [np.asarray(r) for r in results]


def _run_in_onnxruntime(model: Any, feeds: dict[str, np.ndarray]) -> list[Any] | None:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 4
    try:
        session = ort.InferenceSession(
            model.SerializeToString(), options, providers=["CPUExecutionProvider"]
        )
        return list(session.run(None, feeds))
    except Exception:  # onnxruntime raises its own kinds
        return None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__


def _one_node_model(node: Any, feeds: dict[str, np.ndarray], opset: int) -> Any:
    """`node` alone in a model of the file's opset: the reference evaluator ignores the opset
    it is given with a bare node and would compute an old operator by today's definition."""
    from onnx import helper

    inputs = [
        helper.make_tensor_value_info(
            name, helper.np_dtype_to_tensor_dtype(value.dtype), list(value.shape)
        )
        for name, value in feeds.items()
    ]
    outputs = [helper.make_empty_tensor_value_info(name) for name in node.output if name]
    graph = helper.make_graph([node], "fold", inputs, outputs)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _guard_size(node: Any, inputs: list[np.ndarray | None]) -> None:
    planned = 0
    op = node.op_type
    if op == "ConstantOfShape" and inputs and inputs[0] is not None:
        planned = math.prod(int(v) for v in inputs[0].reshape(-1))
    elif op == "Expand" and len(inputs) > 1 and inputs[1] is not None and inputs[0] is not None:
        shape = np.broadcast_shapes(inputs[0].shape, tuple(int(max(v, 1)) for v in inputs[1]))
        planned = math.prod(shape)
    elif op == "Tile" and len(inputs) > 1 and inputs[0] is not None and inputs[1] is not None:
        planned = inputs[0].size * math.prod(int(v) for v in inputs[1].reshape(-1))
    elif op == "Range" and len(inputs) == 3 and all(i is not None for i in inputs):
        start, limit, delta = (float(np.asarray(i).reshape(())) for i in inputs)  # type: ignore[union-attr]
        planned = 0 if delta == 0 else max(0, math.ceil((limit - start) / delta))
    if planned < 0:
        raise OnnxImportError(f"node '{node.name or op}' ({op}) asks for a negative size")
    problem = too_big(planned * FOLDED_BYTES) if planned > _ALWAYS_FITS else None
    if problem is not None:
        raise OnnxImportError(
            f"node '{node.name or op}' ({op}) would create {planned:,} values, {problem}"
        )


# --------------------------------------------------------------- shape vectors
def shape_op(node: Any, values: list[Value | None], attrs: dict[str, Any]) -> Value | None:
    """Operators on shape vectors that keep the batch size symbolic; None if not one of them."""
    op = node.op_type
    if op in ("Identity", "Cast") and isinstance(values[0], ShapeVec):
        return values[0]
    if op == "Gather" and isinstance(values[0], ShapeVec) and isinstance(values[1], Const):
        entries, index = values[0].items, values[1].value
        picked = [entries[int(i)] for i in index.reshape(-1)]
        return ShapeVec(tuple(picked), scalar=index.ndim == 0)
    if op == "Slice" and isinstance(values[0], ShapeVec):
        return _slice(values[0], values[1:], attrs)
    if op == "Unsqueeze" and isinstance(values[0], ShapeVec) and values[0].scalar:
        return ShapeVec(values[0].items)
    if op == "Squeeze" and isinstance(values[0], ShapeVec) and len(values[0].items) == 1:
        return ShapeVec(values[0].items, scalar=True)
    if op == "Concat" and any(isinstance(v, ShapeVec) for v in values):
        items: list[Any] = []
        for value in values:
            if isinstance(value, ShapeVec):
                items.extend(value.items)
            elif isinstance(value, Const):
                items.extend(int(v) for v in value.value.reshape(-1))
            else:
                return None
        return ShapeVec(tuple(items))
    return None


def _slice(vector: ShapeVec, rest: list[Value | None], attrs: dict[str, Any]) -> Value | None:
    if rest:
        bounds = [v.value.reshape(-1) if isinstance(v, Const) else None for v in rest]
        if any(b is None for b in bounds[:2]):
            return None
        starts, ends = bounds[0], bounds[1]
        steps = bounds[3] if len(bounds) > 3 and bounds[3] is not None else [1]
    else:
        starts, ends, steps = attrs.get("starts", [0]), attrs.get("ends", [2**62]), [1]
    start, end, step = int(starts[0]), int(ends[0]), int(steps[0])  # type: ignore[index]
    n = len(vector.items)
    end = min(end, n) if end >= 0 else end
    return ShapeVec(tuple(vector.items[slice(start, end, step)]))


def has_batch(value: Value | None) -> bool:
    return isinstance(value, ShapeVec) and any(i is BATCH for i in value.items)
