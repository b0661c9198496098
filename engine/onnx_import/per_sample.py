"""Constants that a file expands to the batch size, kept as one sample's worth.

torch writes ``class_token.expand(batch, -1, -1)`` (ViT) and BERT's token-type ids as
``Shape -> ConstantOfShape/Where -> Expand``: the same numbers for every sample, sized by
the batch. Such a value is computed here with a batch of one and marked `per_sample`:
its first axis stands for every sample, so arithmetic on it folds as usual and a layer
reading it gets a Parameter or Constant, which Netwright hands to every sample anyway.
Only operators that keep the batch axis first (element-wise ones, views that leave axis 0
alone, a lookup by per-sample ids) may touch it; any other is refused, never guessed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.onnx_import.context import Unsupported
from engine.onnx_import.values import BATCH, Const, ShapeVec, Value

_ELEMENTWISE = set(
    "Add Sub Mul Div Pow Neg Abs Sqrt Exp Log Erf Tanh Sigmoid Relu Clip Min Max Not And Or "
    "Xor Equal Less Greater LessOrEqual GreaterOrEqual Where Cast Identity IsNaN IsInf Sign "
    "Reciprocal Floor Ceil Round Mod Expand".split()
)
_FILLS = ("ConstantOfShape", "Expand")  # operators that make a tensor from a shape
# operators whose result is (part of) their first input, rearranged: a weight stays a weight
VIEWS = set(
    "Identity Cast Reshape Unsqueeze Squeeze Flatten Transpose Expand Slice Gather Tile".split()
)


def fold_per_sample(
    node: Any, inputs: list[Value | None], attrs: dict[str, Any], opset: int
) -> list[Value] | None:
    """The node's outputs when it computes a constant expanded to the batch (or from one);
    None when it does not."""
    from engine.onnx_import.folding import fold

    present = [v for v in inputs if v is not None]
    if not all(isinstance(v, (Const, ShapeVec)) for v in present):
        return None
    marked = any(isinstance(v, Const) and v.per_sample for v in present)
    if not marked and not _fills_batch(node, inputs):
        return None
    arrays = [None if v is None else _with_one_sample(v) for v in inputs]
    if marked and not _keeps_batch_first(node, inputs, arrays, attrs):
        raise Unsupported("it computes across the batch axis of a constant expanded to the batch")
    results = fold(node, arrays, opset)
    if any(r.ndim == 0 or r.shape[0] != 1 for r in results):
        raise Unsupported("it computes across the batch axis of a constant expanded to the batch")
    trainable = node.op_type in VIEWS and isinstance(inputs[0], Const) and inputs[0].trainable
    return [Const(r, trainable=trainable, per_sample=True) for r in results]


def _fills_batch(node: Any, inputs: list[Value | None]) -> bool:
    """ConstantOfShape or Expand to a shape whose first entry, and only that, is the batch."""
    if node.op_type not in _FILLS:
        return False
    shape = inputs[0] if node.op_type == "ConstantOfShape" else inputs[1]
    if node.op_type == "Expand" and not isinstance(inputs[0], Const):
        return False
    return (
        isinstance(shape, ShapeVec)
        and bool(shape.items)
        and shape.items[0] is BATCH
        and not any(i is BATCH for i in shape.items[1:])
    )


def _with_one_sample(value: Value) -> np.ndarray:
    """The value as an array, the batch size taken as 1 (which a per-sample constant has)."""
    if isinstance(value, ShapeVec):
        items = [1 if i is BATCH else int(i) for i in value.items]
        array = np.array(items, dtype=np.int64)
        return array.reshape(()) if value.scalar else array
    assert isinstance(value, Const)
    return value.value


def _keeps_batch_first(
    node: Any, inputs: list[Value | None], arrays: list[np.ndarray | None], attrs: dict[str, Any]
) -> bool:
    op = node.op_type
    marked = [isinstance(v, Const) and v.per_sample for v in inputs]
    rank = max(a.ndim for a, m in zip(arrays, marked) if m and a is not None)
    if (
        op in _ELEMENTWISE
    ):  # lined up from the last axis: the batch stays first if no input is longer
        return all(a is None or a.ndim <= rank for a in arrays)
    if op in ("Unsqueeze", "Squeeze", "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin"):
        axes = _axes(attrs, arrays)
        return axes is not None and 0 not in [a % (rank + 1) if a < 0 else a for a in axes]
    if op == "Transpose":
        return list(attrs.get("perm", [1]))[:1] == [0]
    if op == "Reshape":
        target = arrays[1]
        return target is not None and target.size > 0 and int(target.reshape(-1)[0]) in (0, 1)
    if op == "Gather":
        axis = int(attrs.get("axis", 0))
        if marked[0] and not marked[1]:
            return axis % rank != 0
        return marked[1] and not marked[0] and axis == 0
    if op == "Slice":
        sliced = arrays[3] if len(arrays) > 3 else None
        return sliced is not None and 0 not in [int(a) % rank for a in sliced.reshape(-1)]
    return False


def _axes(attrs: dict[str, Any], arrays: list[np.ndarray | None]) -> list[int] | None:
    if "axes" in attrs:
        return [int(a) for a in attrs["axes"]]
    if len(arrays) > 1 and arrays[1] is not None:
        return [int(a) for a in arrays[1].reshape(-1)]
    return None
