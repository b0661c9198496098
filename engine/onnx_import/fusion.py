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
_SQRT_2_OVER_PI = (2 / np.pi) ** 0.5


class _Spellings:
    """The ONNX graph with the look-ups pattern matching needs: who produces a value, who
    reads it, and whether an input is a given scalar constant."""

    def __init__(self, nodes: list[Any], constants: dict[str, np.ndarray]) -> None:
        self.nodes = nodes
        self.constants = constants
        self.consumers = Counter(name for node in nodes for name in node.input)
        self.producer = {out: node for node in nodes for out in node.output}
        self.readers: dict[str, list[Any]] = {}
        for node in nodes:
            for name in node.input:
                self.readers.setdefault(name, []).append(node)

    def scalar(self, name: str, value: float) -> bool:
        c = self.constants.get(name)
        return c is not None and c.size == 1 and abs(float(c.reshape(-1)[0]) - value) < 1e-4

    def only_reader(self, name: str) -> Any:
        readers = self.readers.get(name, [])
        return readers[0] if len(readers) == 1 and self.consumers[name] == 1 else None

    def made_by(self, name: str, op: str) -> Any:
        """The node of type `op` that computes `name` for this reader alone, or None."""
        node = self.producer.get(name)
        if node is None or node.op_type != op or self.consumers[name] != 1:
            return None
        return node

    def times(self, node: Any, value: float) -> str | None:
        """For a Mul (or Add, Div) of something by the scalar `value`: that something."""
        if node is None or len(node.input) != 2:
            return None
        a, b = node.input
        if self.scalar(b, value):
            return a  # type: ignore[no-any-return]
        if self.scalar(a, value) and node.op_type != "Div":
            return b  # type: ignore[no-any-return]
        return None

    def other(self, node: Any, name: str) -> str | None:
        """The input of a two-input node that is not `name`."""
        if node is None or len(node.input) != 2 or name not in node.input:
            return None
        a, b = node.input
        return b if a == name else a  # type: ignore[no-any-return]


def fuse_patterns(nodes: list[Any], constants: dict[str, np.ndarray]) -> list[Any]:
    """Replace known multi-operator spellings of single layers by one (internal) operator."""
    graph = _Spellings(nodes, constants)
    drop: set[int] = set()
    replace: dict[int, Any] = {}
    for node in nodes:
        if id(node) in drop:
            continue
        found = None
        if node.op_type == "Erf":
            found = _erf_gelu(graph, node)
        elif node.op_type == "Tanh":
            found = _tanh_gelu(graph, node) or _mish(graph, node)
        elif node.op_type == "Sigmoid":
            found = _silu(graph, node)
        elif node.op_type == "Abs":
            found = _softsign(graph, node)
        elif node.op_type == "Reshape":
            found = _flat_gather(graph, node)

        if found is None or any(id(n) in drop or id(n) in replace for n in found[0]):
            continue
        chain, fused = found
        replace[id(chain[-1])] = fused if isinstance(fused, list) else [fused]
        drop.update(id(n) for n in chain[:-1])
    return [new for n in nodes if id(n) not in drop for new in replace.get(id(n), [n])]


def _make(op: str, inputs: list[str], last: Any, name: str, **attrs: Any) -> Any:
    from onnx import helper

    return helper.make_node(op, inputs, [last.output[0]], name=name, **attrs)


# the nodes replaced (the last one's output is kept) and what replaces them: one node or several
Found = tuple[list[Any], Any] | None


def _erf_gelu(g: _Spellings, erf: Any) -> Found:
    """x * 0.5 * (1 + erf(x / sqrt 2)), as torch writes nn.GELU()."""
    divide = g.producer.get(erf.input[0])
    if divide is None or divide.op_type != "Div" or not g.scalar(divide.input[1], 2**0.5):
        return None
    x = divide.input[0]
    plus = g.only_reader(erf.output[0])
    if plus is None or plus.op_type != "Add" or not any(g.scalar(i, 1.0) for i in plus.input):
        return None
    first = g.only_reader(plus.output[0])
    if first is None or first.op_type != "Mul" or x not in first.input:
        return None
    half = g.only_reader(first.output[0])
    if half is None or half.op_type != "Mul" or not any(g.scalar(i, 0.5) for i in half.input):
        return None
    if g.consumers[divide.output[0]] != 1:
        return None
    return [divide, erf, plus, first, half], _make("Gelu", [x], half, divide.name)


def _cube_of(g: _Spellings, name: str) -> tuple[str, list[Any]] | None:
    """x ** 3 as Pow(x, 3) or x * x * x: x and the nodes computing it."""
    node = g.producer.get(name)
    if node is None or g.consumers[name] != 1:
        return None
    if node.op_type == "Pow" and g.scalar(node.input[1], 3.0):
        return node.input[0], [node]
    if node.op_type != "Mul":
        return None
    for x, square_name in (node.input, reversed(node.input)):
        square = g.made_by(square_name, "Mul")
        if square is not None and list(square.input) == [x, x]:
            return x, [square, node]
    return None


def _tanh_gelu(g: _Spellings, tanh: Any) -> Found:
    """0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x**3))): GELU's tanh approximation,
    as torch writes nn.GELU(approximate="tanh") and as GPT-2's code spells it."""
    inner = g.made_by(tanh.input[0], "Mul")
    total_name = g.times(inner, _SQRT_2_OVER_PI)
    total = g.made_by(total_name, "Add") if total_name else None
    if total is None:
        return None
    for x, scaled_name in (total.input, reversed(total.input)):
        scaled = g.made_by(scaled_name, "Mul")
        cube_name = g.times(scaled, 0.044715)
        cube = _cube_of(g, cube_name) if cube_name else None
        if cube is not None and cube[0] == x:
            break
    else:
        return None
    plus = g.only_reader(tanh.output[0])
    if plus is None or plus.op_type != "Add" or g.times(plus, 1.0) != tanh.output[0]:
        return None
    product = g.only_reader(plus.output[0])
    half_x = (
        g.other(product, plus.output[0])
        if product is not None and product.op_type == "Mul"
        else None
    )
    if half_x is None:
        return None
    front = [*cube[1], scaled, total, inner, tanh, plus]
    if half_x == x:  # x * (1 + t), then * 0.5
        last = g.only_reader(product.output[0])
        if last is None or last.op_type != "Mul" or g.times(last, 0.5) != product.output[0]:
            return None
        chain = [*front, product, last]
    else:  # (0.5 * x) * (1 + t)
        half = g.made_by(half_x, "Mul")
        if half is None or g.times(half, 0.5) != x:
            return None
        chain = [half, *front, product]
    return chain, _make("Gelu", [x], chain[-1], tanh.name, approximate="tanh")


def _mish(g: _Spellings, tanh: Any) -> Found:
    """x * tanh(softplus(x))."""
    softplus = g.made_by(tanh.input[0], "Softplus")
    product = g.only_reader(tanh.output[0])
    if softplus is None or product is None or product.op_type != "Mul":
        return None
    x = softplus.input[0]
    if g.other(product, tanh.output[0]) != x:
        return None
    return [softplus, tanh, product], _make("Mish", [x], product, softplus.name)


def _silu(g: _Spellings, sigmoid: Any) -> Found:
    """x * sigmoid(x)."""
    product = g.only_reader(sigmoid.output[0])
    if product is None or product.op_type != "Mul" or sigmoid.input[0] not in product.input:
        return None
    return [sigmoid, product], _make("Silu", [sigmoid.input[0]], product, sigmoid.name)


def _softsign(g: _Spellings, absolute: Any) -> Found:
    """x / (1 + |x|)."""
    plus = g.only_reader(absolute.output[0])
    if plus is None or plus.op_type != "Add" or g.times(plus, 1.0) != absolute.output[0]:
        return None
    divide = g.only_reader(plus.output[0])
    x = absolute.input[0]
    if divide is None or divide.op_type != "Div" or list(divide.input) != [x, plus.output[0]]:
        return None
    return [absolute, plus, divide], _make("Softsign", [x], divide, absolute.name)


def _flat_gather(g: _Spellings, reshape: Any) -> Found:
    """Reshape(x, [-1]) then Gather of fixed indices that put every value back where it was:
    how torch's dynamo exporter writes an `as_strided` view of a contiguous tensor (ConvNeXt
    after its pooling). The pair is x itself, reshaped to the indices' shape."""
    target = g.constants.get(reshape.input[1]) if len(reshape.input) > 1 else None
    gather = g.only_reader(reshape.output[0])
    if target is None or target.reshape(-1).tolist() != [-1] or gather is None:
        return None
    indices = g.constants.get(gather.input[1]) if gather.op_type == "Gather" else None
    if indices is None or indices.ndim < 2 or gather.input[0] != reshape.output[0]:
        return None
    batch, size = indices.shape[0], indices[0].size
    layout = np.arange(batch * size, dtype=np.int64).reshape(indices.shape)
    if not np.array_equal(indices, layout):
        return None
    from onnx import helper, numpy_helper

    shape_name = f"{reshape.output[0]}__sample_shape"
    g.constants[shape_name] = np.array([0, *indices.shape[1:]], dtype=np.int64)
    shape = helper.make_node(
        "Constant", [], [shape_name], value=numpy_helper.from_array(g.constants[shape_name])
    )
    fused = _make("Reshape", [reshape.input[0], shape_name], gather, reshape.name)
    return [reshape, gather], [shape, fused]
