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
from engine.onnx_import.values import Const, Merged, ShapeVec, Tensor, Value

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
    """x @ W (+ b) on flat features is a Linear; so is one on axes merged into one (Hugging
    Face's Conv1D): then the Linear acts on the last axis and the axes stay merged."""
    merged = ins[0] if isinstance(ins[0], Merged) else None
    x = merged.tensor if merged is not None else tensor(ins[0])
    if (len(x.shape) != 1 and merged is None) or attrs.get("transA", 0):
        raise Unsupported("only x @ W (+ b) on flat features maps to Linear")
    w = const(ins[1], "weight") * float(attrs.get("alpha", 1.0))
    w = w if attrs.get("transB", 0) else w.T
    bias = optional_const(ins, 2, "bias")
    out = w.shape[0]
    if bias is not None:
        bias = np.broadcast_to(bias * float(attrs.get("beta", 1.0)), (1, out)).reshape(out)
    linear = ctx.add_layer(
        "Linear", {"out_features": out, "bias": bias is not None}, [x], {"weight": w, "bias": bias}
    )
    return [Merged(linear, merged.reshape) if merged is not None else linear]


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
    average = node.op_type == "AveragePool"
    counted = bool(attrs.get("count_include_pad", 0))
    ceil = bool(attrs.get("ceil_mode", 0))
    if begins != ends:
        if average and counted:  # the zeros are averaged in: pad them in front
            x, begins = pre_pad(ctx, x, begins, ends), [0] * axes
        elif not ceil and _ceil_mode_covers(x.shape[1:], kernel, strides, begins, ends, average):
            ceil = True
        else:
            raise Unsupported("uneven padding of a pooling window has no layer")
    elif average and any(begins) and not counted:
        raise Unsupported("averages that leave padding out of the count have no layer")
    params = {
        "kernel_size": size(kernel),
        "stride": size(strides),
        "padding": size(begins),
        "ceil_mode": ceil,
    }
    kind = "Avg" if average else "Max"
    return [ctx.add_layer(f"{kind}Pool{axes}d", params, [x])]


def _ceil_mode_covers(
    spatial: tuple[int, ...],
    kernel: list[int],
    strides: list[int],
    begins: list[int],
    ends: list[int],
    average: bool,
) -> bool:
    """True when extra padding at the end (Caffe's way of rounding up, common in model-zoo
    files) is what torch's ceil_mode computes: the same windows, whose part past the input
    max ignores and an average leaves out of the count (so averages need no front padding)."""
    from engine.layers._shape import sliding_window

    for n, k, s, b, e in zip(spatial, kernel, strides, begins, ends):
        if e < b or 2 * b > k or (average and b):
            return False
        if (n + b + e - k) // s + 1 != sliding_window(n, k, s, b, ceil=True):
            return False
    return True


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
