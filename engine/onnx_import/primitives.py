"""Attention that is not MultiheadAttention, imported as the operators it is written in.

A subgraph recognised as attention but computing something else (another scale, a
mask of its own) cannot be one MultiheadAttention layer. It can still be its parts,
a MatMul, a scale, a mask, a Softmax and a MatMul, where layers exist for each: the
recognised operators are converted one by one, as if never recognised. If any of
them has no layer, the import is left exactly as before the attempt and the refusal
says why the subgraph is not MultiheadAttention, which is the more useful reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.onnx_import.attention import AttentionMatch
from engine.onnx_import.context import Importer, Unsupported
from engine.onnx_import.values import Skipped, Tensor

ConvertNode = Callable[[Importer, Any, list[Any], dict[str, Any], int], list[Any]]


def attention_as_primitives(
    importer: Importer,
    fused: Any,
    values: dict[str, Any],
    convert_node: ConvertNode,
    attributes: Callable[[Any], dict[str, Any]],
) -> bool:
    """Convert the operators behind the recognised `fused` node; True when every one has a
    layer (their values are then in `values`), False with `importer` left untouched."""
    match = importer.recognised.get(fused.output[0])
    if not isinstance(match, AttentionMatch):
        return False
    saved = _snapshot(importer)
    produced: dict[str, Any] = {}
    pending = [n for n in match.nodes if not all(o in values for o in n.output if o)]
    for node in pending:
        importer.consumers.update(name for name in node.input if name)
    try:
        for node in pending:
            inputs = [_value(name, values, produced) for name in node.input]
            importer.current = node
            outputs = convert_node(importer, node, inputs, attributes(node), importer.opset)
            produced.update((name, v) for name, v in zip(node.output, outputs) if name)
    except Unsupported:
        _restore(importer, saved)
        return False
    if not isinstance(produced.get(match.y), Tensor):
        _restore(importer, saved)
        return False
    values.update(produced)
    return True


def _value(name: str, values: dict[str, Any], produced: dict[str, Any]) -> Any:
    if not name:
        return None
    if name in produced:
        return produced[name]
    value = values.get(name)
    if value is None or isinstance(value, Skipped):
        raise Unsupported(f"'{name}' is not available")
    return value


def _snapshot(importer: Importer) -> dict[str, Any]:
    return {
        "graph": importer.graph.copy(),
        "weights": {node: dict(tensors) for node, tensors in importer.weights.items()},
        "consumers": importer.consumers.copy(),
        "producer_of": dict(importer.producer_of),
        "shapes": dict(importer.shapes),
    }


def _restore(importer: Importer, saved: dict[str, Any]) -> None:
    for name, value in saved.items():
        setattr(importer, name, value)
