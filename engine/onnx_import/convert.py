"""Walk the ONNX graph in order and build the Netwright graph, folding constants on the way."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from engine.graph import PortRef
from engine.onnx_import import (  # noqa: F401 (they register converters)
    attention_layer,
    ops_math,
    ops_norm,
    ops_pad,
    ops_select,
    ops_shape,
)
from engine.onnx_import.attention import FUSED_OP, NEAR_MISS, recognise_attention
from engine.onnx_import.context import Importer, Unsupported
from engine.onnx_import.errors import OnnxImportError
from engine.onnx_import.folding import fold_values, has_batch, shape_op
from engine.onnx_import.fusion import fuse_patterns
from engine.onnx_import.ops import CONVERTERS
from engine.onnx_import.per_sample import fold_per_sample
from engine.onnx_import.primitives import attention_as_primitives
from engine.onnx_import.reader import model_inputs
from engine.onnx_import.recurrent import view_op
from engine.onnx_import.refusals import gap_message, no_place
from engine.onnx_import.upgrade import OLDEST_OPSET, default_opset
from engine.onnx_import.values import (
    BATCH,
    SKIPPED,
    Const,
    Merged,
    ShapeVec,
    Skipped,
    Tensor,
    Unavailable,
    Value,
)

# operators that only ever fold away or compute shapes: never a gap by themselves
_STRUCTURAL = {"Constant", "Shape", "Gather", "Slice", "Concat", "Unsqueeze", "Squeeze", "Cast"}


def convert(model: Any, path: Path) -> Importer:
    """The importer holding the new graph and weights; raises OnnxImportError listing every gap."""
    from onnx import numpy_helper

    opset = default_opset(model)
    if opset < OLDEST_OPSET:  # build_project upgrades such files first
        raise OnnxImportError(
            f"{path}: opset {opset} is older than Netwright reads ({OLDEST_OPSET} and newer)"
        )
    entries = model_inputs(model, path)
    fixed = next((e.fixed_batch for e in entries if e.fixed_batch is not None), None)
    importer = Importer(opset=opset, fixed_batch=fixed)
    graph = importer.graph
    values: dict[str, Value | Skipped] = {}
    for entry in entries:  # one Input node per input, in the file's order
        input_id = graph.unique_id(entry.name or "input")
        graph.add_node(
            "Input",
            input_id,
            {"shape": list(entry.shape), "dtype": "int64" if entry.integer else "float32"},
        )
        importer.shapes[input_id] = entry.shape
        values[entry.name] = Tensor(input_id, entry.shape, entry.integer)
    for initializer in model.graph.initializer:
        values[initializer.name] = Const(numpy_helper.to_array(initializer), trainable=True)
    constants = {k: v.value for k, v in values.items() if isinstance(v, Const)}
    constants.update(_constant_nodes(model))
    importer.claim()  # the Inputs: at the top
    nodes = fuse_patterns(list(model.graph.node), constants)
    names = tuple(e.name for e in entries)
    nodes, importer.recognised, missed = recognise_attention(model, nodes, constants, names)
    for node in nodes:
        importer.consumers.update(name for name in node.input if name)
    importer.consumers.update(o.name for o in model.graph.output)
    gaps: dict[str, list[str]] = defaultdict(list)
    never: set[str] = set()  # the gaps that no layer will ever close
    for node in nodes:
        importer.claim()  # what the previous node added is in its module scope
        why_never = no_place(node)
        if why_never is not None:
            never.add(key := f"{node.op_type}: {why_never}")
            gaps[key].append(node.name or node.op_type)
            _skip(values, node)
            continue
        if node.domain not in ("", "ai.onnx"):
            gaps[f"{node.op_type} (domain '{node.domain}')"].append(node.name or node.op_type)
            _skip(values, node)
            continue
        inputs: list[Value | Skipped | None] = []
        for name in node.input:
            if not name:
                inputs.append(None)
            elif name not in values:
                raise OnnxImportError(
                    f"{path}: node '{node.name or node.op_type}' reads '{name}', which nothing in "
                    "the file defines (a missing weight?)",
                    code=2,
                )
            else:
                inputs.append(values[name])
        if any(isinstance(v, Skipped) for v in inputs):
            if node.op_type not in CONVERTERS and node.op_type not in _STRUCTURAL:
                gaps[f"{node.op_type}: no layer computes it"].append(node.name or node.op_type)
            _skip(values, node)
            continue
        attrs = _attributes(node)
        importer.current = node
        try:
            outputs = _convert_node(importer, node, inputs, attrs, opset)  # type: ignore[arg-type]
        except Unsupported as reason:
            if node.op_type == FUSED_OP and attention_as_primitives(
                importer, node, values, _convert_node, _attributes
            ):
                continue  # not MultiheadAttention, but layers compute its operators
            gaps[f"{node.op_type}: {reason}"].append(node.name or node.op_type)
            _skip(values, node)
            continue
        except OnnxImportError as error:  # folding a constant failed: say in which file
            raise OnnxImportError(f"{path}: {error}", error.code) from None
        for name, value in zip(node.output, outputs):
            if name:
                values[name] = value
                if isinstance(value, Tensor):
                    _track_producer(importer, node, value, name)
    importer.claim()
    if gaps:
        if missed:  # the reason first: the other gaps are that attention's pieces
            gaps = defaultdict(list, {f"Softmax: {NEAR_MISS}": missed, **gaps})
        raise OnnxImportError(gap_message(path, gaps, never), code=1)
    _connect_output(importer, model, values, path)
    return importer


def _convert_node(
    importer: Importer, node: Any, inputs: list[Value | None], attrs: dict[str, Any], opset: int
) -> list[Value]:
    present = [v for v in inputs if v is not None]
    if node.op_type == "Constant":
        return [Const(_constant_value(node))]
    if node.op_type == "Shape" and isinstance(inputs[0], (Tensor, Const)):
        sized = inputs[0]
        if isinstance(sized, Tensor) or sized.per_sample:
            items = (BATCH, *(sized.shape if isinstance(sized, Tensor) else sized.value.shape[1:]))
            start, end = attrs.get("start", 0), attrs.get("end")
            return [ShapeVec(tuple(items[start:end]))]
    if all(isinstance(v, Const) or (isinstance(v, ShapeVec) and not has_batch(v)) for v in present):
        if not any(isinstance(v, Const) and v.per_sample for v in present):
            return fold_values(node, inputs, opset)
    per_sample = fold_per_sample(node, inputs, attrs, opset)
    if per_sample is not None:
        return per_sample
    unavailable = next((v for v in present if isinstance(v, Unavailable)), None)
    if unavailable is not None:
        raise Unsupported(unavailable.reason)
    merged = next((v for v in present if isinstance(v, Merged)), None)
    if merged is not None and node.op_type not in ("Reshape", "Gemm", "MatMul"):
        raise Unsupported(
            f"it reads a tensor whose batch axis a Reshape merged with others ('{merged.reshape}')"
        )
    symbolic = shape_op(node, inputs, attrs)
    if symbolic is not None:
        return [symbolic]
    viewed = view_op(importer, node, inputs, attrs)
    if viewed is not None:
        return viewed
    if any(isinstance(v, ShapeVec) for v in present) and not any(
        isinstance(v, (Tensor, Merged)) for v in present
    ):
        raise Unsupported("it computes with the batch size")
    function = CONVERTERS.get(node.op_type)
    if function is None:
        raise Unsupported("no layer computes it")
    return function(importer, node, inputs, attrs)


def _track_producer(importer: Importer, node: Any, value: Tensor, name: str) -> None:
    """Remember which ONNX value a layer's output is; a pass-through (Identity, a no-op
    Reshape) of a value nobody else reads moves it, so constants after it still fold."""
    previous = importer.producer_of.get(value.node)
    if previous is None:
        importer.producer_of[value.node] = name
    elif previous in node.input and importer.consumers[previous] == 1:
        importer.producer_of[value.node] = name


def _constant_value(node: Any) -> np.ndarray:
    from onnx import helper, numpy_helper

    for attribute in node.attribute:
        value = helper.get_attribute_value(attribute)
        if attribute.name == "value":
            return numpy_helper.to_array(value)
        if attribute.name in ("value_float", "value_int"):
            return np.array(
                value, dtype=np.float32 if attribute.name == "value_float" else np.int64
            )
        if attribute.name in ("value_floats", "value_ints"):
            return np.array(
                value, dtype=np.float32 if attribute.name == "value_floats" else np.int64
            )
    raise Unsupported("this form of Constant is not supported")


def _constant_nodes(model: Any) -> dict[str, np.ndarray]:
    found = {}
    for node in model.graph.node:
        if node.op_type == "Constant":
            try:
                found[node.output[0]] = _constant_value(node)
            except Unsupported:
                continue
    return found


def _attributes(node: Any) -> dict[str, Any]:
    from onnx import helper

    return {a.name: _attribute(helper.get_attribute_value(a)) for a in node.attribute}


def _attribute(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, list):
        return [_attribute(v) for v in value]
    return value


def _skip(values: dict[str, Any], node: Any) -> None:
    for name in node.output:
        if name:
            values[name] = SKIPPED


def _connect_output(importer: Importer, model: Any, values: dict[str, Any], path: Path) -> None:
    outputs = list(model.graph.output)
    if len(outputs) != 1:
        names = ", ".join(o.name for o in outputs)
        raise OnnxImportError(
            f"{path}: the model has {len(outputs)} outputs ({names}); Netwright networks have exactly one"
        )
    result = values.get(outputs[0].name)
    if not isinstance(result, Tensor):
        raise OnnxImportError(
            f"{path}: the output '{outputs[0].name}' does not depend on the input"
        )
    graph = importer.graph
    output_id = graph.unique_id(outputs[0].name or "output")
    graph.add_node("Output", output_id)
    graph.connect(result.ref, PortRef(output_id, "in"))
