"""ONNX operators -> catalogue layers, one small converter per operator.

Each converter gets the importer, the ONNX node, its input values and its
attributes, and returns the values of the node's outputs. It raises
`Unsupported` with the reason when this particular use has no layer.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from engine.onnx_import.context import Importer, Unsupported
from engine.onnx_import.values import BATCH, Const, ShapeVec, Tensor, Value

Converter = Callable[[Importer, Any, list[Value | None], dict[str, Any]], list[Value]]
CONVERTERS: dict[str, Converter] = {}


def converter(*ops: str) -> Callable[[Converter], Converter]:
    def register(function: Converter) -> Converter:
        for op in ops:
            CONVERTERS[op] = function
        return function

    return register


# ------------------------------------------------------------------ helpers
def tensor(value: Value | None, what: str = "input") -> Tensor:
    if not isinstance(value, Tensor):
        raise Unsupported(f"its {what} must be computed from the network's input")
    return value


def const(value: Value | None, what: str) -> np.ndarray:
    if isinstance(value, ShapeVec) and value.const() is not None:
        return value.const().value  # type: ignore[union-attr]
    if not isinstance(value, Const):
        raise Unsupported(f"its {what} must be a constant")
    return value.value


def optional_const(ins: list[Value | None], index: int, what: str) -> np.ndarray | None:
    return const(ins[index], what) if len(ins) > index and ins[index] is not None else None


def sample_axis(axis: int, x: Tensor) -> int:
    """An ONNX axis (batch axis included) as a sample axis; the batch axis is refused."""
    full = axis + x.full_rank if axis < 0 else axis
    if not 0 <= full < x.full_rank:
        raise Unsupported(f"axis {axis} does not exist")
    if full == 0:
        raise Unsupported("it works across the batch axis")
    return full - 1


def size(values: list[int]) -> int | list[int]:
    """One number when every axis agrees (reads better in the inspector), else one per axis."""
    return values[0] if len(set(values)) == 1 else list(values)


def pads_for(
    attrs: dict[str, Any],
    spatial: tuple[int, ...],
    kernel: list[int],
    strides: list[int],
    dilations: list[int],
) -> tuple[list[int], list[int]]:
    """Begin and end padding per spatial axis, auto_pad resolved."""
    axes = len(spatial)
    auto = attrs.get("auto_pad", "NOTSET")
    if auto in ("NOTSET", ""):
        pads = list(attrs.get("pads", [0] * 2 * axes))
        return pads[:axes], pads[axes:]
    if auto == "VALID":
        return [0] * axes, [0] * axes
    begins, ends = [], []
    for n, k, s, d in zip(spatial, kernel, strides, dilations):
        total = max((math.ceil(n / s) - 1) * s + (k - 1) * d + 1 - n, 0)
        small, large = total // 2, total - total // 2
        begins.append(small if auto == "SAME_UPPER" else large)
        ends.append(large if auto == "SAME_UPPER" else small)
    return begins, ends


def pre_pad(ctx: Importer, x: Tensor, begins: list[int], ends: list[int]) -> Tensor:
    """Asymmetric padding becomes a ZeroPad2d in front (only images have one)."""
    if len(begins) != 2:
        raise Unsupported("it pads unevenly, which Netwright only does for images")
    return ctx.add_layer("ZeroPad2d", {"padding": [begins[1], ends[1], begins[0], ends[0]]}, [x])


# ------------------------------------------------------------------ dense and convolution
@converter("Gemm")
def gemm(ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]) -> list[Value]:
    x = tensor(ins[0])
    if len(x.shape) != 1 or attrs.get("transA", 0):
        raise Unsupported("only x @ W (+ b) on flat features maps to Linear")
    w = const(ins[1], "weight") * float(attrs.get("alpha", 1.0))
    w = w if attrs.get("transB", 0) else w.T
    bias = optional_const(ins, 2, "bias")
    out = w.shape[0]
    if bias is not None:
        bias = np.broadcast_to(bias * float(attrs.get("beta", 1.0)), (1, out)).reshape(out)
    return [
        ctx.add_layer(
            "Linear",
            {"out_features": out, "bias": bias is not None},
            [x],
            {"weight": w, "bias": bias},
        )
    ]


@converter("MatMul")
def matmul(ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]) -> list[Value]:
    x = tensor(ins[0])
    w = const(ins[1], "second operand")
    if w.ndim != 2:
        raise Unsupported("only a product with a constant matrix maps to Linear")
    return [
        ctx.add_layer("Linear", {"out_features": w.shape[1], "bias": False}, [x], {"weight": w.T})
    ]


@converter("Conv")
def conv(ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]) -> list[Value]:
    x = tensor(ins[0])
    w = const(ins[1], "weight")
    bias = optional_const(ins, 2, "bias")
    axes = w.ndim - 2
    if axes not in (1, 2):
        raise Unsupported(f"{axes}-D convolutions have no layer yet (1-D and 2-D do)")
    kernel = list(w.shape[2:])
    strides = list(attrs.get("strides", [1] * axes))
    dilations = list(attrs.get("dilations", [1] * axes))
    begins, ends = pads_for(attrs, x.shape[1:], kernel, strides, dilations)
    if begins != ends:
        x, begins = pre_pad(ctx, x, begins, ends), [0] * axes
    params = {
        "out_channels": int(w.shape[0]),
        "kernel_size": size(kernel),
        "stride": size(strides),
        "padding": size(begins),
        "dilation": size(dilations),
        "groups": int(attrs.get("group", 1)),
        "bias": bias is not None,
    }
    return [ctx.add_layer(f"Conv{axes}d", params, [x], {"weight": w, "bias": bias})]


@converter("ConvTranspose")
def conv_transpose(
    ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]
) -> list[Value]:
    x = tensor(ins[0])
    w = const(ins[1], "weight")
    bias = optional_const(ins, 2, "bias")
    if w.ndim != 4:
        raise Unsupported("only 2-D transposed convolutions have a layer")
    if attrs.get("group", 1) != 1 or any(d != 1 for d in attrs.get("dilations", [1, 1])):
        raise Unsupported("grouped or dilated transposed convolutions have no layer")
    if attrs.get("auto_pad", "NOTSET") not in ("NOTSET", "", "VALID") or "output_shape" in attrs:
        raise Unsupported("automatic output sizes of transposed convolutions are not supported")
    pads = list(attrs.get("pads", [0, 0, 0, 0]))
    if pads[:2] != pads[2:]:
        raise Unsupported("uneven padding of a transposed convolution has no layer")
    params = {
        "out_channels": int(w.shape[1]),
        "kernel_size": size(list(w.shape[2:])),
        "stride": size(list(attrs.get("strides", [1, 1]))),
        "padding": size(pads[:2]),
        "output_padding": size(list(attrs.get("output_padding", [0, 0]))),
        "bias": bias is not None,
    }
    return [ctx.add_layer("ConvTranspose2d", params, [x], {"weight": w, "bias": bias})]


# ------------------------------------------------------------------ pooling
@converter("MaxPool", "AveragePool")
def pool(ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]) -> list[Value]:
    x = tensor(ins[0])
    if len(node.output) > 1 and node.output[1]:
        raise Unsupported("the indices output of MaxPool has no layer")
    kernel = list(attrs["kernel_shape"])
    axes = len(kernel)
    if axes not in (1, 2):
        raise Unsupported(f"{axes}-D pooling has no layer yet")
    if any(d != 1 for d in attrs.get("dilations", [1] * axes)):
        raise Unsupported("dilated pooling has no layer")
    strides = list(attrs.get("strides", [1] * axes))
    begins, ends = pads_for(attrs, x.shape[1:], kernel, strides, [1] * axes)
    if begins != ends:
        raise Unsupported("uneven padding of a pooling window has no layer")
    average = node.op_type == "AveragePool"
    if average and any(begins) and not attrs.get("count_include_pad", 0):
        raise Unsupported("averages that leave padding out of the count have no layer")
    params = {
        "kernel_size": size(kernel),
        "stride": size(strides),
        "padding": size(begins),
        "ceil_mode": bool(attrs.get("ceil_mode", 0)),
    }
    kind = "Avg" if average else "Max"
    return [ctx.add_layer(f"{kind}Pool{axes}d", params, [x])]


@converter("GlobalAveragePool", "GlobalMaxPool")
def global_pool(
    ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]
) -> list[Value]:
    x = tensor(ins[0])
    axes = len(x.shape) - 1
    if axes not in (1, 2):
        raise Unsupported(f"global pooling over {axes} axes has no layer")
    if node.op_type == "GlobalAveragePool":
        return [ctx.add_layer(f"AdaptiveAvgPool{axes}d", {"output_size": 1}, [x])]
    window = size(list(x.shape[1:]))
    return [ctx.add_layer(f"MaxPool{axes}d", {"kernel_size": window, "stride": window}, [x])]


@converter("ReduceMean", "ReduceMax")
def reduce(ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]) -> list[Value]:
    x = tensor(ins[0])
    axes_value = attrs.get("axes")
    if axes_value is None and len(ins) > 1 and ins[1] is not None:
        axes_value = [int(a) for a in const(ins[1], "axes").reshape(-1)]
    if axes_value is None:
        raise Unsupported("reducing over every axis includes the batch axis")
    axes = sorted(sample_axis(int(a), x) for a in axes_value)
    keep = bool(attrs.get("keepdims", 1))
    mean = node.op_type == "ReduceMean"
    if len(x.shape) == 2 and axes == [0] and not keep:
        return [ctx.add_layer("SequencePool", {"mode": "mean" if mean else "max"}, [x])]
    spatial = list(range(1, len(x.shape)))
    if mean and axes == spatial and len(spatial) in (1, 2):
        pooled = ctx.add_layer(f"AdaptiveAvgPool{len(spatial)}d", {"output_size": 1}, [x])
        return [pooled if keep else ctx.add_layer("Flatten", {}, [pooled])]
    raise Unsupported(f"this reduction (axes {list(axes_value)}) has no layer")


# ------------------------------------------------------------------ normalization
@converter("BatchNormalization")
def batch_norm(
    ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]
) -> list[Value]:
    x = tensor(ins[0])
    kind = {1: "BatchNorm1d", 2: "BatchNorm1d", 3: "BatchNorm2d"}.get(len(x.shape))
    if kind is None:
        raise Unsupported(f"batch normalization of {len(x.shape)}-axis samples has no layer")
    scale, shift, mean, var = (
        const(ins[i], n) for i, n in enumerate(("scale", "bias", "mean", "variance"), start=1)
    )
    momentum = min(max(1.0 - float(attrs.get("momentum", 0.9)), 0.0), 1.0)
    params = {"eps": float(attrs.get("epsilon", 1e-5)), "momentum": round(momentum, 6)}
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
    params = {"eps": float(attrs.get("epsilon", 1e-5))}
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
    if attrs.get("approximate", "none") != "none":
        raise Unsupported("the tanh approximation of GELU has no layer")
    return [ctx.add_layer("GELU", {}, [tensor(ins[0])])]


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
    x = tensor(ins[0])
    axis = sample_axis(int(attrs.get("axis", -1 if ctx.opset >= 13 else 1)), x)
    if ctx.opset < 13 and axis != len(x.shape) - 1:
        raise Unsupported(
            "before opset 13 softmax flattens the axes after 'axis'; only the last axis maps"
        )
    return [ctx.add_layer(node.op_type, {"axis": axis if axis != len(x.shape) - 1 else -1}, [x])]


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


# ------------------------------------------------------------------ reshaping
@converter("Flatten")
def flatten(
    ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]
) -> list[Value]:
    x = tensor(ins[0])
    axis = sample_axis(int(attrs.get("axis", 1)), x) if attrs.get("axis", 1) != 0 else 0
    if attrs.get("axis", 1) == 0:
        raise Unsupported("flattening from axis 0 merges the batch axis")
    if axis == 0:
        return [x if len(x.shape) == 1 else ctx.add_layer("Flatten", {}, [x], integer=x.integer)]
    return [reshape_to(ctx, x, (*x.shape[:axis], math.prod(x.shape[axis:])))]


def reshape_to(ctx: Importer, x: Tensor, shape: tuple[int, ...]) -> Tensor:
    if shape == x.shape:
        return x
    if len(shape) == 1:
        return ctx.add_layer("Flatten", {}, [x], integer=x.integer)
    return ctx.add_layer("Reshape", {"shape": list(shape)}, [x], integer=x.integer)


@converter("Reshape")
def reshape(
    ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]
) -> list[Value]:
    x = tensor(ins[0])
    target = ins[1]
    if isinstance(target, Const):
        items: list[Any] = [int(v) for v in target.value.reshape(-1)]
    elif isinstance(target, ShapeVec):
        items = list(target.items)
    else:
        raise Unsupported("its target shape must be known before the network runs")
    first, rest = items[0], items[1:]
    count = math.prod(x.shape)
    rest = [x.shape[i] if v == 0 and i < len(x.shape) else v for i, v in enumerate(rest)]
    keeps_batch = first is BATCH or first == 0
    if not keeps_batch and first == -1 and -1 not in rest and math.prod(rest) == count:
        keeps_batch = True
    if not keeps_batch and isinstance(first, int) and first == ctx.fixed_batch and first > 0:
        keeps_batch = True
    if not keeps_batch or any(v is BATCH for v in rest):
        raise Unsupported("it reshapes across the batch axis")
    if rest.count(-1) == 1:
        known = math.prod(v for v in rest if v != -1)
        if known <= 0 or count % known:
            raise Unsupported("its target shape does not fit the values")
        rest = [count // known if v == -1 else v for v in rest]
    if math.prod(rest) != count:
        raise Unsupported("its target shape does not fit the values")
    return [reshape_to(ctx, x, tuple(int(v) for v in rest))]


@converter("Squeeze", "Unsqueeze")
def squeeze(
    ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]
) -> list[Value]:
    x = tensor(ins[0])
    axes = attrs.get("axes")
    if axes is None and len(ins) > 1 and ins[1] is not None:
        axes = [int(a) for a in const(ins[1], "axes").reshape(-1)]
    shape = [1, *x.shape]
    if node.op_type == "Squeeze":
        axes = axes if axes is not None else [i for i, n in enumerate(shape) if n == 1 and i]
        drop = {a + len(shape) if a < 0 else a for a in axes}
        if 0 in drop:
            raise Unsupported("it removes the batch axis")
        new = [n for i, n in enumerate(shape) if i not in drop]
    else:
        rank = len(shape) + len(axes or [])
        for a in sorted(a + rank if a < 0 else a for a in axes or []):
            if a == 0:
                raise Unsupported("it adds an axis before the batch axis")
            shape.insert(a, 1)
        new = shape
    return [reshape_to(ctx, x, tuple(new[1:]))]


@converter("Transpose")
def transpose(
    ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]
) -> list[Value]:
    x = tensor(ins[0])
    perm = list(attrs.get("perm", list(reversed(range(x.full_rank)))))
    if perm[0] != 0:
        raise Unsupported("it moves the batch axis")
    order = [p - 1 for p in perm[1:]]
    if order == sorted(order):
        return [x]
    return [ctx.add_layer("Permute", {"order": order}, [x], integer=x.integer)]


@converter("Concat")
def concat(ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]) -> list[Value]:
    xs = [tensor(v, "inputs") for v in ins if v is not None]
    axis = sample_axis(int(attrs["axis"]), xs[0])
    if len(xs) == 1:
        return [xs[0]]
    return [ctx.add_layer("Concat", {"axis": axis}, xs, integer=all(x.integer for x in xs))]


@converter("Pad")
def pad(ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]) -> list[Value]:
    x = tensor(ins[0])
    if attrs.get("mode", "constant") != "constant":
        raise Unsupported(f"'{attrs.get('mode')}' padding has no layer (zero padding does)")
    pads = attrs.get("pads")
    if pads is None:
        pads = [int(p) for p in const(ins[1], "pads").reshape(-1)]
    value = attrs.get("value", 0.0)
    if len(ins) > 2 and ins[2] is not None:
        value = float(const(ins[2], "value").reshape(-1)[0]) if const(ins[2], "value").size else 0.0
    if len(ins) > 3 and ins[3] is not None:
        raise Unsupported("padding selected axes only is not supported")
    if value != 0.0:
        raise Unsupported("padding with a value other than zero has no layer")
    rank = x.full_rank
    begins, ends = list(pads[:rank]), list(pads[rank:])
    if rank != 4 or begins[:2] != [0, 0] or ends[:2] != [0, 0] or min(pads) < 0:
        raise Unsupported("only zero padding of image height and width maps to ZeroPad2d")
    if not any(pads):
        return [x]
    return [ctx.add_layer("ZeroPad2d", {"padding": [begins[3], ends[3], begins[2], ends[2]]}, [x])]


@converter("Resize", "Upsample")
def resize(ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]) -> list[Value]:
    x = tensor(ins[0])
    scales = None
    if node.op_type == "Upsample" or ctx.opset < 11:
        scales = attrs.get("scales") or (optional_const(ins, 1, "scales") if len(ins) > 1 else None)
    else:
        scales = optional_const(ins, 2, "scales")
        sizes = optional_const(ins, 3, "sizes")
        if (scales is None or np.size(scales) == 0) and sizes is not None:
            full = (1, *x.shape)
            scales = [s / n for s, n in zip(sizes.reshape(-1)[1:], full)]
            scales = [1.0, *scales]
    if scales is None or np.size(scales) != x.full_rank:
        raise Unsupported("its scale factors must be constants")
    factors = [float(s) for s in np.asarray(scales).reshape(-1)]
    spatial = factors[2:]
    if factors[:2] != [1.0, 1.0] or len(set(spatial)) != 1 or not spatial[0].is_integer():
        raise Unsupported("only one whole-number factor for every spatial axis maps to Upsample")
    mode = str(attrs.get("mode", "nearest"))
    if mode not in ("nearest", "linear", "bilinear"):
        raise Unsupported(f"'{mode}' resizing has no layer")
    params = {
        "scale_factor": int(spatial[0]),
        "mode": "nearest" if mode == "nearest" else "bilinear",
    }
    return [ctx.add_layer("Upsample", params, [x])]


@converter("Gather")
def gather(ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]) -> list[Value]:
    data, indices = ins[0], ins[1]
    axis = int(attrs.get("axis", 0))
    if isinstance(data, Const) and isinstance(indices, Tensor):
        table = data.value
        if table.ndim != 2 or axis != 0 or not indices.integer:
            raise Unsupported(
                "only a lookup in a constant 2-D table by token ids maps to Embedding"
            )
        params = {"num_embeddings": int(table.shape[0]), "embedding_dim": int(table.shape[1])}
        return [ctx.add_layer("Embedding", params, [indices], {"weight": table})]
    x = tensor(data)
    index = const(indices, "index")
    if len(x.shape) == 2 and sample_axis(axis, x) == 0 and index.ndim == 0:
        position = int(index) % x.shape[0]
        if position in (0, x.shape[0] - 1):
            mode = "first" if position == 0 else "last"
            return [ctx.add_layer("SequencePool", {"mode": mode}, [x])]
    raise Unsupported("picking entries out of a computed tensor has no layer")


# ------------------------------------------------------------------ merges and constants
@converter("Add", "Sum", "Mul", "Sub", "Div")
def arithmetic(
    ctx: Importer, node: Any, ins: list[Value | None], attrs: dict[str, Any]
) -> list[Value]:
    tensors = [v for v in ins if isinstance(v, Tensor)]
    constants = [v for v in ins if not isinstance(v, Tensor)]
    op = node.op_type
    if not constants:
        if op in ("Add", "Sum"):
            return [ctx.add_layer("Add", {}, tensors) if len(tensors) > 1 else tensors[0]]
        if op == "Mul":
            return [ctx.add_layer("Multiply", {}, tensors)]
        raise Unsupported(f"{op} of two computed tensors has no layer")
    if len(ins) != 2 or len(tensors) != 1:
        raise Unsupported("it combines constants with computed tensors in a way no layer does")
    x = tensors[0]
    c = const(constants[0], "operand").astype(np.float64)
    if op in ("Sub", "Div") and not isinstance(ins[0], Tensor):
        raise Unsupported(f"{op} of a constant by a computed tensor has no layer")
    from engine.onnx_import.fusion import fold_into_producer, positional_encoding

    if op in ("Add", "Sum") and positional_encoding(c, x):
        return [ctx.add_layer("PositionalEncoding", {}, [x])]
    shift = c if op in ("Add", "Sum") else (-c if op == "Sub" else None)
    scale = c if op == "Mul" else (1.0 / c if op == "Div" else None)
    onnx_input = node.input[0] if isinstance(ins[0], Tensor) else node.input[1]
    folded = fold_into_producer(ctx, x, onnx_input, shift=shift, scale=scale)
    if folded is None:
        raise Unsupported("it applies a constant that cannot be folded into the layer before it")
    ctx.producer_of[folded.node] = node.output[0]
    return [folded]
