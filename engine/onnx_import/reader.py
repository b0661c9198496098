"""Reading an ONNX file defensively: whatever the bytes are, one clear error or a usable model.

Checks happen before anything is allocated from what the file declares: a
tensor that claims a billion values but carries a few bytes, an input with a
huge or variable size, external data outside the model's folder.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.onnx_import.errors import OnnxImportError
from engine.onnx_import.memory import HELD_COPIES, gib, too_big

MAX_FILE_BYTES = 2**31 - 1  # protobuf's own limit
MAX_SAMPLE_VALUES = 2**28  # values per sample at the input
BYTES_PER_WEIGHT = 4  # float32, as the imported network holds them


@dataclass(frozen=True)
class ModelInput:
    name: str
    shape: tuple[int, ...]  # per sample, without the batch axis
    integer: bool
    fixed_batch: int | None  # the batch size the file fixes, if any


def read_model(path: Path) -> Any:
    """The parsed, checked ModelProto; OnnxImportError(code 2) when it cannot be read."""
    import onnx
    from google.protobuf.message import DecodeError

    try:
        size = path.stat().st_size
        if not path.is_file():
            raise OnnxImportError(f"{path}: not a file", code=2)
        if size > MAX_FILE_BYTES:
            raise OnnxImportError(
                f"{path}: {size / 2**30:.1f} GiB is larger than an ONNX file can be", code=2
            )
        raw = path.read_bytes()
    except FileNotFoundError:
        raise OnnxImportError(f"{path}: no such file", code=2) from None
    except OSError as error:
        raise OnnxImportError(
            f"{path}: cannot be read ({error.strerror or error})", code=2
        ) from None
    try:
        model = onnx.load_model_from_string(raw)
    except (DecodeError, ValueError, RuntimeError) as error:
        raise OnnxImportError(
            f"{path}: not an ONNX model (the file is truncated or not protobuf: {_short(error)})",
            code=2,
        ) from None
    except RecursionError:
        raise OnnxImportError(f"{path}: not an ONNX model (nested too deeply)", code=2) from None
    if model.ir_version <= 0 or not model.HasField("graph") or not model.graph.node:
        raise OnnxImportError(f"{path}: not an ONNX model (no graph of operators in it)", code=2)
    _check_memory(model, path)
    _load_external_data(model, path)
    _check_tensor_sizes(model, path)
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as error:
        raise OnnxImportError(f"{path}: not a valid ONNX model ({_short(error)})", code=2) from None
    return model


def _load_external_data(model: Any, path: Path) -> None:
    from onnx.external_data_helper import load_external_data_for_model, uses_external_data

    if not any(uses_external_data(t) for t in model.graph.initializer):
        return
    try:
        load_external_data_for_model(model, str(path.parent))
    except Exception as error:  # onnx raises many kinds for bad locations
        raise OnnxImportError(
            f"{path}: its weights live in a separate file that cannot be read ({_short(error)})",
            code=2,
        ) from None


def _tensors(model: Any) -> list[Any]:
    """Every tensor the file stores: the weights and the values of Constant operators."""
    tensors = list(model.graph.initializer)
    tensors += [a.t for n in model.graph.node for a in n.attribute if a.type == a.TENSOR]
    return tensors


def _check_memory(model: Any, path: Path) -> None:
    """Refuse a file whose weights would not fit in this machine's free memory while it is
    imported; the sizes are what the file declares, so nothing big is allocated to find out."""
    sizes: dict[str, int] = {}
    for tensor in _tensors(model):
        if any(d < 0 for d in tensor.dims):
            raise OnnxImportError(
                f"{path}: tensor '{tensor.name}' has a negative size {list(tensor.dims)} "
                "(the file is damaged)",
                code=2,
            )
        sizes[f"tensor '{tensor.name}'"] = math.prod(tensor.dims)
    sizes.update(_filled_values(model))
    values = sum(sizes.values())
    problem = too_big(values * BYTES_PER_WEIGHT * HELD_COPIES)
    if problem is not None:
        largest = max(sizes, key=sizes.__getitem__)
        raise OnnxImportError(
            f"{path}: the model holds {values:,} weights ({gib(values * BYTES_PER_WEIGHT)} as "
            f"float32; the largest, {largest}, {sizes[largest]:,} values); importing it takes "
            f"{problem}. Import it on a machine with more memory",
            code=1,
        )


def _filled_values(model: Any) -> dict[str, int]:
    """Values that ConstantOfShape operators will create from constant shapes, by operator
    (files with their weights stripped, like onnx's own 'light' test models, are made so)."""
    from onnx import numpy_helper

    shapes = {t.name: t for t in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Constant":
            for attribute in node.attribute:
                if attribute.name == "value":
                    shapes[node.output[0]] = attribute.t
    filled = {}
    for index, node in enumerate(model.graph.node):
        if node.op_type == "ConstantOfShape" and node.input and node.input[0] in shapes:
            try:
                dims = numpy_helper.to_array(shapes[node.input[0]]).reshape(-1)
            except (ValueError, TypeError):
                continue  # a damaged shape tensor: the checker and folding report it
            name = node.name or f"{node.op_type} #{index + 1}"
            filled[f"'{name}' (ConstantOfShape)"] = math.prod(max(int(d), 0) for d in dims)
    return filled


def _check_tensor_sizes(model: Any, path: Path) -> None:
    """Refuse tensors that declare more values than they hold (a damaged or hostile file)."""
    from onnx import helper

    for tensor in _tensors(model):
        count = math.prod(tensor.dims) if tensor.dims else 1
        if tensor.HasField("raw_data"):
            try:
                itemsize = np.dtype(helper.tensor_dtype_to_np_dtype(tensor.data_type)).itemsize
            except (KeyError, TypeError, ValueError):
                raise OnnxImportError(
                    f"{path}: tensor '{tensor.name}' has an unknown data type", code=2
                ) from None
            if len(tensor.raw_data) != count * itemsize:
                raise OnnxImportError(
                    f"{path}: tensor '{tensor.name}' declares shape {list(tensor.dims)} but holds "
                    f"{len(tensor.raw_data)} bytes (the file is damaged)",
                    code=2,
                )
        elif tensor.data_type != tensor.STRING and not _typed_values_fit(tensor, count):
            raise OnnxImportError(
                f"{path}: tensor '{tensor.name}' declares shape {list(tensor.dims)} but holds "
                "a different number of values (the file is damaged)",
                code=2,
            )


def _typed_values_fit(tensor: Any, count: int) -> bool:
    """True when a tensor stored as a list of numbers (not raw bytes) holds `count` of them."""
    from onnx import helper

    try:
        field = helper.tensor_dtype_to_field(tensor.data_type)
    except (KeyError, TypeError, ValueError):
        return False
    held = len(getattr(tensor, field))
    complex_type = tensor.data_type in (tensor.COMPLEX64, tensor.COMPLEX128)
    return held == count * (2 if complex_type else 1)


def model_inputs(model: Any, path: Path) -> list[ModelInput]:
    """Every input the network reads, in the file's order, with its per-sample shape. All
    must share one batch size: the first axis of each is the batch."""
    weights = {t.name for t in model.graph.initializer}
    values = [i for i in model.graph.input if i.name not in weights]
    if not values:
        raise OnnxImportError(f"{path}: the model has no inputs; a Netwright network reads one")
    entries = [_model_input(value, path) for value in values]
    fixed = {e.fixed_batch for e in entries if e.fixed_batch is not None}
    if len(fixed) > 1:
        sizes = ", ".join(f"'{e.name}' {e.fixed_batch}" for e in entries)
        raise OnnxImportError(
            f"{path}: the inputs have different batch sizes ({sizes}); Netwright reads the first "
            "axis of every input as the batch, so they must agree (this file combines tensors "
            "that are not batches of samples)"
        )
    return entries


def _model_input(value: Any, path: Path) -> ModelInput:
    from onnx import TensorProto

    tensor = value.type.tensor_type
    if not value.type.HasField("tensor_type") or not tensor.HasField("shape"):
        raise OnnxImportError(f"{path}: input '{value.name}' has no declared tensor shape")
    dims = list(tensor.shape.dim)
    if len(dims) < 2:
        raise OnnxImportError(
            f"{path}: input '{value.name}' has {len(dims)} axes; Netwright reads the first axis "
            "of every input as the batch, so it needs a batch axis and at least one more (this "
            "file computes on one whole tensor, not on a batch of samples)"
        )
    batch = dims[0].dim_value if dims[0].HasField("dim_value") else None
    shape = []
    for axis, dim in enumerate(dims[1:], start=1):
        if not dim.HasField("dim_value") or dim.dim_value <= 0:
            label = dim.dim_param or "unknown"
            raise OnnxImportError(
                f"{path}: input '{value.name}' has a variable size on axis {axis} ('{label}'); "
                "Netwright needs a fixed size for every axis but the batch"
            )
        shape.append(int(dim.dim_value))
    if math.prod(shape) > MAX_SAMPLE_VALUES:
        raise OnnxImportError(
            f"{path}: input '{value.name}' declares {math.prod(shape):,} values per sample "
            f"({'x'.join(map(str, shape))}), more than Netwright can hold"
        )
    integer = tensor.elem_type in (TensorProto.INT64, TensorProto.INT32)
    if not integer and tensor.elem_type not in (
        TensorProto.FLOAT,
        TensorProto.DOUBLE,
        TensorProto.FLOAT16,
    ):
        raise OnnxImportError(f"{path}: input '{value.name}' has a data type Netwright cannot feed")
    return ModelInput(value.name, tuple(shape), integer, batch)


def _short(error: BaseException) -> str:
    text = str(error).strip()
    return (text.splitlines()[0][:200] if text else type(error).__name__) or type(error).__name__
