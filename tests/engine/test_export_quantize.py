"""int8 and fp16 ONNX files: smaller, still running, with the accuracy change stated."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from engine.cli import run
from engine.export import ExportError, export_onnx
from engine.export.deploy_check import deploy_check, sample_feed
from engine.project import load_project, save_project
from engine.resources import examples

SLOW = {"tiny-gpt", "text-classifier"}  # dynamic quantization of a few seconds each


def trained(tmp_path: Path, name: str, epochs: int, monkeypatch) -> Path:
    """The example saved in `tmp_path` and trained briefly with `netwright train`."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / f"{name}.netwright.json"
    assert run(["new", str(path), "--example", name]) == 0
    assert run(["train", str(path), "--epochs", str(epochs), "--seed", "0"]) == 0
    return path


def runs(path: Path) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, sample_feed(onnx.load(str(path)), batch=3))[0]


@pytest.mark.parametrize(
    "example",
    [
        pytest.param(e.name, marks=pytest.mark.slow) if e.name in SLOW else e.name
        for e in examples()
    ],
)
def test_every_example_exports_int8_and_the_file_runs_in_onnxruntime(
    example: str, tmp_path: Path
) -> None:
    project = load_project(next(e for e in examples() if e.name == example).path)
    out = tmp_path / f"{example}.int8.onnx"
    result = export_onnx(project, out, verify=False, quantize="int8", calibration=8)
    assert result.form == "int8" and result.comparison is not None
    assert result.comparison.method.startswith(("static", "dynamic"))
    onnx.checker.check_model(onnx.load(str(out)))
    assert np.all(np.isfinite(runs(out)))


def test_digits_cnn_int8_is_3x_smaller_and_within_one_point_of_float(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    project = trained(tmp_path, "digits-cnn", 5, monkeypatch)
    capsys.readouterr()
    out = tmp_path / "digits.int8.onnx"
    assert run(["export", str(project), "--onnx", str(out), "--quantize", "int8"]) == 0
    printed = capsys.readouterr().out
    assert "static quantization (QDQ" in printed and "validation accuracy" in printed
    result = export_onnx(load_project(project), tmp_path / "again.onnx", quantize="int8")
    report = result.comparison
    assert report is not None and report.metric == "validation accuracy"
    assert report.size_ratio >= 3.0
    assert report.float_metric is not None and report.exported_metric is not None
    assert report.float_metric > 0.9  # trained: the comparison means something
    assert abs(report.exported_metric - report.float_metric) <= 0.01
    assert report.size_bytes == out.stat().st_size == result.size_bytes
    assert result.verified  # the float32 network was proven against torch before quantizing
    figures = result.to_json()["comparison"]
    assert {"float_size_bytes", "size_bytes", "float_latency_ms", "latency_ms"} <= set(figures)


def test_fp16_keeps_float32_inputs_and_reports_beside_float32(tmp_path: Path) -> None:
    project = load_project(next(e for e in examples() if e.name == "digits-mlp").path)
    out = tmp_path / "half.onnx"
    result = export_onnx(project, out, precision="fp16")
    model = onnx.load(str(out))
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert any(t.data_type == onnx.TensorProto.FLOAT16 for t in model.graph.initializer)
    assert result.comparison is not None and 1.5 < result.comparison.size_ratio < 2.1
    assert "fp16: half precision" in "\n".join(result.summary_lines())


def test_recurrent_networks_are_quantized_dynamically_and_the_report_says_why(
    tmp_path: Path,
) -> None:
    project = load_project(next(e for e in examples() if e.name == "digits-lstm").path)
    result = export_onnx(project, tmp_path / "lstm.onnx", quantize="int8", check_deploy=True)
    assert result.comparison is not None
    assert "dynamic quantization" in result.comparison.method
    assert "recurrent layer" in result.comparison.method
    assert result.deploy is not None
    ort_check, reference = result.deploy.runtimes
    assert ort_check.reads and not reference.reads  # DynamicQuantizeLSTM is onnxruntime's own
    assert "com.microsoft" in reference.detail


def test_the_deployment_check_names_opset_operators_and_both_runtimes(tmp_path: Path) -> None:
    project = load_project(next(e for e in examples() if e.name == "digits-cnn").path)
    out = tmp_path / "cnn.onnx"
    export_onnx(project, out)
    check = deploy_check(out.read_bytes())
    assert check.opsets == {"ai.onnx": 17}
    assert check.operators["Conv"] == 2
    assert [r.reads for r in check.runtimes] == [True, True]
    assert "largest difference from onnxruntime" in check.runtimes[1].detail
    assert any(line.startswith("operators (") for line in check.lines())


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--quantize", "int8", "--calibration", "0"], "--calibration 0"),
        (["--quantize", "int8", "--precision", "fp16"], "choose one"),
        (["--calibration", "10"], "--calibration N applies to --quantize int8 only"),
    ],
)
def test_contradicting_or_bad_options_exit_2(tmp_path: Path, capsys, extra, message) -> None:
    project = tmp_path / "p.netwright.json"
    save_project(load_project(next(e for e in examples() if e.name == "digits-mlp").path), project)
    code = run(["export", str(project), "--onnx", str(tmp_path / "n.onnx"), *extra])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "n.onnx").exists()


def test_static_int8_without_data_says_so_and_writes_nothing(tmp_path: Path, capsys) -> None:
    project = load_project(next(e for e in examples() if e.name == "digits-mlp").path)
    project.dataset.pop("source", None)
    path = tmp_path / "nodata.netwright.json"
    save_project(project, path)
    code = run(["export", str(path), "--onnx", str(tmp_path / "n.onnx"), "--quantize", "int8"])
    err = capsys.readouterr().err
    assert code == 1
    assert "calibrates on the project's training data" in err and "dataset.source" in err
    assert not (tmp_path / "n.onnx").exists()


def test_quantize_applies_to_onnx_only(tmp_path: Path, capsys) -> None:
    project = tmp_path / "p.netwright.json"
    save_project(load_project(next(e for e in examples() if e.name == "digits-mlp").path), project)
    code = run(["export", str(project), "--python", str(tmp_path / "n.py"), "--quantize", "int8"])
    assert code == 2 and "--quantize apply to --onnx exports only" in capsys.readouterr().err


def test_an_unknown_form_is_refused_by_the_engine_too(tmp_path: Path) -> None:
    project = load_project(next(e for e in examples() if e.name == "digits-mlp").path)
    with pytest.raises(ExportError, match="unknown quantization 'int4'"):
        export_onnx(project, tmp_path / "x.onnx", quantize="int4")
    assert json.loads(json.dumps(project.dataset))  # the project is left as it was
