"""The block library without Qt: every bundled block analyses, compiles and runs on the input
it says it fits; files round-trip; placing a block reuses or renames definitions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from engine.analysis import analyse
from engine.block_library import (
    LibraryBlock,
    bundled_blocks,
    place,
    read_block,
    save_block,
    user_blocks,
)
from engine.compiler import compile_graph, example_input
from engine.graph import Graph, PortRef
from engine.project import ProjectError

EXPECTED = {
    "BasicBlock",
    "Bottleneck",
    "InvertedResidual",
    "PatchEmbedding",
    "SqueezeExcite",
    "TransformerEncoder",
}


def network_around(block: LibraryBlock) -> Graph:
    """Input (the shape the block fits) -> a use of the block -> Output."""
    assert block.fits is not None
    graph = Graph()
    placed = place(block, graph.blocks)
    for name, definition in placed.add.items():
        definition.blocks = graph.blocks
        graph.blocks[name] = definition
    graph.add_node("Input", "input", {"shape": list(block.fits)}, (0.0, 0.0))
    graph.add_node("Block", "block1", {"block": placed.name}, (260.0, 0.0))
    graph.add_node("Output", "output", {}, (520.0, 0.0))
    graph.connect(PortRef("input", "out"), PortRef("block1", "in"))
    graph.connect(PortRef("block1", "out"), PortRef("output", "in"))
    return graph


def test_the_bundled_blocks_are_all_there_with_descriptions() -> None:
    found = bundled_blocks()
    assert {b.name for b in found} == EXPECTED
    assert all(b.bundled and b.description and b.fits for b in found)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_bundled_block_analyses_compiles_and_runs_on_its_input(name: str) -> None:
    block = next(b for b in bundled_blocks() if b.name == name)
    graph = network_around(block)
    analysis = analyse(graph)
    assert analysis.ok, [str(d) for d in analysis.diagnostics]
    assert not analysis.diagnostics, [str(d) for d in analysis.diagnostics]
    assert analysis.nodes["block1"].params > 0
    module = compile_graph(graph, analysis=analysis)
    batch = example_input(graph, batch=2, analysis=analysis)
    with torch.no_grad():
        out = module(batch)
    expected = analysis.nodes["block1"].shape
    assert expected is not None and tuple(out.shape) == (2, *expected)
    assert torch.isfinite(out).all()


def test_the_residual_blocks_keep_their_input_shape() -> None:
    for block in bundled_blocks():
        if block.name in ("BasicBlock", "Bottleneck", "InvertedResidual", "SqueezeExcite"):
            analysis = analyse(network_around(block))
            assert analysis.nodes["block1"].shape == block.fits, block.name
    patches = next(b for b in bundled_blocks() if b.name == "PatchEmbedding")
    assert analyse(network_around(patches)).nodes["block1"].shape == (64, 64)  # 8x8 patches


# each bundled block, an input of other sizes, and the per-use values that fit it
RESIZED = {
    "BasicBlock": ([128, 8, 8], {"channels": 128}, (128, 8, 8)),
    "Bottleneck": ([512, 8, 8], {"width": 128, "channels": 512}, (512, 8, 8)),
    "SqueezeExcite": ([32, 8, 8], {"channels": 32, "reduced": 8}, (32, 8, 8)),
    "InvertedResidual": ([24, 8, 8], {"expanded": 144, "channels": 24}, (24, 8, 8)),
    "TransformerEncoder": ([10, 96], {"features": 96, "heads": 8, "hidden": 384}, (10, 96)),
    "PatchEmbedding": ([3, 32, 32], {"patch": 8}, (16, 64)),
}


@pytest.mark.parametrize("name", sorted(RESIZED))
def test_each_bundled_block_takes_its_sizes_per_use(name: str) -> None:
    """Dropped on a network of other sizes, a use sets its own and runs (the defaults are the
    sizes the block fits)."""
    block = next(b for b in bundled_blocks() if b.name == name)
    shape, values, expected = RESIZED[name]
    graph = network_around(block)
    graph.set_param("input", "shape", shape)
    before = analyse(graph)
    assert not before.ok or before.nodes["block1"].shape != expected  # the defaults do not fit
    for key, value in values.items():
        graph.set_param("block1", key, value)
    analysis = analyse(graph)
    assert analysis.ok, [str(d) for d in analysis.diagnostics]
    assert analysis.nodes["block1"].shape == expected
    module = compile_graph(graph, analysis=analysis)
    with torch.no_grad():
        out = module(example_input(graph, batch=2, analysis=analysis))
    assert tuple(out.shape) == (2, *expected)


def test_place_reuses_the_same_definition_and_renames_a_different_one() -> None:
    block = next(b for b in bundled_blocks() if b.name == "BasicBlock")
    blocks: dict[str, Graph] = {}
    first = place(block, blocks)
    assert first.name == "BasicBlock" and list(first.add) == ["BasicBlock"]
    blocks.update(first.add)
    again = place(block, blocks)
    assert again.name == "BasicBlock" and again.add == {}  # identical: reused
    changed = blocks["BasicBlock"].copy()
    changed.nodes["conv1"].params["kernel_size"] = 5
    blocks["BasicBlock"] = changed
    clash = place(block, blocks)
    assert clash.name == "BasicBlock2" and list(clash.add) == ["BasicBlock2"]


def test_a_saved_nested_block_round_trips_and_brings_what_it_uses(tmp_path: Path) -> None:
    basic = next(b for b in bundled_blocks() if b.name == "BasicBlock")
    stage = Graph()
    stage.add_node("BlockInput", "x", {}, (0.0, 0.0))
    stage.add_node("Block", "0", {"block": "BasicBlock"}, (260.0, 0.0))
    stage.add_node("Block", "1", {"block": "BasicBlock"}, (520.0, 0.0))
    stage.add_node("BlockOutput", "out", {}, (780.0, 0.0))
    for a, b in (("x", "0"), ("0", "1"), ("1", "out")):
        stage.connect(PortRef(a, "out"), PortRef(b, "in"))
    block = LibraryBlock("Stage", "two basic blocks", stage, {"BasicBlock": basic.definition})
    path = save_block(block, tmp_path)
    with pytest.raises(FileExistsError):
        save_block(block, tmp_path)  # never over a user's file without being told to
    read = read_block(path)
    assert read.name == "Stage" and set(read.uses) == {"BasicBlock"}
    # into a project that has a different BasicBlock: the inner one is renamed, and used
    other = basic.definition.copy()
    other.nodes["conv1"].params["out_channels"] = 8
    placed = place(read, {"BasicBlock": other})
    assert placed.name == "Stage" and list(placed.add) == ["BasicBlock2", "Stage"]
    inner = {n.params["block"] for n in placed.add["Stage"] if n.type == "Block"}
    assert inner == {"BasicBlock2"}
    found, problems = user_blocks(tmp_path)
    assert [b.name for b in found] == ["Stage"] and problems == []


def test_a_broken_file_is_named_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "Broken.block.json").write_text(json.dumps({"format": "other"}))
    found, problems = user_blocks(tmp_path)
    assert found == [] and "not a Netwright block file" in problems[0]
    with pytest.raises(ProjectError):
        read_block(tmp_path / "Broken.block.json")
