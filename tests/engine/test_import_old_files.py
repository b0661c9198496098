"""Old and big files: early opsets are upgraded, their semantics kept, and memory is judged by
the machine, not by a fixed cap."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from engine.cli import run
from engine.compiler import compile_graph
from engine.onnx_import import ImportResult, OnnxImportError, import_onnx
from engine.project import load_project
from engine.weights import load_weights

BACKEND = Path(onnx.__file__).parent / "backend" / "test" / "data"


def save(
    nodes: list,
    shape: list,
    opset: int,
    path: Path,
    initializers=(),
    ir: int | None = None,
    out: list | None = None,
):
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out or shape)],
        initializer=list(initializers),
    )
    if ir is not None and ir < 4:  # before IR 4 every weight is also listed as an input
        graph.input.extend(
            helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in initializers
        )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = ir or helper.find_min_ir_version_for([helper.make_opsetid("", opset)])
    path.write_bytes(model.SerializeToString())
    return path


def imported_output(result: ImportResult, x: np.ndarray) -> np.ndarray:
    """What the imported project computes, with the weights the import wrote."""
    module = compile_graph(load_project(result.project_path).graph, 0)
    if result.weights_path is not None:
        load_weights(module, result.weights_path)
    with torch.no_grad():
        return module.eval()(torch.from_numpy(x)).numpy()


def onnxruntime_output(path: Path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


def test_an_opset_6_file_from_pytorch_is_upgraded_and_imports(tmp_path: Path) -> None:
    source = BACKEND / "pytorch-converted" / "test_Conv2d" / "model.onnx"
    assert onnx.load(str(source)).opset_import[0].version == 6
    result = import_onnx(source, tmp_path / "conv.netwright.json")
    assert [n.type for n in load_project(result.project_path).graph] == [
        "Input",
        "Conv2d",
        "Output",
    ]
    assert result.max_abs_difference is not None and result.max_abs_difference < 1e-5


def test_what_the_version_converter_cannot_upgrade_is_refused_by_operator_and_opset(
    tmp_path: Path, capsys
) -> None:
    nodes = [helper.make_node("Pad", ["x"], ["y"], paddings=[0, 0, 1, 1], name="edge")]
    path = save(nodes, ["n", 4, 4], 1, tmp_path / "ancient.onnx", ir=3, out=["n", 4, 6])
    assert run(["import", str(path), "-o", str(tmp_path / "a.netwright.json")]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "operator 'Pad' (opset 1)" in err and "newer opset" in err
    assert not (tmp_path / "a.netwright.json").exists()


@pytest.mark.parametrize("op", ["Softmax", "LogSoftmax"])
def test_softmax_before_opset_13_runs_over_every_axis_from_its_axis_on(
    op: str, tmp_path: Path
) -> None:
    """Opset 11's Softmax(axis=1) on N x C x H x W normalises over C*H*W together."""
    path = save(
        [helper.make_node(op, ["x"], ["y"], axis=1)], ["n", 3, 2, 4], 11, tmp_path / "s.onnx"
    )
    result = import_onnx(path, tmp_path / "s.netwright.json")
    types = [n.type for n in load_project(result.project_path).graph]
    assert types == ["Input", "Flatten", op, "Reshape", "Output"]
    x = np.random.default_rng(0).standard_normal((2, 3, 2, 4)).astype("f")
    np.testing.assert_allclose(imported_output(result, x), onnxruntime_output(path, x), atol=1e-6)


def test_softmax_before_opset_13_over_the_last_axes_only(tmp_path: Path) -> None:
    path = save(
        [helper.make_node("Softmax", ["x"], ["y"], axis=2)], ["n", 3, 2, 4], 9, tmp_path / "s.onnx"
    )
    result = import_onnx(path, tmp_path / "s.netwright.json")
    x = np.random.default_rng(0).standard_normal((2, 3, 2, 4)).astype("f")
    np.testing.assert_allclose(imported_output(result, x), onnxruntime_output(path, x), atol=1e-6)


def test_constants_fold_by_the_files_own_opset(tmp_path: Path) -> None:
    """Opset 9's Unsqueeze takes its axes as an attribute (13 made them an input)."""
    weight = numpy_helper.from_array(np.ones((2, 3, 1, 1), "f"), "w")
    bias = numpy_helper.from_array(np.array([1.0, 2.0], "f"), "b")
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], kernel_shape=[1, 1]),
        helper.make_node("Unsqueeze", ["b"], ["b3"], axes=[1, 2]),
        helper.make_node("Add", ["c", "b3"], ["y"]),
    ]
    path = save(nodes, ["n", 3, 2, 2], 9, tmp_path / "u.onnx", [weight, bias], out=["n", 2, 2, 2])
    result = import_onnx(path, tmp_path / "u.netwright.json")
    assert [n.type for n in load_project(result.project_path).graph] == [
        "Input",
        "Conv2d",
        "Output",
    ]
    assert result.max_abs_difference is not None and result.max_abs_difference < 1e-6


def test_a_constant_onnx_reference_evaluator_gets_wrong_still_folds(tmp_path: Path) -> None:
    """GatherElements picking from more than 32 entries (BERT's position ids) folds."""
    table = numpy_helper.from_array(np.arange(64, dtype=np.float32).reshape(1, 64), "table")
    index = numpy_helper.from_array(np.arange(40).reshape(1, 40)[:, ::-1].copy(), "index")
    weight = numpy_helper.from_array(np.eye(40, dtype=np.float32), "w")
    nodes = [
        helper.make_node("GatherElements", ["table", "index"], ["shift"], axis=1),
        helper.make_node("MatMul", ["x", "w"], ["m"]),
        helper.make_node("Add", ["m", "shift"], ["y"]),
    ]
    path = save(nodes, ["n", 40], 17, tmp_path / "g.onnx", [table, index, weight])
    result = import_onnx(path, tmp_path / "g.netwright.json")
    x = np.zeros((1, 40), "f")
    np.testing.assert_allclose(imported_output(result, x)[0], np.arange(39, -1, -1))


def test_a_file_that_would_not_fit_in_memory_is_refused_with_the_numbers(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    weight = numpy_helper.from_array(np.ones((512, 1024), "f"), "big_weight")
    path = save(
        [helper.make_node("MatMul", ["x", "big_weight"], ["y"])],
        ["n", 512],
        17,
        tmp_path / "m.onnx",
        [weight],
        out=["n", 1024],
    )
    monkeypatch.setattr("engine.onnx_import.memory.available_bytes", lambda: 3 * 2**20)
    assert run(["import", str(path), "-o", str(tmp_path / "m.netwright.json")]) == 1
    err = capsys.readouterr().err
    assert "524,288 weights (2 MiB as float32" in err
    assert "'big_weight'" in err and "3 MiB this machine has free" in err
    assert not (tmp_path / "m.netwright.json").exists()


def test_the_same_file_imports_where_memory_allows(tmp_path: Path, monkeypatch) -> None:
    weight = numpy_helper.from_array(np.ones((512, 1024), "f"), "big_weight")
    path = save(
        [helper.make_node("MatMul", ["x", "big_weight"], ["y"])],
        ["n", 512],
        17,
        tmp_path / "m.onnx",
        [weight],
        out=["n", 1024],
    )
    monkeypatch.setattr("engine.onnx_import.memory.available_bytes", lambda: 64 * 2**20)
    assert import_onnx(path, tmp_path / "m.netwright.json").parameters == 512 * 1024


@pytest.mark.parametrize(
    ("op", "options"),
    [("MaxPool", {}), ("AveragePool", {}), ("AveragePool", {"count_include_pad": 1})],
)
def test_pooling_padded_only_at_the_end_as_caffe_models_are_computes_the_same(
    op: str, options: dict, tmp_path: Path
) -> None:
    """Model-zoo files converted from Caffe round windows up by padding the end only."""
    node = helper.make_node(
        op, ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2], pads=[0, 0, 1, 1], **options
    )
    path = save([node], ["n", 2, 6, 6], 9, tmp_path / "p.onnx", out=["n", 2, 3, 3])
    result = import_onnx(path, tmp_path / "p.netwright.json")
    x = np.random.default_rng(0).standard_normal((2, 2, 6, 6)).astype("f")
    np.testing.assert_allclose(imported_output(result, x), onnxruntime_output(path, x), atol=1e-6)


def test_pooling_padded_at_the_end_that_no_layer_computes_is_refused(tmp_path: Path) -> None:
    # padding 3 at the end only, windows 2 apart: torch's even padding shifts the windows
    # by half a step, and its ceil_mode gives a window fewer (Inception v1's 7x7 pool with
    # padding 1 at the end imports: tests/engine/test_import_padding_pooling.py)
    node = helper.make_node(
        "AveragePool", ["x"], ["y"], kernel_shape=[6, 6], strides=[2, 2], pads=[0, 0, 3, 3]
    )
    path = save([node], ["n", 2, 8, 8], 9, tmp_path / "p.onnx", out=["n", 2, 3, 3])
    with pytest.raises(OnnxImportError, match="uneven padding of a pooling window"):
        import_onnx(path, tmp_path / "p.netwright.json")


def test_a_model_too_big_to_train_here_still_imports_and_check_says_so(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """Importing is for editing and for training elsewhere too: only not fitting in memory
    refuses it. `netwright check` then tells that training would not fit on this machine."""
    weight = numpy_helper.from_array(np.ones((512, 1024), "f"), "big_weight")
    path = save(
        [helper.make_node("MatMul", ["x", "big_weight"], ["y"])],
        ["n", 512],
        17,
        tmp_path / "m.onnx",
        [weight],
        out=["n", 1024],
    )
    monkeypatch.setattr("engine.analysis._memory_budget", lambda: 4 * 2**20)
    result = import_onnx(path, tmp_path / "m.netwright.json")
    assert result.parameters == 512 * 1024
    assert run(["check", str(result.project_path)]) == 1
    printed = capsys.readouterr()
    assert "training this network would need" in printed.out + printed.err
