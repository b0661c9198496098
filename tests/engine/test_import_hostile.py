"""Malformed and hostile ONNX files: one clear line, the right exit code, no traceback, no files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from test_export_cases import layer_project

from engine.cli import run
from engine.export import export_onnx


def save(model: onnx.ModelProto, path: Path) -> Path:
    path.write_bytes(model.SerializeToString())
    return path


def tiny_model(
    op: str = "Relu",
    input_shape: list = ["batch", 4],  # noqa: B006
    initializers: list | None = None,
    inputs: list[str] | None = None,
    domain: str = "",
) -> onnx.ModelProto:
    node = helper.make_node(op, inputs or ["x"], ["y"], name="the_node", domain=domain)
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, input_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 4])],
        initializer=initializers or [],
    )
    opsets = [helper.make_opsetid("", 17)] + ([helper.make_opsetid(domain, 1)] if domain else [])
    return helper.make_model(graph, opset_imports=opsets)


def import_cli(model: Path, tmp_path: Path, capsys) -> tuple[int, str]:
    code = run(["import", str(model), "-o", str(tmp_path / "out.netwright.json")])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert not (tmp_path / "out.netwright.json").exists()
    assert not (tmp_path / "out.safetensors").exists()
    return code, err


@pytest.fixture
def good_file(tmp_path: Path) -> Path:
    export_onnx(layer_project("Conv2d"), tmp_path / "good.onnx", verify=False)
    return tmp_path / "good.onnx"


def test_a_truncated_file_is_unreadable(good_file: Path, tmp_path: Path, capsys) -> None:
    data = good_file.read_bytes()
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(data[: len(data) // 2])
    code, err = import_cli(truncated, tmp_path, capsys)
    assert (code == 2 and "not an ONNX model" in err) or "damaged" in err


def test_a_file_that_is_not_protobuf_is_unreadable(tmp_path: Path, capsys) -> None:
    (tmp_path / "text.onnx").write_text("this is not a model\n" * 10)
    code, err = import_cli(tmp_path / "text.onnx", tmp_path, capsys)
    assert code == 2 and "not an ONNX model" in err


def test_an_empty_file_is_unreadable(tmp_path: Path, capsys) -> None:
    (tmp_path / "empty.onnx").write_bytes(b"")
    code, err = import_cli(tmp_path / "empty.onnx", tmp_path, capsys)
    assert code == 2 and "not an ONNX model" in err


def test_unknown_operators_are_all_listed_in_one_message(tmp_path: Path, capsys) -> None:
    nodes = [
        helper.make_node("Relu", ["x"], ["a"], name="relu"),
        helper.make_node("Sin", ["a"], ["b"], name="sine1"),
        helper.make_node("Cos", ["a"], ["c"], name="cosine"),
        helper.make_node("Sin", ["c"], ["d"], name="sine2"),
        helper.make_node("Add", ["b", "d"], ["y"], name="join"),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 4])],
    )
    path = save(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), tmp_path / "m.onnx"
    )
    code, err = import_cli(path, tmp_path, capsys)
    assert code == 1
    assert "Sin: no layer computes it (2x: 'sine1', 'sine2')" in err
    assert "Cos: no layer computes it (1x: 'cosine')" in err
    assert "3 operator(s)" in err


def test_a_custom_domain_operator_is_refused_by_name(tmp_path: Path, capsys) -> None:
    path = save(tiny_model("MagicOp", domain="com.example"), tmp_path / "m.onnx")
    code, err = import_cli(path, tmp_path, capsys)
    assert code == 1 and "MagicOp (domain 'com.example')" in err


def test_an_enormous_declared_input_is_refused(tmp_path: Path, capsys) -> None:
    path = save(tiny_model(input_shape=["batch", 100_000, 100_000, 1000]), tmp_path / "m.onnx")
    code, err = import_cli(path, tmp_path, capsys)
    assert code == 1 and "values per sample" in err


def test_a_weight_that_claims_more_values_than_it_holds_is_refused(tmp_path: Path, capsys) -> None:
    weight = numpy_helper.from_array(np.ones((4, 3), dtype=np.float32), "w")
    del weight.dims[:]
    weight.dims.extend([40_000, 30_000])
    path = save(tiny_model("MatMul", initializers=[weight], inputs=["x", "w"]), tmp_path / "m.onnx")
    code, err = import_cli(path, tmp_path, capsys)
    assert code in (1, 2) and "'w'" in err


def test_a_huge_constant_of_shape_is_not_allocated(tmp_path: Path, capsys) -> None:
    shape = numpy_helper.from_array(np.array([100_000, 100_000, 100], dtype=np.int64), "s")
    nodes = [
        helper.make_node("ConstantOfShape", ["s"], ["big"], name="filler"),
        helper.make_node("Add", ["x", "big"], ["y"], name="add"),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 4])],
        initializer=[shape],
    )
    path = save(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), tmp_path / "m.onnx"
    )
    code, err = import_cli(path, tmp_path, capsys)
    assert code == 1 and "filler" in err and "values" in err


def test_a_missing_initializer_is_reported_by_name(tmp_path: Path, capsys) -> None:
    path = save(tiny_model("MatMul", inputs=["x", "missing_weight"]), tmp_path / "m.onnx")
    code, err = import_cli(path, tmp_path, capsys)
    assert code == 2 and "missing_weight" in err


def test_a_variable_sample_size_is_refused(tmp_path: Path, capsys) -> None:
    path = save(tiny_model(input_shape=["batch", "width"]), tmp_path / "m.onnx")
    code, err = import_cli(path, tmp_path, capsys)
    assert code == 1 and "variable size on axis 1 ('width')" in err


def test_an_existing_project_is_never_overwritten(good_file: Path, tmp_path: Path, capsys) -> None:
    target = tmp_path / "mine.netwright.json"
    target.write_text("my precious project")
    assert run(["import", str(good_file), "-o", str(target)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert target.read_text() == "my precious project"


def test_existing_weights_beside_the_target_are_never_overwritten(
    good_file: Path, tmp_path: Path, capsys
) -> None:
    (tmp_path / "mine.safetensors").write_bytes(b"trained for a week")
    assert run(["import", str(good_file), "-o", str(tmp_path / "mine.netwright.json")]) == 2
    assert (tmp_path / "mine.safetensors").read_bytes() == b"trained for a week"
    assert not (tmp_path / "mine.netwright.json").exists()


def test_a_missing_file_is_unreadable(tmp_path: Path, capsys) -> None:
    code, err = import_cli(tmp_path / "nowhere.onnx", tmp_path, capsys)
    assert code == 2 and "no such file" in err


def test_a_good_import_prints_what_it_wrote(good_file: Path, tmp_path: Path, capsys) -> None:
    assert run(["import", str(good_file), "-o", str(tmp_path / "net.netwright.json")]) == 0
    out = capsys.readouterr().out
    assert "1 layers from 1 ONNX operators" in out and "largest absolute difference" in out
    assert (tmp_path / "net.safetensors").is_file()
    assert run(["check", str(tmp_path / "net.netwright.json")]) == 0


def test_what_has_no_place_in_a_layer_graph_is_refused_for_what_it_is(
    tmp_path: Path, capsys
) -> None:
    """Control flow and sequences can never be layers; Sin merely has none yet. One message
    names them all with their counts, the never-kind first."""
    branch = helper.make_graph(
        [helper.make_node("Identity", ["a"], ["branch_out"])],
        "branch",
        [],
        [helper.make_tensor_value_info("branch_out", TensorProto.FLOAT, ["n", 4])],
    )
    nodes = [
        helper.make_node("Relu", ["x"], ["a"], name="relu"),
        helper.make_node(
            "Constant", [], ["yes"], value=numpy_helper.from_array(np.array(True), "yes")
        ),
        helper.make_node(
            "If", ["yes"], ["chosen"], then_branch=branch, else_branch=branch, name="choice"
        ),
        helper.make_node("SequenceConstruct", ["a", "a"], ["pair"], name="pair_up"),
        helper.make_node("ConcatFromSequence", ["pair"], ["joined"], axis=1, name="join_pair"),
        helper.make_node("Sin", ["a"], ["s"], name="sine"),
        helper.make_node("Sum", ["chosen", "s", "joined"], ["y"], name="total"),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 4])],
    )
    path = save(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), tmp_path / "m.onnx"
    )
    code, err = import_cli(path, tmp_path, capsys)
    assert code == 1 and "4 operator(s)" in err
    lines = [line.strip() for line in err.splitlines()[1:]]
    assert lines[0].startswith("If: control flow has no place in a layer graph")
    assert "(1x: 'choice')" in lines[0]
    assert any(
        line.startswith("SequenceConstruct: sequence values have no place") for line in lines
    )
    assert any(
        line.startswith("ConcatFromSequence: sequence values have no place") for line in lines
    )
    assert lines[-1] == "Sin: no layer computes it (1x: 'sine')"
