"""Renaming, removing and changing the default of a block parameter (engine/block_params.py):
each edit is a plan of parameter changes across the project, applied here by hand, and the
project then analyses as the user meant (docs/blocks.md, per-use parameters)."""

from __future__ import annotations

from typing import Any

import pytest

from engine.analysis import analyse
from engine.block_params import (
    BlockParamError,
    ParamChange,
    change_default,
    remove_param,
    rename_param,
    usage,
)
from engine.blocks import declared
from engine.project import Project, project_from_json
from tests.engine.test_block_params import document
from tests.engine.test_blocks import chain, node


def project(extra_use: bool = False) -> Project:
    """ConvBlock (channels, stride) used twice at the top, layer2 at 32 channels, stride 2;
    with `extra_use` also inside a Stage definition that passes its own width on."""
    data = document()
    if extra_use:
        data["blocks"]["Stage"] = {
            "params": {"width": 8},
            "nodes": [
                node("x", "BlockInput"),
                node("inner", "Block", block="ConvBlock", channels={"param": "width"}),
                node("y", "BlockOutput"),
            ],
            "edges": chain("x", "inner", "y"),
        }
    return project_from_json(data)


def apply(change: ParamChange, definition: Any) -> None:
    if change.declared is None:
        definition.extra.pop("params", None)
    else:
        definition.extra["params"] = change.declared
    for edit in change.sets:
        edit.graph.set_param(edit.node, edit.param, edit.value)


def shapes(p: Project) -> dict[str, Any]:
    analysis = analyse(p.graph)
    assert analysis.ok, analysis.diagnostics
    return {n: analysis.nodes[n].shape for n in ("layer1", "layer2")}


def test_usage_counts_the_layers_that_refer_and_the_uses_that_set_their_own() -> None:
    p = project(extra_use=True)
    found = {u.name: u for u in usage("ConvBlock", p.blocks, [p.graph])}
    assert list(found) == ["channels", "stride"]
    channels = found["channels"]
    assert channels.layers == (("conv1", "out_channels"), ("shortcut", "out_channels"))
    assert channels.uses == 3 and channels.own == ("layer2", "inner")
    assert found["stride"].own == ("layer2",) and not found["stride"].unused
    p.blocks["ConvBlock"].extra["params"]["spare"] = 1
    spare = usage("ConvBlock", p.blocks, [p.graph])[-1]
    assert spare.name == "spare" and spare.unused and spare.own == ()


def test_rename_updates_the_declaration_in_place_every_reference_and_every_use() -> None:
    p = project(extra_use=True)
    before = shapes(p)
    definition = p.blocks["ConvBlock"]
    change = rename_param("ConvBlock", p.blocks, [p.graph], "channels", "width")
    assert list(change.declared or {}) == ["width", "stride"]  # the order kept
    apply(change, definition)
    assert definition.node("conv1").params["out_channels"] == {"param": "width"}
    assert definition.node("shortcut").params["out_channels"] == {"param": "width"}
    layer2 = p.graph.node("layer2").params
    assert "channels" not in layer2 and layer2["width"] == 32
    inner = p.blocks["Stage"].node("inner").params
    assert inner["width"] == {"param": "width"}  # the Stage's own reference, moved with it
    assert "width" in declared(p.blocks["Stage"])  # the other block's parameter untouched
    assert shapes(p) == before


@pytest.mark.parametrize(
    ("new", "reason"),
    [
        ("stride", "already has a parameter 'stride'"),
        ("2x", "cannot name a block parameter"),
        ("block", "cannot name a block parameter"),
        ("class", "cannot name a block parameter"),
    ],
)
def test_rename_refuses_a_taken_or_invalid_name(new: str, reason: str) -> None:
    p = project()
    with pytest.raises(BlockParamError, match=reason):
        rename_param("ConvBlock", p.blocks, [p.graph], "channels", new)


def test_rename_to_the_same_name_changes_nothing_and_an_unknown_one_is_refused() -> None:
    p = project()
    assert rename_param("ConvBlock", p.blocks, [p.graph], "stride", "stride").sets == ()
    with pytest.raises(BlockParamError, match="has no parameter 'chanels'"):
        rename_param("ConvBlock", p.blocks, [p.graph], "chanels", "width")
    with pytest.raises(BlockParamError, match="no block 'Nope'"):
        rename_param("Nope", p.blocks, [p.graph], "channels", "width")


def test_remove_fixes_the_layers_at_the_default_and_drops_the_uses_values() -> None:
    p = project(extra_use=True)
    definition = p.blocks["ConvBlock"]
    change = remove_param("ConvBlock", p.blocks, [p.graph], "channels")
    apply(change, definition)
    assert declared(definition) == {"stride": 1}
    assert definition.node("conv1").params["out_channels"] == 16
    assert definition.node("shortcut").params["out_channels"] == 16
    assert "channels" not in p.graph.node("layer2").params
    assert p.graph.node("layer2").params["stride"] == 2
    assert "channels" not in p.blocks["Stage"].node("inner").params
    assert shapes(p) == {"layer1": (16, 16, 16), "layer2": (16, 8, 8)}


def test_removing_the_last_parameter_drops_the_declaration() -> None:
    p = project()
    definition = p.blocks["ConvBlock"]
    apply(remove_param("ConvBlock", p.blocks, [p.graph], "channels"), definition)
    change = remove_param("ConvBlock", p.blocks, [p.graph], "stride")
    assert change.declared is None
    apply(change, definition)
    assert "params" not in definition.extra
    assert definition.node("conv1").params["stride"] == 1
    assert shapes(p) == {"layer1": (16, 16, 16), "layer2": (16, 16, 16)}


def test_a_new_default_applies_to_the_uses_that_set_none() -> None:
    p = project()
    definition = p.blocks["ConvBlock"]
    apply(change_default("ConvBlock", p.blocks, "channels", 24), definition)
    assert declared(definition) == {"channels": 24, "stride": 1}
    assert shapes(p) == {"layer1": (24, 16, 16), "layer2": (32, 8, 8)}


@pytest.mark.parametrize(
    ("value", "reason"),
    [(0, "at least 1"), ("wide", "must be a whole number"), (True, "must be a whole number")],
)
def test_a_default_the_layers_cannot_take_is_refused(value: Any, reason: str) -> None:
    p = project()
    with pytest.raises(BlockParamError, match=reason):
        change_default("ConvBlock", p.blocks, "channels", value)


def test_a_float_default_takes_a_whole_number_as_a_float() -> None:
    p = project()
    definition = p.blocks["ConvBlock"]
    definition.extra["params"]["rate"] = 0.5
    change = change_default("ConvBlock", p.blocks, "rate", 1)
    assert change.declared is not None and change.declared["rate"] == 1.0
    assert isinstance(change.declared["rate"], float)
