"""Python export: one readable file, needing only torch, that computes what ONNX computes."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import onnxruntime as ort
import pytest
import torch
from safetensors.torch import load_file

from engine.compiler import compile_graph, example_input
from engine.export import export_onnx, export_python
from engine.export.python_export import class_name
from engine.project import load_project, save_project
from engine.resources import examples
from engine.weights import save_weights


def load_exported(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"exported_{path.stem.replace('-', '_')}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def trained_copy(example_name: str, folder: Path):
    """The example saved in `folder` with weights that differ from its initialization."""
    project = load_project(next(e for e in examples() if e.name == example_name).path)
    save_project(project, folder / f"{example_name}.netwright.json")
    module = compile_graph(project.graph, seed=99)
    with torch.no_grad():
        for tensor in module.state_dict().values():
            if tensor.is_floating_point():
                tensor.add_(0.01)
    save_weights(module, project.weights_path())
    return project, module.eval()


@pytest.mark.parametrize("example", examples(), ids=lambda e: e.name)
def test_python_and_onnx_exports_of_the_same_weights_agree(example, tmp_path: Path) -> None:
    project, trained = trained_copy(example.name, tmp_path)
    export_onnx(project, tmp_path / "m.onnx", verify=False)
    export_python(project, tmp_path / "m.py")
    code = load_exported(tmp_path / "m.py")
    model = getattr(code, class_name(project.name))()
    model.load_state_dict(load_file(str(project.weights_path())))
    model.eval()
    assert list(model.state_dict()) == list(trained.state_dict())
    x = example_input(project.graph, batch=4, seed=3)
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        from_python = model(x).numpy()
        from_engine = trained(x).numpy()
    from_onnx = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    np.testing.assert_allclose(from_python, from_onnx, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(from_python, from_engine, rtol=1e-5, atol=1e-6)


def test_the_exported_file_runs_on_its_own_with_weights(tmp_path: Path) -> None:
    project, _ = trained_copy("residual-cnn", tmp_path)
    export_python(project, tmp_path / "net.py")
    done = subprocess.run(
        [sys.executable, str(tmp_path / "net.py"), str(project.weights_path())],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "output shape: (2, 10)" in done.stdout


def test_the_forward_pass_reads_like_hand_written_code(tmp_path: Path) -> None:
    project, _ = trained_copy("residual-cnn", tmp_path)
    export_python(project, tmp_path / "net.py")
    text = (tmp_path / "net.py").read_text()
    assert "class ResidualCnn(nn.Module):" in text
    assert "        self.stem = nn.Conv2d(1, 32, kernel_size=3" in text
    assert "        x = self.stem(x)\n        x = self.stem_bn(x)\n" in text
    # the residual branch keeps the block's input alive in `x` and names the other path
    assert "block_conv1 = self.block_conv1(x)" in text
    assert "x = self.residual(block_conv1, x)" in text
    assert "        return x\n" in text
    assert "class Add(Broadcasting):" in text, "custom layers are copied in"
    assert text.index("class Broadcasting(nn.Module):") < text.index("class Add("), "base first"
    assert "import engine" not in text and "netwright" not in text.split('"""', 2)[2]
    imports = [line for line in text.splitlines() if line.startswith(("import ", "from "))]
    assert all(
        line.split()[1].split(".")[0] in {"__future__", "math", "json", "sys", "torch"}
        for line in imports
    ), imports


def test_its_safetensors_reader_matches_the_safetensors_package(tmp_path: Path) -> None:
    project, _ = trained_copy("transformer-marker", tmp_path)
    export_python(project, tmp_path / "net.py")
    code = load_exported(tmp_path / "net.py")
    ours = code.load_safetensors(str(project.weights_path()))
    theirs = load_file(str(project.weights_path()))
    assert ours.keys() == theirs.keys()
    for key in ours:
        assert torch.equal(ours[key], theirs[key]), key


def test_class_names_come_from_the_project_name() -> None:
    assert class_name("digits-cnn") == "DigitsCnn"
    assert class_name("3 layer net") == "Net3LayerNet"
    assert class_name("add") == "AddNet", "never the name of a copied layer class"
    assert class_name("!!!") == "Network"
