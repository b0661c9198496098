"""ONNX normalization and activation operators -> catalogue layers."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.onnx_import.context import Importer, Unsupported
from engine.onnx_import.ops import const, converter, optional_const, sample_axis, tensor
from engine.onnx_import.values import Tensor, Value


# ------------------------------------------------------------------ normalization
def epsilon(attrs: dict[str, Any]) -> float:
    """The file's epsilon as it was written: ONNX keeps it as float32, where BERT's 1e-12
    reads back as 9.99999996e-13 (below LayerNorm's smallest eps)."""
    return float(f"{float(attrs.get('epsilon', 1e-5)):.7g}")


@converter("BatchNormalization")
def batch_norm(
    ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]
) -> list[Value]:
    x = tensor(ins[0])
    kind = {1: "BatchNorm1d", 2: "BatchNorm1d", 3: "BatchNorm2d", 4: "BatchNorm3d"}.get(
        len(x.shape)
    )
    if kind is None:
        raise Unsupported(f"batch normalization of {len(x.shape)}-axis samples has no layer")
    scale, shift, mean, var = (
        const(ins[i], n) for i, n in enumerate(("scale", "bias", "mean", "variance"), start=1)
    )
    momentum = min(max(1.0 - float(attrs.get("momentum", 0.9)), 0.0), 1.0)
    params = {"eps": epsilon(attrs), "momentum": round(momentum, 6)}
    return [
        ctx.add_layer(
            kind,
            params,
            [x],
            {"weight": scale, "bias": shift, "running_mean": mean, "running_var": var},
        )
    ]


@converter("LayerNormalization")
def layer_norm(
    ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]
) -> list[Value]:
    x = tensor(ins[0])
    if sample_axis(int(attrs.get("axis", -1)), x) != len(x.shape) - 1:
        raise Unsupported("only normalization over the last axis maps to LayerNorm")
    scale = const(ins[1], "scale")
    shift = optional_const(ins, 2, "bias")
    if shift is None:
        shift = np.zeros_like(scale)
    params = {"eps": epsilon(attrs)}
    return [ctx.add_layer("LayerNorm", params, [x], {"weight": scale, "bias": shift})]


@converter("LRN")
def lrn(ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]) -> list[Value]:
    params = {
        "size": int(attrs["size"]),
        "alpha": float(attrs.get("alpha", 1e-4)),
        "beta": float(attrs.get("beta", 0.75)),
        "k": float(attrs.get("bias", 1.0)),
    }
    return [ctx.add_layer("LocalResponseNorm", params, [tensor(ins[0])])]


# ------------------------------------------------------------------ activations
_SIMPLE = {
    "Relu": "ReLU",
    "Sigmoid": "Sigmoid",
    "Tanh": "Tanh",
    "Softplus": "Softplus",
    "HardSwish": "Hardswish",
    "Silu": "SiLU",
}


@converter(*_SIMPLE)
def simple(ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]) -> list[Value]:
    return [ctx.add_layer(_SIMPLE[node.op_type], {}, [tensor(ins[0])])]


@converter("Clip")
def clip(ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]) -> list[Value]:
    """Clip(0, 6) is ReLU6 (how torch writes it), Clip(0, none) a ReLU, any other two bounds a
    Hardtanh, and one bound alone a Maximum or Minimum with a Constant. The bounds are inputs
    from opset 11, attributes before."""
    from engine.onnx_import.constants import constant_layer
    from engine.onnx_import.values import Const

    low, high = (
        float(bound) if bound is not None else attrs.get(name)
        for bound, name in (
            (optional_const(ins, 1, "lower bound"), "min"),
            (optional_const(ins, 2, "upper bound"), "max"),
        )
    )
    low = None if low is not None and math.isinf(low) and low < 0 else low
    high = None if high is not None and math.isinf(high) and high > 0 else high
    x = tensor(ins[0])
    if low == 0.0 and high == 6.0:
        return [ctx.add_layer("ReLU6", {}, [x])]
    if low == 0.0 and high is None:
        return [ctx.add_layer("ReLU", {}, [x])]
    if low is not None and high is not None:
        return [ctx.add_layer("Hardtanh", {"min_val": low, "max_val": high}, [x])]
    if low is None and high is None:
        return [x]
    bound = constant_layer(ctx, Const(np.array([low if high is None else high])), x.full_rank)
    return [ctx.add_layer("Maximum" if high is None else "Minimum", {}, [x, bound])]


@converter("LeakyRelu")
def leaky(ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]) -> list[Value]:
    slope = round(float(attrs.get("alpha", 0.01)), 7)
    return [ctx.add_layer("LeakyReLU", {"negative_slope": slope}, [tensor(ins[0])])]


@converter("Elu")
def elu(ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]) -> list[Value]:
    alpha = round(float(attrs.get("alpha", 1.0)), 7)
    return [ctx.add_layer("ELU", {"alpha": alpha}, [tensor(ins[0])])]


@converter("Selu")
def selu(ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]) -> list[Value]:
    if (
        abs(attrs.get("alpha", 1.6732632) - 1.6732632) > 1e-5
        or abs(attrs.get("gamma", 1.0507010) - 1.0507010) > 1e-5
    ):
        raise Unsupported("SELU with non-standard constants has no layer")
    return [ctx.add_layer("SELU", {}, [tensor(ins[0])])]


@converter("Gelu")
def gelu(ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]) -> list[Value]:
    approximate = str(attrs.get("approximate", "none"))
    if approximate not in ("none", "tanh"):
        raise Unsupported(f"GELU's '{approximate}' approximation has no layer")
    params = {"approximate": approximate} if approximate != "none" else {}
    return [ctx.add_layer("GELU", params, [tensor(ins[0])])]


@converter("PRelu")
def prelu(ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]) -> list[Value]:
    x = tensor(ins[0])
    slope = const(ins[1], "slope").reshape(-1)
    if slope.size == 1:
        return [ctx.add_layer("PReLU", {"per_channel": False}, [x], {"weight": slope})]
    if slope.size == x.shape[0]:
        return [ctx.add_layer("PReLU", {"per_channel": True}, [x], {"weight": slope})]
    raise Unsupported("only one slope, or one per channel, maps to PReLU")


@converter("Softmax", "LogSoftmax")
def softmax(
    ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]
) -> list[Value]:
    """From opset 13 softmax runs along one axis. Before, it treats every axis from `axis` on
    as one (flatten to 2-D, softmax, reshape back): the layers that compute that are a
    reshape merging those axes, a softmax over the merged one and a reshape back."""
    from engine.onnx_import.ops_shape import reshape_to

    x = tensor(ins[0])
    axis = sample_axis(int(attrs.get("axis", -1 if ctx.opset >= 13 else 1)), x)
    last = len(x.shape) - 1
    if ctx.opset >= 13 or axis == last:
        return [ctx.add_layer(node.op_type, {"axis": axis if axis != last else -1}, [x])]
    merged = reshape_to(ctx, x, (*x.shape[:axis], math.prod(x.shape[axis:])))
    normalised = ctx.add_layer(node.op_type, {"axis": -1}, [merged])
    return [reshape_to(ctx, normalised, x.shape)]


@converter("Dropout")
def dropout(
    ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]
) -> list[Value]:
    ratio = attrs.get("ratio")
    if ratio is None and len(ins) > 1 and ins[1] is not None:
        ratio = float(const(ins[1], "ratio").reshape(()))
    p = min(round(float(0.5 if ratio is None else ratio), 6), 0.99)
    return [ctx.add_layer("Dropout", {"p": p}, [tensor(ins[0])])]


@converter("Identity")
def identity(
    ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]
) -> list[Value]:
    return [tensor(ins[0])]


@converter("Cast")
def cast(ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]) -> list[Value]:
    from onnx import TensorProto

    x = tensor(ins[0])
    floats = (TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16)
    integers = (TensorProto.INT64, TensorProto.INT32)
    if (attrs["to"] in floats and not x.integer) or (attrs["to"] in integers and x.integer):
        return [x]
    raise Unsupported("a change of number type inside the network has no layer")


@converter("InstanceNormalization")
def instance_norm(
    ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]
) -> list[Value]:
    """Per-channel normalization of each sample is InstanceNorm. torch spells GroupNorm as
    Reshape(groups, -1) -> InstanceNormalization -> Reshape back: that comes back a GroupNorm."""
    x = tensor(ins[0])
    scale, shift = const(ins[1], "scale"), const(ins[2], "bias")
    eps = epsilon(attrs)
    grouped = _group_norm_spelling(ctx, node, x, scale, shift, eps)
    if grouped is not None:
        return [grouped]
    if not 2 <= len(x.shape) <= 4:
        raise Unsupported(
            f"instance normalization of {len(x.shape)}-axis samples has no layer "
            "(channels and one to three more axes do)"
        )
    plain = bool(np.all(scale == 1.0) and np.all(shift == 0.0))
    weights: dict[str, np.ndarray | None] | None = (
        None if plain else {"weight": scale, "bias": shift}
    )
    return [ctx.add_layer("InstanceNorm", {"eps": eps, "affine": not plain}, [x], weights)]


def _group_norm_spelling(
    ctx: Importer, node: Any, x: Tensor, scale: np.ndarray, shift: np.ndarray, eps: float
) -> Tensor | None:
    """torch's GroupNorm (Reshape to groups, instance-normalize, Reshape back), as one layer."""
    source = ctx.graph.nodes[x.node]
    if not (
        source.type == "Reshape"
        and len(x.shape) == 2
        and np.all(scale == 1.0)
        and np.all(shift == 0.0)
        and ctx.sole_reader(x, node.input[0])
    ):
        return None
    (edge,) = ctx.graph.edges_into(x.node)
    original = ctx.shapes[edge.source.node]
    if original[0] % x.shape[0]:
        return None
    ctx.graph.remove_node(x.node)
    channels = original[0]
    return ctx.add_layer(
        "GroupNorm",
        {"num_groups": x.shape[0], "eps": eps},
        [Tensor(edge.source.node, original, port=edge.source.port)],
        {"weight": np.ones(channels), "bias": np.zeros(channels)},
    )
