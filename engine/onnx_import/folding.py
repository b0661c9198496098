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


def fold_values(node: Any, inputs: list[Value | None], opset: int) -> list[Value]:
    """`fold` on constant values; a view of a weight (a Reshape, a Gather of rows) stays one."""
    from engine.onnx_import.per_sample import VIEWS

    arrays = [None if v is None else _as_array(v) for v in inputs]
    first = inputs[0] if inputs else None
    trainable = node.op_type in VIEWS and isinstance(first, Const) and first.trainable
    return [Const(a, trainable=trainable) for a in fold(node, arrays, opset)]


def _as_array(value: Value) -> np.ndarray:
    if isinstance(value, ShapeVec):
        folded = value.const()
        assert folded is not None
        return folded.value
    assert isinstance(value, Const)
    return value.value


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
    if op == "Shape" and isinstance(values[0], ShapeVec):
        dims = [] if values[0].scalar else [len(values[0].items)]
        return Const(np.array(dims, dtype=np.int64))
    if op == "Reshape" and isinstance(values[0], ShapeVec) and isinstance(values[1], Const):
        if values[1].value.reshape(-1).tolist() in ([-1], [len(values[0].items)]):
            return ShapeVec(values[0].items)
    if op == "Equal" and any(isinstance(v, ShapeVec) for v in values[:2]):
        return _equal(values[0], values[1])
    if (
        op == "Where"
        and isinstance(values[0], Const)
        and any(isinstance(v, ShapeVec) for v in values)
    ):
        return _where(values[0].value, values[1], values[2])
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


def _items(value: Value | None) -> list[Any] | None:
    if isinstance(value, ShapeVec):
        return list(value.items)
    if isinstance(value, Const) and value.value.ndim <= 1:
        return [v.item() for v in value.value.reshape(-1)]
    return None


def _equal(first: Value | None, second: Value | None) -> Value | None:
    """Entry by entry; the batch size is at least 1, so it equals no number below 1 (torch's
    expand(batch, -1, -1) is exported as a comparison of its sizes with -1)."""
    a, b = _items(first), _items(second)
    if a is None or b is None:
        return None
    if len(a) == 1:
        a = a * len(b)
    if len(b) == 1:
        b = b * len(a)
    result = []
    for x, y in zip(a, b):
        if x is BATCH or y is BATCH:
            other = y if x is BATCH else x
            if other is BATCH or other >= 1:
                return None  # depends on the batch size
            result.append(False)
        else:
            result.append(x == y)
    return Const(np.array(result, dtype=bool))


def _where(condition: np.ndarray, first: Value | None, second: Value | None) -> Value | None:
    """Entry by entry: from `first` where the condition holds, else from `second`."""
    a, b = _items(first), _items(second)
    flags: list[Any] = [bool(c) for c in condition.reshape(-1)]
    if a is None or b is None:
        return None
    size = max(len(flags), len(a), len(b))
    if any(len(v) not in (1, size) for v in (flags, a, b)):
        return None
    flags, a, b = (v * size if len(v) == 1 else v for v in (flags, a, b))
    return ShapeVec(tuple(x if flag else y for flag, x, y in zip(flags, a, b)))


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
