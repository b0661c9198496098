"""ONNX RNN, LSTM and GRU operators -> Netwright's recurrent layers.

ONNX recurrent operators read sequences steps-first and return
``(steps, directions, batch, hidden)``; exporters wrap them in Transposes,
Squeezes and Reshapes and feed zero initial states built from the batch
size. Those wrappers are followed here as views of one batch-first tensor,
so an exported ``nn.LSTM(batch_first=True)`` comes back as one layer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.onnx_import.context import Importer, Unsupported
from engine.onnx_import.values import (
    BATCH,
    Const,
    RecurrentOutput,
    ShapeVec,
    Tensor,
    TimeMajor,
    Unavailable,
    Value,
    Zeros,
)

# torch's gate order, as indices into ONNX's (LSTM: i o f c -> i f g o; GRU: z r h -> r z n)
_GATES = {"LSTM": [0, 2, 3, 1], "GRU": [1, 0, 2], "RNN": [0]}


def view_op(
    ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]
) -> list[Value] | None:
    """Operators on sequence views and batch-sized zeros; None when `node` is not one of them."""
    op, first = node.op_type, ins[0] if ins else None
    if op == "ConstantOfShape" and isinstance(first, ShapeVec):
        value = attrs.get("value")
        if value is not None and np.any(_array(value)):
            raise Unsupported("it fills a batch-sized tensor with a value other than zero")
        return [Zeros(first.items)]
    if op in ("Slice", "Identity") and isinstance(first, Zeros):
        return [first]
    if op == "Transpose":
        perm = list(attrs.get("perm", []))
        if isinstance(first, Tensor) and len(first.shape) == 2 and perm == [1, 0, 2]:
            return [TimeMajor(first)]
        if isinstance(first, TimeMajor) and perm == [1, 0, 2]:
            return [first.tensor]
        if isinstance(first, RecurrentOutput) and not first.split and perm == [0, 2, 1, 3]:
            return [RecurrentOutput(first.tensor, first.directions, split=True)]
    if op == "Squeeze" and isinstance(first, RecurrentOutput) and not first.split:
        axes = attrs.get("axes")
        if axes is None and len(ins) > 1 and isinstance(ins[1], Const):
            axes = [int(a) for a in ins[1].value.reshape(-1)]
        if axes == [1] and first.directions == 1:
            return [TimeMajor(first.tensor)]
    if op == "Reshape" and isinstance(first, RecurrentOutput) and first.split:
        target = ins[1].value.reshape(-1).tolist() if isinstance(ins[1], Const) else None
        if target is not None and len(target) == 3 and target[2] in (-1, first.tensor.shape[1]):
            return [TimeMajor(first.tensor)]
    if op in ("RNN", "LSTM", "GRU"):
        return recurrent(ctx, node, ins, attrs)
    if any(isinstance(v, (Zeros, TimeMajor, RecurrentOutput)) for v in ins):
        raise Unsupported("it works on a tensor whose batch axis was moved, which no layer does")
    return None


def recurrent(
    ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]
) -> list[Value]:
    op = node.op_type
    sequence = ins[0]
    if not isinstance(sequence, TimeMajor):
        raise Unsupported(
            "only a batch-first sequence turned steps-first maps to a recurrent layer"
        )
    x = sequence.tensor
    if len(ins) > 4 and ins[4] is not None:
        raise Unsupported("per-sample sequence lengths have no layer")
    for index in (5, 6):
        if len(ins) > index and ins[index] is not None and not isinstance(ins[index], Zeros):
            raise Unsupported("a recurrent layer that starts from a given state has no layer")
    if len(ins) > 7 and ins[7] is not None:
        raise Unsupported("LSTM peephole weights have no layer")
    if attrs.get("clip") is not None or attrs.get("input_forget", 0):
        raise Unsupported(f"{op} with clipping or coupled input-forget gates has no layer")
    if op == "GRU" and not attrs.get("linear_before_reset", 0):
        raise Unsupported("GRU with linear_before_reset=0 computes differently from torch's GRU")
    activations = [str(a).lower() for a in attrs.get("activations", [])]
    defaults = {"RNN": ["tanh"], "GRU": ["sigmoid", "tanh"], "LSTM": ["sigmoid", "tanh", "tanh"]}[
        op
    ]
    if activations and activations != defaults * max(1, len(activations) // len(defaults)):
        raise Unsupported(f"{op} with activations {activations} has no layer")
    direction = attrs.get("direction", "forward")
    if direction == "reverse":
        raise Unsupported("a recurrent layer that reads only backwards has no layer")
    directions = 2 if direction == "bidirectional" else 1
    hidden = int(attrs["hidden_size"])
    weights = _weights(op, ins, directions, hidden)
    params = {"hidden_size": hidden, "bidirectional": directions == 2, "output": "sequence"}
    out = ctx.add_layer(op, params, [x], weights)
    gone = Unavailable(f"the final state of {op} has no layer output (use the sequence instead)")
    return [RecurrentOutput(out, directions), gone, gone]


def _weights(
    op: str, ins: list[Value | None], directions: int, hidden: int
) -> dict[str, np.ndarray | None]:
    if not isinstance(ins[1], Const) or not isinstance(ins[2], Const):
        raise Unsupported("its weights must be constants")
    w, r = ins[1].value, ins[2].value
    bias = ins[3].value if len(ins) > 3 and isinstance(ins[3], Const) else None
    order = _GATES[op]
    gates = len(order)
    weights: dict[str, np.ndarray | None] = {}
    for d in range(directions):
        suffix = "_l0" + ("_reverse" if d else "")
        b = bias[d] if bias is not None else np.zeros(2 * gates * hidden, dtype=np.float32)
        weights[f"rnn.weight_ih{suffix}"] = _reorder(w[d], order, hidden)
        weights[f"rnn.weight_hh{suffix}"] = _reorder(r[d], order, hidden)
        weights[f"rnn.bias_ih{suffix}"] = _reorder(b[: gates * hidden], order, hidden)
        weights[f"rnn.bias_hh{suffix}"] = _reorder(b[gates * hidden :], order, hidden)
    return weights


def _reorder(array: np.ndarray, order: list[int], hidden: int) -> np.ndarray:
    return np.concatenate([array[i * hidden : (i + 1) * hidden] for i in order], axis=0)


def _array(value: Any) -> np.ndarray:
    from onnx import numpy_helper

    return numpy_helper.to_array(value) if hasattr(value, "data_type") else np.asarray(value)


__all__ = ["BATCH", "view_op"]
