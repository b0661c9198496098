"""Export without the old exporter: every bundled example and every catalogue layer also
leaves through torch's torch.export-based (dynamo) exporter as a verified file.

torch has deprecated the TorchScript exporter Netwright uses by default; these cases
prove the day it is gone costs nothing but time. Each dynamo export takes seconds, so
most cases are slow (`make test-models` and `pytest -m slow` run them); a handful
covering every kind of layer (convolution, pooling, padding, recurrent, attention with
masks, a multi-output layer, a whole example) run in `make test`.
"""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest
from test_export_cases import LAYER_CASES, layer_project

from engine.export import ExportError, export_onnx
from engine.project import Project, load_project
from engine.resources import examples

FAST_LAYERS = {"Conv2d", "MaxPool3d", "Pad", "LSTM", "TransformerEncoderLayer", "Split"}
FAST_EXAMPLES = {"digits-cnn"}


def _marked(names: list[str], fast: set[str]) -> list[object]:
    return [pytest.param(n, marks=() if n in fast else pytest.mark.slow) for n in names]


def assert_dynamo_file(project: Project, out: Path) -> None:
    result = export_onnx(project, out, verify=True, exporter="dynamo")
    assert result.exporter == "dynamo" and result.opset == 18
    assert result.max_abs_difference is not None
    assert result.max_abs_difference <= result.tolerance
    assert list(out.parent.iterdir()) == [out], "one self-contained file, no .onnx.data"
    model = onnx.load(str(out))
    assert next(o.version for o in model.opset_import if o.domain == "") == 18


@pytest.mark.parametrize("name", _marked(sorted(LAYER_CASES), FAST_LAYERS))
def test_every_catalogue_layer_exports_through_the_dynamo_exporter(
    name: str, tmp_path: Path
) -> None:
    assert_dynamo_file(layer_project(name), tmp_path / "layer.onnx")


@pytest.mark.parametrize("name", _marked(sorted(e.name for e in examples()), FAST_EXAMPLES))
def test_every_example_exports_through_the_dynamo_exporter(name: str, tmp_path: Path) -> None:
    example = next(e for e in examples() if e.name == name)
    assert_dynamo_file(load_project(example.path), tmp_path / "example.onnx")


def test_a_layer_named_like_a_torch_fx_attribute_exports(tmp_path: Path) -> None:
    """torch.export rebuilds the network as a torch.fx GraphModule, which has a `code`
    and a `graph` of its own: layers of those names (an autoencoder's code) still export."""
    project = layer_project("Linear")
    project.graph.rename_node("layer", "code")
    assert_dynamo_file(project, tmp_path / "code.onnx")
    names = [t.name for t in onnx.load(str(tmp_path / "code.onnx")).graph.initializer]
    assert "code.weight" in names, "weights keep their layer's name"


def test_the_dynamo_exporter_refuses_an_opset_it_cannot_write(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="opset 18 and newer, not 17") as caught:
        export_onnx(layer_project("Linear"), tmp_path / "x.onnx", opset=17, exporter="dynamo")
    assert caught.value.code == 2
    assert not (tmp_path / "x.onnx").exists()


def test_an_unknown_exporter_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="unknown exporter 'jit'") as caught:
        export_onnx(layer_project("Linear"), tmp_path / "x.onnx", exporter="jit")
    assert caught.value.code == 2
