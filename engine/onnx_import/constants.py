"""A constant that no layer absorbs becomes a layer of its own: a Parameter or a Constant.

ONNX combines tensors with constants freely (ViT adds its position embeddings, ConvNeXt
multiplies by a layer scale, a Softsign adds 1); when the constant cannot be folded into
the layer before it, it is kept as its own node. A weight of the file (an initializer,
or a view of one) becomes a Parameter, so the imported network still learns it; any other
constant becomes a Constant. Either is one sample's worth, handed to every sample.
"""

from __future__ import annotations

import numpy as np

from engine.layers.base import MAX_MAGNITUDE
from engine.onnx_import.context import Importer, Unsupported
from engine.onnx_import.values import Const, Tensor


def per_sample_value(ctx: Importer, constant: Const, rank: int) -> np.ndarray:
    """What `constant` holds for one sample when combined with tensors of `rank` axes, the
    batch axis included (numpy broadcasting lines axes up from the last)."""
    value = constant.value
    if constant.per_sample:
        return np.asarray(value[0])
    while value.ndim > rank and value.shape[0] == 1:
        value = value[0]
    if value.ndim > rank:
        raise Unsupported(f"a constant of {value.ndim} axes meets tensors of {rank}")
    if value.ndim < rank:
        return value.reshape(1) if value.ndim == 0 else value
    if value.shape[0] == 1:
        return np.asarray(value[0])
    if value.shape[0] == ctx.fixed_batch and np.all(value == value[:1]):
        return np.asarray(value[0])  # a file of fixed batch size repeats it for every sample
    raise Unsupported(
        f"its constant operand of shape {list(value.shape)} differs from sample to sample "
        "(its first axis is the batch)"
    )


def constant_layer(ctx: Importer, constant: Const, rank: int) -> Tensor:
    """A Parameter (for a weight of the file) or a Constant node holding `constant`."""
    value = per_sample_value(ctx, constant, rank)
    if value.ndim == 0 or value.size == 0:
        raise Unsupported("an empty constant has no layer")
    if not np.issubdtype(value.dtype, np.number) and value.dtype != np.bool_:
        raise Unsupported(f"a constant of {value.dtype} values has no layer")
    stored: dict[str, np.ndarray | None] = {"value": value.astype(np.float32)[None]}
    shape = [int(n) for n in value.shape]
    if constant.trainable:
        return ctx.add_layer("Parameter", {"shape": shape}, [], stored)
    params: dict[str, object] = {"shape": shape}
    flat = value.reshape(-1)
    if np.all(flat == flat[0]) and np.isfinite(flat[0]) and abs(flat[0]) <= MAX_MAGNITUDE:
        # the same number everywhere: the project says which, too
        params["value"] = float(flat[0])
    return ctx.add_layer("Constant", params, [], stored)
