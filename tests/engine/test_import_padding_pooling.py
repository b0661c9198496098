"""ONNX padding and pooling that torch's layers do not spell the same way import exactly.

Each file here is written by hand with onnx.helper, as other tools write them; the import
itself runs the new network against onnxruntime on the original and refuses any
difference, so a test that imports has also proved the numbers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from engine.onnx_import import OnnxImportError, import_onnx
from engine.project import load_project


def one_op_file(
    path: Path, op: str, shape: list[int], inputs: list[Any] | None = None, **attrs: Any
) -> Path:
    """A file with one operator reading the input ``x`` (batch axis dynamic)."""
    import onnx

    initializers, names = [], ["x"]
    for i, value in enumerate(inputs or []):
        if value is None:
            names.append("")
            continue
        name = f"c{i}"
        initializers.append(numpy_helper.from_array(np.asarray(value), name))
        names.append(name)
    node = helper.make_node(op, names, ["y"], **attrs)
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", *shape])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", *(None for _ in shape)])],
        initializer=initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def imported(path: Path) -> list[tuple[str, dict[str, Any]]]:
    result = import_onnx(path, path.with_suffix(".netwright.json"))
    assert result.max_abs_difference is not None and result.max_abs_difference < 1e-5
    graph = load_project(result.project_path).graph
    return [(n.type, n.params) for n in graph if n.type not in ("Input", "Output")]


@pytest.mark.parametrize(
    ("onnx_mode", "mode", "shape"),
    [
        ("reflect", "reflect", [2, 9]),
        ("edge", "replicate", [2, 5, 6]),
        ("wrap", "circular", [2, 4, 5]),
        ("constant", "constant", [2, 3, 4, 5]),
    ],
)
def test_onnx_pad_modes_import_as_one_pad_layer(
    onnx_mode: str, mode: str, shape: list[int], tmp_path: Path
) -> None:
    spatial = len(shape) - 1
    begins = [0, 0, *range(1, spatial + 1)]
    ends = [0, 0, *(2 for _ in range(spatial))]
    inputs: list[Any] = [np.array(begins + ends, dtype=np.int64)]
    if onnx_mode == "constant":
        inputs.append(np.array(-2.5, dtype=np.float32))
    path = one_op_file(tmp_path / "pad.onnx", "Pad", shape, inputs, mode=onnx_mode)
    ((layer, params),) = imported(path)
    assert layer == "Pad"
    assert params["mode"] == mode
    # torch's order: the last axis first, before then after
    expected: list[int] = []
    for axis in reversed(range(spatial)):
        expected += [axis + 1, 2]
    assert params["padding"] == expected
    if onnx_mode == "constant":
        assert params["value"] == -2.5


def test_padding_the_channels_is_refused_by_name(tmp_path: Path) -> None:
    pads = np.array([0, 1, 0, 0, 1, 0], dtype=np.int64)
    path = one_op_file(tmp_path / "pad.onnx", "Pad", [2, 5], [pads])
    with pytest.raises(OnnxImportError, match="padding the channel axis has no layer"):
        import_onnx(path, tmp_path / "p.netwright.json")


def test_negative_pads_crop(tmp_path: Path) -> None:
    pads = np.array([0, 0, -1, 0, 0, 0, 0, -2], dtype=np.int64)
    path = one_op_file(tmp_path / "crop.onnx", "Pad", [2, 6, 7], [pads])
    assert imported(path) == [("Pad", {"padding": [0, -2, -1, 0], "mode": "constant"})]


def test_an_average_that_leaves_padding_out_keeps_count_include_pad_off(tmp_path: Path) -> None:
    path = one_op_file(
        tmp_path / "avg.onnx", "AveragePool", [3, 8, 8], kernel_shape=[3, 3], pads=[1, 1, 1, 1]
    )
    ((layer, params),) = imported(path)
    assert layer == "AvgPool2d" and params["count_include_pad"] is False


def test_dilated_max_pooling_keeps_its_dilation(tmp_path: Path) -> None:
    path = one_op_file(
        tmp_path / "max.onnx",
        "MaxPool",
        [2, 5, 9, 9],
        kernel_shape=[3, 3, 3],
        dilations=[1, 2, 2],
        pads=[1, 1, 1, 1, 1, 1],
    )
    ((layer, params),) = imported(path)
    assert layer == "MaxPool3d" and params["dilation"] == [1, 2, 2]


def test_max_pooling_padded_unevenly_pads_copies_of_the_edge_in_front(tmp_path: Path) -> None:
    # one more at the start than at the end (more at the end is torch's ceil_mode)
    path = one_op_file(
        tmp_path / "front.onnx",
        "MaxPool",
        [3, 8, 8],
        kernel_shape=[3, 3],
        strides=[2, 2],
        pads=[1, 1, 0, 0],
    )
    layers = imported(path)
    assert [t for t, _ in layers] == ["Pad", "MaxPool2d"]
    assert layers[0][1]["mode"] == "replicate"


def test_an_average_padded_at_the_end_only_crops_after_even_padding(tmp_path: Path) -> None:
    # Inception v1 of the ONNX model zoo: 7x7 window, stride 1, one padding at the end only,
    # padding left out of the count
    path = one_op_file(
        tmp_path / "pool5.onnx",
        "AveragePool",
        [4, 7, 7],
        kernel_shape=[7, 7],
        strides=[1, 1],
        pads=[0, 0, 1, 1],
    )
    layers = imported(path)
    assert [t for t, _ in layers] == ["AvgPool2d", "Pad"]
    assert layers[0][1]["padding"] == 1 and layers[0][1]["count_include_pad"] is False
    assert layers[1][1]["padding"] == [-1, 0, -1, 0]


def test_dilated_max_pooling_padded_unevenly_crops_after_even_padding(tmp_path: Path) -> None:
    path = one_op_file(
        tmp_path / "dilated.onnx",
        "MaxPool",
        [2, 11],
        kernel_shape=[3],
        dilations=[2],
        pads=[1, 0],
    )
    layers = imported(path)
    assert [t for t, _ in layers] == ["MaxPool1d", "Pad"]
    assert layers[1][1]["padding"] == [0, -1]


def test_zeros_an_average_counts_are_padded_in_front(tmp_path: Path) -> None:
    path = one_op_file(
        tmp_path / "avg.onnx",
        "AveragePool",
        [2, 9],
        kernel_shape=[3],
        strides=[2],
        pads=[0, 1],
        count_include_pad=1,
    )
    layers = imported(path)
    assert [t for t, _ in layers] == ["Pad", "AvgPool1d"]
    assert layers[0][1] == {"padding": [0, 1], "mode": "constant"}


@pytest.mark.parametrize("axes", [1, 2, 3])
def test_convolutions_padded_unevenly_get_a_pad_in_front(axes: int, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((4, 2, *([3] * axes))).astype(np.float32)
    path = one_op_file(
        tmp_path / "conv.onnx",
        "Conv",
        [2, *([6] * axes)],
        [weight],
        kernel_shape=[3] * axes,
        pads=[0] * axes + [1] * axes,
    )
    layers = imported(path)
    assert [t for t, _ in layers] == ["Pad", f"Conv{axes}d"]
