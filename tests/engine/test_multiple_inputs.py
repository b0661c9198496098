"""A network that reads several inputs: checked, compiled, exported and imported; training
it is refused with the reason, since a data set feeds one Input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from engine.analysis import analyse
from engine.compiler import compile_graph
from engine.export import export_onnx, export_python
from engine.graph import Graph, PortRef
from engine.onnx_import import OnnxImportError, import_onnx
from engine.project import Project, load_project, save_project
from engine.training.plan import PlanError, plan_training


def image_and_scale() -> Graph:
    """An image and a per-channel scale read side by side: conv(image) * scale."""
    graph = Graph()
    graph.add_node("Input", "image", {"shape": [2, 6, 6]})
    graph.add_node("Input", "scale", {"shape": [4, 1, 1]})
    graph.add_node("Conv2d", "conv", {"out_channels": 4, "kernel_size": 3})
    graph.add_node("Multiply", "scaled")
    graph.add_node("Output", "output")
    graph.connect(PortRef("image", "out"), PortRef("conv", "in"))
    graph.connect(PortRef("conv", "out"), PortRef("scaled", "in"))
    graph.connect(PortRef("scale", "out"), PortRef("scaled", "in"))
    graph.connect(PortRef("scaled", "out"), PortRef("output", "in"))
    return graph


def batches(size: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(4)
    return torch.randn(size, 2, 6, 6, generator=generator), torch.randn(
        size, 4, 1, 1, generator=generator
    )


def test_the_network_takes_its_inputs_in_the_order_of_its_input_nodes() -> None:
    graph = image_and_scale()
    analysis = analyse(graph)
    assert analysis.ok and analysis.input_ids == ("image", "scale")
    model = compile_graph(graph).eval()
    image, scale = batches()
    with torch.no_grad():
        assert torch.allclose(model(image, scale), model.conv(image) * scale)
    with pytest.raises(TypeError, match=r"reads 2 input\(s\) \(image, scale\), but 1 were given"):
        model(image)


def test_a_second_input_that_leads_nowhere_is_a_warning() -> None:
    graph = image_and_scale()
    graph.add_node("Input", "spare", {"shape": [3]})
    analysis = analyse(graph)
    assert analysis.ok
    (warning,) = analysis.for_node("spare")
    assert warning.severity == "warning" and "does not lead to the Output" in warning.message


def test_both_exports_read_every_input_by_name(tmp_path: Path) -> None:
    project = Project("two-inputs", image_and_scale())
    result = export_onnx(project, tmp_path / "two.onnx", verify=True)
    assert result.max_abs_difference is not None and result.max_abs_difference < 1e-5
    session = ort.InferenceSession(str(tmp_path / "two.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["image", "scale"]
    image, scale = batches(5)  # another batch size than the export's
    model = compile_graph(project.graph).eval()
    with torch.no_grad():
        expected = model(image, scale).numpy()
    got = session.run(None, {"image": image.numpy(), "scale": scale.numpy()})[0]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    export_python(project, tmp_path / "two.py")
    source = (tmp_path / "two.py").read_text()
    assert "def forward(self, image: torch.Tensor, scale: torch.Tensor)" in source
    done = subprocess.run(
        [sys.executable, str(tmp_path / "two.py")], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "output shape: (2, 4, 4, 4)" in done.stdout


def test_the_dynamo_exporter_reads_every_input_too(tmp_path: Path) -> None:
    result = export_onnx(
        Project("two-inputs", image_and_scale()), tmp_path / "two.onnx", exporter="dynamo"
    )
    assert result.exporter == "dynamo"
    assert result.max_abs_difference is not None and result.max_abs_difference < 1e-5
    session = ort.InferenceSession(str(tmp_path / "two.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["image", "scale"]


def test_a_file_with_two_inputs_imports_as_two_input_nodes(tmp_path: Path) -> None:
    class Gated(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = torch.nn.Linear(6, 4)

        def forward(self, x: torch.Tensor, gate: torch.Tensor) -> torch.Tensor:
            return torch.relu(self.linear(x)) * torch.sigmoid(gate) - gate

    model = Gated().eval()
    x, gate = torch.randn(2, 6), torch.randn(2, 4)
    torch.onnx.export(
        model,
        (x, gate),
        str(tmp_path / "gated.onnx"),
        dynamo=False,
        input_names=["x", "gate"],
        dynamic_axes={"x": {0: "b"}, "gate": {0: "b"}},
    )
    result = import_onnx(tmp_path / "gated.onnx", tmp_path / "gated.netwright.json")
    graph = load_project(result.project_path).graph
    assert [n.id for n in graph if n.type == "Input"] == ["x", "gate"]
    assert {"Multiply", "Subtract"} <= {n.type for n in graph}
    again = export_onnx(load_project(result.project_path), tmp_path / "again.onnx", verify=True)
    session = ort.InferenceSession(str(again.path), providers=["CPUExecutionProvider"])
    x, gate = torch.randn(5, 6), torch.randn(5, 4)
    with torch.no_grad():
        expected = model(x, gate).numpy()
    got = session.run(None, {"x": x.numpy(), "gate": gate.numpy()})[0]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_training_is_refused_naming_the_inputs(tmp_path: Path) -> None:
    project = Project("two-inputs", image_and_scale())
    project.dataset["source"] = "builtin:digits"
    project.training["loss"] = "mse"
    with pytest.raises(PlanError, match=r"reads 2 inputs \('image', 'scale'\).*Keep one Input"):
        plan_training(project)


def test_netwright_check_lists_both_inputs(tmp_path: Path) -> None:
    path = tmp_path / "two.netwright.json"
    project = Project("two-inputs", image_and_scale())
    project.training["loss"] = "mse"
    save_project(project, path)
    done = subprocess.run(
        [sys.executable, "-m", "engine", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "image" in done.stdout and "scale" in done.stdout
    assert "training needs data for each" in done.stdout + done.stderr


def one_axis_file(tmp_path: Path, shapes: list[list[int]]) -> Path:
    """x + y, with the inputs' declared shapes as given."""
    from onnx import TensorProto, helper

    inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in zip("xy", shapes)]
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "y"], ["z"])],
        "add",
        inputs,
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [2, 3])],
    )
    path = tmp_path / "add.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


@pytest.mark.parametrize(
    ("shapes", "words"),
    [
        (
            [[2, 3], [3]],
            "input 'y' has 1 axes; Netwright reads the first axis of every input as the batch",
        ),
        ([[2, 3], [1, 3]], "the inputs have different batch sizes ('x' 2, 'y' 1)"),
    ],
)
def test_inputs_that_are_not_batches_of_samples_are_refused_by_name(
    shapes: list[list[int]], words: str, tmp_path: Path
) -> None:
    with pytest.raises(OnnxImportError) as refused:
        import_onnx(one_axis_file(tmp_path, shapes), tmp_path / "add.netwright.json")
    assert words in str(refused.value)
