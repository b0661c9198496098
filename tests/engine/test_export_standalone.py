"""An exported file reads raw samples and names its classes: no scaling left to the caller."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from test_export_python import load_exported

from engine.cli import run
from engine.data.builtin import load_builtin
from engine.data.scaling import apply_scaling
from engine.export import export_onnx, export_python
from engine.export.model import ready_model
from engine.project import load_project
from engine.training.checkpoints import checkpoint_scaling


def trained_digits(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "digits.netwright.json"
    assert run(["new", str(path), "--example", "digits-cnn"]) == 0
    assert run(["train", str(path), "--epochs", "3", "--seed", "0"]) == 0
    return path


def designer_classes(project_path: Path, raw: np.ndarray) -> np.ndarray:
    """What the trained network answers in Netwright: raw samples scaled as training scaled them."""
    project = load_project(project_path)
    ready = ready_model(project)
    scaled = apply_scaling(
        raw, checkpoint_scaling(project_path.with_suffix("").with_suffix(".safetensors"))
    )
    with torch.no_grad():
        return ready.module(torch.from_numpy(scaled)).argmax(-1).numpy()


def onnx_classes(path: Path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x})[0].argmax(-1)


def test_raw_digits_into_the_exported_file_give_the_designers_classes(
    tmp_path: Path, monkeypatch
) -> None:
    project = trained_digits(tmp_path, monkeypatch)
    out = tmp_path / "digits.onnx"
    result = export_onnx(load_project(project), out)
    assert result.scaling is not None and result.scaling.startswith("in the graph")
    raw = load_builtin("digits").x.reshape(-1, 1, 8, 8)[:400].astype(np.float32)  # pixels 0..16
    assert raw.max() > 10  # raw indeed: unscaled
    assert (onnx_classes(out, raw) == designer_classes(project, raw)).all()
    model = onnx.load(str(out))
    assert [n.op_type for n in model.graph.node[:2]] == ["Sub", "Div"]
    props = {p.key: p.value for p in model.metadata_props}
    assert json.loads(props["class_labels"]) == [str(i) for i in range(10)]
    meaning = json.loads(props["netwright.input"])
    assert meaning["shape"] == [1, 8, 8] and meaning["value_range"] == [0.0, 16.0]
    assert meaning["scaling"].startswith("in the graph")
    assert json.loads(props["netwright.scaling"])["method"] == "standard"
    assert {"producer", "project", "input_name", "output_name"} <= set(props)


def test_no_scaling_leaves_the_graph_reading_scaled_samples(tmp_path: Path, monkeypatch) -> None:
    project = trained_digits(tmp_path, monkeypatch)
    out = tmp_path / "plain.onnx"
    assert run(["export", str(project), "--onnx", str(out), "--no-scaling"]) == 0
    model = onnx.load(str(out))
    assert model.graph.node[0].op_type != "Sub"
    raw = load_builtin("digits").x.reshape(-1, 1, 8, 8)[:200].astype(np.float32)
    stats = checkpoint_scaling(tmp_path / "digits.safetensors")
    assert (onnx_classes(out, apply_scaling(raw, stats)) == designer_classes(project, raw)).all()
    props = {p.key: p.value for p in model.metadata_props}
    assert "not in the graph" in json.loads(props["netwright.input"])["scaling"]


def test_the_python_export_scales_raw_samples_and_names_the_classes(
    tmp_path: Path, monkeypatch
) -> None:
    project = trained_digits(tmp_path, monkeypatch)
    out = tmp_path / "digits_net.py"
    export_python(load_project(project), out)
    written = load_exported(out)
    assert written.CLASS_NAMES == tuple(str(i) for i in range(10))
    model = written.Digits()
    model.load_state_dict(written.load_safetensors(str(tmp_path / "digits.safetensors")))
    model.eval()
    raw = load_builtin("digits").x.reshape(-1, 1, 8, 8)[:400].astype(np.float32)
    with torch.no_grad():
        classes = model(torch.from_numpy(raw)).argmax(-1).numpy()
    assert (classes == designer_classes(project, raw)).all()


def test_an_untrained_project_exports_without_scaling_and_says_so(tmp_path: Path) -> None:
    from engine.resources import examples

    project = load_project(next(e for e in examples() if e.name == "digits-mlp").path)
    project.dataset.pop("scaling_statistics", None)
    result = export_onnx(project, tmp_path / "u.onnx")
    assert result.scaling is not None and result.scaling.startswith("none")
