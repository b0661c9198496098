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

MAX_FILE_BYTES = 2**31 - 1  # protobuf's own limit
MAX_TENSOR_VALUES = 2**28  # 1 GiB of float32 in one weight tensor
MAX_SAMPLE_VALUES = 2**28  # values per sample at the input


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


def _check_tensor_sizes(model: Any, path: Path) -> None:
    """Refuse tensors that declare more values than they hold, or than memory allows."""
    from onnx import helper

    tensors = list(model.graph.initializer)
    tensors += [a.t for n in model.graph.node for a in n.attribute if a.type == a.TENSOR]
    for tensor in tensors:
        count = math.prod(tensor.dims) if tensor.dims else 1
        if any(d < 0 for d in tensor.dims) or count > MAX_TENSOR_VALUES:
            raise OnnxImportError(
                f"{path}: tensor '{tensor.name}' declares {count:,} values, more than Netwright loads",
                code=1,
            )
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


def model_input(model: Any, path: Path) -> ModelInput:
    """The single input the network reads, with its per-sample shape."""
    from onnx import TensorProto

    weights = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in weights]
    if len(inputs) != 1:
        names = ", ".join(i.name for i in inputs) or "none"
        raise OnnxImportError(
            f"{path}: the model has {len(inputs)} inputs ({names}); Netwright networks have exactly one"
        )
    (value,) = inputs
    tensor = value.type.tensor_type
    if not value.type.HasField("tensor_type") or not tensor.HasField("shape"):
        raise OnnxImportError(f"{path}: input '{value.name}' has no declared tensor shape")
    dims = list(tensor.shape.dim)
    if len(dims) < 2:
        raise OnnxImportError(
            f"{path}: input '{value.name}' has {len(dims)} axes; Netwright needs a batch axis "
            "and at least one more"
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
