"""`netwright export`: plain messages and the contract's exit codes, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_export_cases import layer_project

from engine.cli import run
from engine.compiler import compile_graph
from engine.project import save_project
from engine.weights import save_weights


@pytest.fixture
def project_file(tmp_path: Path) -> Path:
    path = tmp_path / "net.netwright.json"
    save_project(layer_project("Conv1d"), path)
    return path


def test_onnx_export_with_verify_prints_the_difference(
    project_file: Path, tmp_path, capsys
) -> None:
    code = run(["export", str(project_file), "--onnx", str(tmp_path / "net.onnx"), "--verify"])
    out = capsys.readouterr().out
    assert code == 0
    assert "largest absolute difference" in out and "opset 17" in out
    assert (tmp_path / "net.onnx").is_file()


def test_python_export_writes_the_file(project_file: Path, tmp_path, capsys) -> None:
    assert run(["export", str(project_file), "--python", str(tmp_path / "net.py")]) == 0
    assert "class Conv1dCase(nn.Module)" in (tmp_path / "net.py").read_text()


def test_chosen_opset_is_used(project_file: Path, tmp_path, capsys) -> None:
    assert (
        run(["export", str(project_file), "--onnx", str(tmp_path / "n.onnx"), "--opset", "13"]) == 0
    )
    assert "opset 13" in capsys.readouterr().out


def test_the_dynamo_exporter_can_be_chosen(project_file: Path, tmp_path, capsys) -> None:
    out = tmp_path / "d.onnx"
    assert run(["export", str(project_file), "--onnx", str(out), "--exporter", "dynamo"]) == 0
    assert "opset 18, dynamo exporter" in capsys.readouterr().out
    assert out.is_file()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--opset", "99"], "opset 99 is not supported"),
        (["--weights", "missing.safetensors"], "no such weights file"),
        (["--exporter", "dynamo", "--opset", "17"], "writes opset 18 and newer, not 17"),
    ],
)
def test_bad_options_exit_2(project_file: Path, tmp_path, capsys, extra, message) -> None:
    code = run(["export", str(project_file), "--onnx", str(tmp_path / "n.onnx"), *extra])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err


def test_exporter_options_apply_to_onnx_only(project_file: Path, tmp_path, capsys) -> None:
    code = run(
        ["export", str(project_file), "--python", str(tmp_path / "n.py"), "--exporter", "dynamo"]
    )
    assert code == 2
    assert "--opset and --exporter apply to --onnx exports only" in capsys.readouterr().err


def test_a_missing_project_exits_2(tmp_path, capsys) -> None:
    assert run(["export", str(tmp_path / "nope.json"), "--onnx", str(tmp_path / "n.onnx")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_weights_of_another_network_exit_1(project_file: Path, tmp_path, capsys) -> None:
    save_weights(compile_graph(layer_project("Linear").graph), tmp_path / "other.safetensors")
    code = run(
        [
            "export",
            str(project_file),
            "--python",
            str(tmp_path / "n.py"),
            "--weights",
            str(tmp_path / "other.safetensors"),
        ]
    )
    assert code == 1
    assert "do not fit" in capsys.readouterr().err
    assert not (tmp_path / "n.py").exists()


def test_an_invalid_network_exits_1_naming_the_node(tmp_path, capsys) -> None:
    project = layer_project("Linear")
    project.graph.remove_node("layer")
    save_project(project, tmp_path / "broken.netwright.json")
    code = run(
        ["export", str(tmp_path / "broken.netwright.json"), "--onnx", str(tmp_path / "n.onnx")]
    )
    assert code == 1
    assert "node 'output'" in capsys.readouterr().err


def test_onnx_or_python_must_be_chosen(project_file: Path) -> None:
    with pytest.raises(SystemExit) as caught:
        run(["export", str(project_file)])
    assert caught.value.code == 2
