"""Making a layer parameter per use (docs/blocks.md, per-use parameters): the pure helpers
the inspector's "Set per use…" menu uses, the range a use's parameter takes from the layers
it sets, and bad values reported once, naming the block, the parameter and where to fix it."""

from __future__ import annotations

from engine.analysis import analyse
from engine.blocks import (
    default_for,
    fitting_params,
    layer_for,
    param_name_problem,
    suggested_param_name,
)
from engine.layers import layer_type
from engine.project import project_from_json
from tests.engine.test_block_params import document


def definition():
    return project_from_json(document()).blocks["ConvBlock"]


def conv_param(name: str, layer: str = "Conv2d"):
    conv = layer_type(layer)
    assert conv is not None
    found = conv.param(name)
    assert found is not None
    return found


def test_a_new_parameter_is_named_after_the_layer_parameter_and_never_taken() -> None:
    block = definition()  # declares channels and stride
    assert suggested_param_name(block, "out_channels") == "channels2"
    assert suggested_param_name(block, "stride") == "stride2"
    assert suggested_param_name(block, "kernel_size") == "kernel_size"
    assert suggested_param_name(block, "out_features") == "features"
    block.extra["params"] = {}
    assert suggested_param_name(block, "out_channels") == "channels"


def test_a_new_parameter_name_must_be_a_free_python_name() -> None:
    block = definition()
    assert param_name_problem(block, "width") is None
    assert "already has a parameter 'channels'" in (param_name_problem(block, "channels") or "")
    for bad in ("2x", "block", "class", "my width", ""):
        assert "cannot name a block parameter" in (param_name_problem(block, bad) or ""), bad


def test_only_parameters_whose_default_fits_are_offered_for_linking() -> None:
    block = definition()
    block.extra["params"] = {"channels": 16, "stride": 1, "mode": "bilinear", "on": True, "r": 0.5}
    assert fitting_params(block, conv_param("out_channels")) == ["channels", "stride"]
    assert fitting_params(block, conv_param("bias")) == ["on"]
    assert fitting_params(block, conv_param("mode", "Upsample")) == ["mode"]
    assert fitting_params(block, conv_param("negative_slope", "LeakyReLU")) == ["r"]


def test_the_default_of_a_new_parameter_is_the_current_value_when_it_can_be_one() -> None:
    assert default_for(conv_param("out_channels"), 48) == 48
    assert default_for(conv_param("kernel_size"), [3, 5]) is None  # a list cannot be one
    assert (
        default_for(conv_param("out_channels"), {"param": "x"})
        == conv_param("out_channels").default
    )


def test_a_uses_parameter_takes_the_range_and_help_of_the_layers_it_sets() -> None:
    graph = project_from_json(document()).graph
    layer = layer_for(graph.node("layer2"), graph.blocks)
    assert layer is not None
    channels = layer.param("channels")
    assert channels is not None and channels.kind == "int" and channels.minimum == 1
    assert "conv1.out_channels" in channels.help and "shortcut.out_channels" in channels.help


def test_a_bad_value_on_a_use_is_one_problem_naming_block_parameter_and_the_fix() -> None:
    data = document()
    data["graph"]["nodes"][2]["params"]["channels"] = 0
    analysis = analyse(project_from_json(data).graph)
    problems = analysis.for_node("layer2")
    assert len(problems) == 1, problems  # not once more for each layer inside
    (problem,) = problems
    assert problem.code == "bad-block-param" and problem.param == "channels"
    assert "block 'ConvBlock'" in problem.message and "at least 1" in problem.message
    assert "inspector of block node 'layer2'" in (problem.hint or "")


def test_a_bad_default_says_the_use_takes_it_and_where_to_change_it() -> None:
    data = document()
    data["blocks"]["ConvBlock"]["params"]["channels"] = 0
    problems = analyse(project_from_json(data).graph).for_node("layer1")
    assert len(problems) == 1
    assert "uses the default (0)" in (problems[0].hint or "")
    assert "inside block 'ConvBlock'" in (problems[0].hint or "")


def test_a_value_that_fits_the_range_but_not_the_shapes_names_the_layer_it_sets() -> None:
    data = document()
    block = data["blocks"]["ConvBlock"]
    block["params"]["k"] = 3
    block["nodes"][1]["params"]["kernel_size"] = {"param": "k"}
    data["graph"]["nodes"][2]["params"]["k"] = 40
    problems = analyse(project_from_json(data).graph).for_node("layer2")
    assert len(problems) == 1
    assert problems[0].message.startswith("block 'ConvBlock', parameter 'k' = 40: ")
    assert "layer 'conv1', whose 'kernel_size' it sets" in problems[0].message
    assert problems[0].path == ("conv1",) and problems[0].param == "k"
