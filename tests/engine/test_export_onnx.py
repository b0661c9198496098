"""ONNX export: every layer and example leaves as a verified file that computes the same."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from test_export_cases import LAYER_CASES, layer_project

from engine.compiler import compile_graph, example_input
from engine.export import ExportError, export_onnx
from engine.export import onnx_export as onnx_export_module
from engine.export.verify import VerificationError
from engine.layers import CATALOGUE
from engine.project import Project, load_project, save_project
from engine.resources import examples
from engine.weights import save_weights


def run_onnx(path: Path, x: torch.Tensor) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]


@pytest.mark.parametrize("name", sorted(LAYER_CASES))
def test_every_catalogue_layer_exports_to_a_verified_file(name: str, tmp_path: Path) -> None:
    assert CATALOGUE[name].exports_onnx, f"{name} is declared as not exportable"
    result = export_onnx(layer_project(name), tmp_path / "layer.onnx", verify=True)
    assert result.max_abs_difference is not None
    assert result.max_abs_difference <= result.tolerance
    assert result.size_bytes == (tmp_path / "layer.onnx").stat().st_size > 0
    assert list(tmp_path.iterdir()) == [tmp_path / "layer.onnx"], "one self-contained file"


@pytest.mark.parametrize("example", examples(), ids=lambda e: e.name)
def test_every_example_exports_with_a_dynamic_batch_axis(example, tmp_path: Path) -> None:
    project = load_project(example.path)
    out = tmp_path / "model.onnx"
    result = export_onnx(project, out, verify=True)
    assert result.opset == 17 and result.exporter == "torchscript"
    module = compile_graph(project.graph, project.training.get("seed", 0)).eval()
    for batch in (1, 5):
        x = example_input(project.graph, batch=batch, seed=7)
        with torch.no_grad():
            expected = module(x).numpy()
        np.testing.assert_allclose(run_onnx(out, x), expected, rtol=1e-4, atol=1e-5)


def test_the_projects_trained_weights_are_exported(tmp_path: Path) -> None:
    project = load_project(next(e for e in examples() if e.name == "digits-cnn").path)
    project_path = tmp_path / "digits.netwright.json"
    save_project(project, project_path)
    trained = compile_graph(project.graph, seed=123).eval()
    save_weights(trained, project.weights_path())
    result = export_onnx(project, tmp_path / "digits.onnx", verify=True)
    assert "trained weights" in result.weights
    x = example_input(project.graph, batch=3, seed=5)
    with torch.no_grad():
        expected = trained(x).numpy()
        untrained = compile_graph(project.graph, seed=0).eval()(x).numpy()
    got = run_onnx(tmp_path / "digits.onnx", x)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    assert not np.allclose(got, untrained, atol=1e-3)


def test_weights_that_do_not_fit_are_refused_by_name(tmp_path: Path) -> None:
    other = compile_graph(layer_project("Conv1d").graph)
    save_weights(other, tmp_path / "other.safetensors")
    with pytest.raises(ExportError, match="do not fit") as caught:
        export_onnx(
            layer_project("Linear"), tmp_path / "x.onnx", weights=tmp_path / "other.safetensors"
        )
    assert caught.value.code == 1
    assert not (tmp_path / "x.onnx").exists()


def test_metadata_names_producer_project_ports_and_class_labels(tmp_path: Path) -> None:
    project = layer_project("Linear")
    project.dataset = {"source": "builtin:digits", "classes": ["a", "b", "c", "d", "e"]}
    export_onnx(project, tmp_path / "m.onnx", verify=False)
    model = onnx.load(str(tmp_path / "m.onnx"))
    props = {p.key: p.value for p in model.metadata_props}
    assert model.producer_name == "netwright"
    assert props["project"] == "linear-case"
    assert props["input_name"] == "input" and props["output_name"] == "output"
    assert json.loads(props["class_labels"]) == ["a", "b", "c", "d", "e"]
    assert [i.name for i in model.graph.input] == ["input"]
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"


def test_an_invalid_graph_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    project = layer_project("Linear")
    project.graph.set_param("layer", "out_features", 0)
    with pytest.raises(ExportError, match="out_features") as caught:
        export_onnx(project, tmp_path / "x.onnx")
    assert caught.value.code == 1
    assert not (tmp_path / "x.onnx").exists()


def test_a_failed_verification_keeps_the_previous_file(tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "m.onnx"
    out.write_bytes(b"previous export")

    def disagree(*args: object, **kwargs: object) -> None:
        raise VerificationError("the ONNX file computes different numbers than torch")

    monkeypatch.setattr(onnx_export_module, "compare_with_onnxruntime", disagree)
    with pytest.raises(ExportError, match="nothing was written") as caught:
        export_onnx(layer_project("Linear"), out, verify=True)
    assert caught.value.code == 1
    assert out.read_bytes() == b"previous export"


def test_dynamo_takes_over_when_the_torchscript_exporter_fails(tmp_path: Path, monkeypatch) -> None:
    real_export = torch.onnx.export

    def torchscript_broken(*args: object, **kwargs: object) -> object:
        if not kwargs.get("dynamo", True):
            raise RuntimeError("legacy exporter unavailable")
        return real_export(*args, **kwargs)

    monkeypatch.setattr(torch.onnx, "export", torchscript_broken)
    result = export_onnx(layer_project("GRU"), tmp_path / "gru.onnx", opset=18, verify=True)
    assert result.exporter == "dynamo" and result.opset == 18
    assert result.max_abs_difference is not None and result.max_abs_difference < 1e-4
    assert [p.name for p in tmp_path.iterdir()] == ["gru.onnx"], "no separate .onnx.data file"


def test_an_unsupported_opset_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="opset 5") as caught:
        export_onnx(
            Project(name="p", graph=layer_project("Linear").graph), tmp_path / "x.onnx", opset=5
        )
    assert caught.value.code == 2


def test_an_opset_too_old_for_a_layer_is_refused_with_the_reason(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"opset 13.*scaled_dot_product_attention") as caught:
        export_onnx(layer_project("MultiheadAttention"), tmp_path / "a.onnx", opset=13)
    assert caught.value.code == 1
    assert not (tmp_path / "a.onnx").exists()


def test_the_written_opset_is_reported(tmp_path: Path) -> None:
    result = export_onnx(layer_project("LayerNorm"), tmp_path / "n.onnx", opset=11, verify=True)
    model = onnx.load(str(tmp_path / "n.onnx"))
    assert result.opset == 11 == next(o.version for o in model.opset_import if o.domain == "")
