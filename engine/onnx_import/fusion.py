"""Folding constant arithmetic into layers, and recognising multi-operator layers.

Exporters spell some layers as several operators (GELU as Div/Erf/Add/Mul/Mul,
SiLU as Sigmoid and Mul, a Linear as MatMul then Add); recognising them keeps
the imported graph as short as the network that was drawn.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from engine.layers import layer_type
from engine.onnx_import.context import Importer
from engine.onnx_import.values import Tensor


def fold_into_producer(
    ctx: Importer,
    x: Tensor,
    onnx_value: str,
    shift: np.ndarray | None = None,
    scale: np.ndarray | None = None,
) -> Tensor | None:
    """Fold ``x + shift`` or ``x * scale`` into the Linear/convolution computing `x`, if exact."""
    node = ctx.graph.nodes[x.node]
    layer = layer_type(node.type)
    axis = layer.channel_axis if layer is not None else None
    if axis is None or ctx.producer_of.get(x.node) != onnx_value:
        return None
    if not ctx.sole_reader(x, onnx_value):
        return None
    constant = shift if shift is not None else scale
    assert constant is not None
    vector = _per_channel(constant, x.shape, axis)
    if vector is None:
        return None
    weights = ctx.weights.setdefault(x.node, {})
    if shift is not None:
        if layer is not None and layer.param("bias") is not None:  # a learnable bias to switch on
            node.params["bias"] = True
        elif "bias" not in weights:
            return None
        weights["bias"] = (weights.get("bias", 0.0) + vector).astype(np.float32)
        return x
    if "weight" not in weights:
        return None
    weight = weights["weight"].astype(np.float64)
    out_axis = 1 if node.type == "ConvTranspose2d" else 0
    if node.type == "ConvTranspose2d" and node.params.get("groups", 1) != 1:
        return None
    shape = [1] * weight.ndim
    shape[out_axis] = vector.size
    weights["weight"] = (weight * vector.reshape(shape)).astype(np.float32)
    if "bias" in weights:
        weights["bias"] = (weights["bias"] * vector).astype(np.float32)
    return x


def _per_channel(constant: np.ndarray, sample: tuple[int, ...], axis: int) -> np.ndarray | None:
    """The constant as one value per channel, or None when it varies along another axis."""
    full = (1, *sample)
    try:
        spread = np.broadcast_to(constant, np.broadcast_shapes(constant.shape, full))
    except ValueError:
        return None
    if spread.shape != full:
        return None
    per_sample = spread[0]
    moved = np.moveaxis(per_sample, axis, 0).reshape(sample[axis], -1)
    if not np.all(moved == moved[:, :1]):
        return None
    return moved[:, 0].astype(np.float64)


def positional_encoding(constant: np.ndarray, x: Tensor) -> bool:
    """True when adding `constant` is exactly the PositionalEncoding layer's table."""
    if len(x.shape) != 2 or x.shape[1] % 2:
        return False
    table = (
        constant.reshape(constant.shape[1:])
        if constant.ndim == 3 and constant.shape[0] == 1
        else constant
    )
    if table.shape != x.shape:
        return False
    from engine.modules import PositionalEncoding

    expected = PositionalEncoding(*x.shape).table.numpy()
    return bool(np.allclose(table, expected, atol=1e-6))


# ------------------------------------------------------------------ patterns in the ONNX graph
def fuse_patterns(nodes: list[Any], constants: dict[str, np.ndarray]) -> list[Any]:
    """Replace known multi-operator spellings of single layers by one (internal) operator."""
    from onnx import helper

    consumers = Counter(name for node in nodes for name in node.input)
    producer = {out: node for node in nodes for out in node.output}
    drop: set[int] = set()
    replace: dict[int, Any] = {}

    def scalar(name: str, value: float) -> bool:
        c = constants.get(name)
        return c is not None and c.size == 1 and abs(float(c.reshape(-1)[0]) - value) < 1e-4

    def only_reader(name: str) -> Any:
        readers = [n for n in nodes if name in n.input]
        return readers[0] if len(readers) == 1 and consumers[name] == 1 else None

    for node in nodes:
        if node.op_type == "Erf":
            divide = producer.get(node.input[0])
            if divide is None or divide.op_type != "Div" or not scalar(divide.input[1], 2**0.5):
                continue
            x = divide.input[0]
            plus = only_reader(node.output[0])
            if plus is None or plus.op_type != "Add" or not any(scalar(i, 1.0) for i in plus.input):
                continue
            first = only_reader(plus.output[0])
            if first is None or first.op_type != "Mul":
                continue
            chain = [divide, node, plus, first]
            if x in first.input:
                half = only_reader(first.output[0])
                if (
                    half is None
                    or half.op_type != "Mul"
                    or not any(scalar(i, 0.5) for i in half.input)
                ):
                    continue
                chain.append(half)
            else:
                continue
            if consumers[divide.output[0]] != 1:
                continue
            last = chain[-1]
            fused = helper.make_node("Gelu", [x], [last.output[0]], name=divide.name)
            replace[id(last)] = fused
            drop.update(id(n) for n in chain[:-1])
        elif node.op_type == "Sigmoid":
            multiply = only_reader(node.output[0])
            if (
                multiply is not None
                and multiply.op_type == "Mul"
                and node.input[0] in multiply.input
            ):
                fused = helper.make_node(
                    "Silu", [node.input[0]], [multiply.output[0]], name=node.name
                )
                replace[id(multiply)] = fused
                drop.add(id(node))
    return [replace.get(id(n), n) for n in nodes if id(n) not in drop]
