"""A layer with several outputs (Split): shapes per port, the forward pass, both exports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from engine.analysis import analyse
from engine.compiler import compile_graph, example_input
from engine.export import export_onnx, export_python
from engine.graph import Graph, PortRef
from engine.project import Project


def halves_graph(**split: object) -> Graph:
    """8 channels split in two; one half through a 1x1 conv, then joined again."""
    graph = Graph()
    graph.add_node("Input", "input", {"shape": [8, 4, 4]})
    graph.add_node("Split", "split", dict(split))
    graph.add_node("Conv2d", "conv", {"out_channels": 4, "kernel_size": 1})
    graph.add_node("Concat", "join", {"axis": 0})
    graph.add_node("Output", "output")
    graph.connect(PortRef("input", "out"), PortRef("split", "in"))
    graph.connect(PortRef("split", "out1"), PortRef("conv", "in"))
    graph.connect(PortRef("conv", "out"), PortRef("join", "in"))
    graph.connect(PortRef("split", "out2"), PortRef("join", "in"))
    graph.connect(PortRef("join", "out"), PortRef("output", "in"))
    return graph


def test_each_piece_has_its_own_shape_on_its_own_port() -> None:
    analysis = analyse(halves_graph(sizes=[6, 2]))
    assert analysis.ok, [str(d) for d in analysis.errors]
    assert analysis.nodes["split"].shapes == {"out1": (6, 4, 4), "out2": (2, 4, 4)}


def test_pieces_that_do_not_add_up_are_refused_naming_the_sizes() -> None:
    analysis = analyse(halves_graph(sizes=[5, 2]))
    (problem,) = analysis.for_node("split")
    assert problem.param == "sizes" and "add up to 7" in problem.message


def test_a_wire_from_a_piece_the_split_no_longer_has_is_an_error_on_the_split() -> None:
    graph = halves_graph()
    graph.set_param("split", "pieces", 4)
    graph.connect(PortRef("split", "out4"), PortRef("output", "in"))
    assert analyse(graph).nodes["split"].shapes.keys() == {"out1", "out2", "out3", "out4"}
    graph.set_param("split", "pieces", 2)
    problems = [str(d) for d in analyse(graph).for_node("split")]
    assert any("leaves from 'out4'" in p for p in problems)


def test_the_compiled_network_computes_what_torch_split_computes() -> None:
    graph = halves_graph()
    model = compile_graph(graph).eval()
    x = example_input(graph, batch=3)
    first, second = torch.split(x, 4, dim=1)
    with torch.no_grad():
        expected = torch.cat([model.conv(first), second], dim=1)
        assert torch.allclose(model(x), expected)


def test_both_exports_of_a_split_network_run_and_agree(tmp_path: Path) -> None:
    project = Project("halves", halves_graph())
    result = export_onnx(project, tmp_path / "halves.onnx", verify=True)
    assert result.max_abs_difference is not None and result.max_abs_difference < 1e-5
    export_python(project, tmp_path / "halves.py")
    source = (tmp_path / "halves.py").read_text()
    assert "split_out1, split_out2 = self.split(x)" in source
    done = subprocess.run(
        [sys.executable, str(tmp_path / "halves.py")], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "output shape: (2, 8, 4, 4)" in done.stdout


@pytest.mark.parametrize("axis", [0, -1])
def test_equal_pieces_need_an_axis_they_divide(axis: int) -> None:
    graph = halves_graph(pieces=3, axis=axis)
    (problem,) = analyse(graph).for_node("split")
    assert problem.param == "pieces"
