"""The figures behind the Inside tab: each layer's points, kept in place, and each unit's plane."""

from __future__ import annotations

import numpy as np
import torch

from engine.analysis import analyse
from engine.compiler import compile_graph
from engine.explain.layers import Representations, colour_groups, depth_nodes
from engine.explain.neurons import neuron_nodes, plane_grid, responses
from engine.explain.projection import StableProjection
from engine.project import load_project
from engine.resources import example


def graph_of(name: str):
    project = load_project(example(name).path)
    return project.graph, analyse(project.graph)


def test_the_depth_strip_runs_from_the_input_to_the_last_layer_skipping_copies() -> None:
    graph, analysis = graph_of("paper-ball")
    assert depth_nodes(graph, analysis) == [
        "input", "fc1", "tanh1", "fc2", "tanh2", "fc3", "tanh3", "classifier",
    ]  # fmt: skip
    graph, analysis = graph_of("digits-cnn")
    nodes = depth_nodes(graph, analysis)
    assert nodes[0] == "input" and nodes[-1] == "classifier"
    assert "flatten" not in nodes and "dropout" not in nodes  # the same values as before them
    graph, analysis = graph_of("transformer-marker")
    assert depth_nodes(graph, analysis)[0] == "embed"  # token numbers are names, not places


def test_a_layer_of_three_units_is_shown_exactly() -> None:
    rng = np.random.default_rng(1)
    values = rng.normal(size=(200, 3)).astype(np.float32) * [3.0, 1.0, 0.2]
    seen = StableProjection().update(values)
    assert seen.exact and seen.units == 3 and seen.explained == 1.0
    centred = values - values.mean(axis=0)
    ratio = seen.points3 / centred  # one scale for every point and axis: the units are the axes
    assert np.allclose(ratio, ratio.flat[0], rtol=1e-4)


def test_a_wide_layer_keeps_its_points_in_place_when_only_its_basis_changes() -> None:
    """The same cloud in other coordinates (what a refit sees as a mirrored or turned fit)
    gives the same picture: the points do not jump."""
    rng = np.random.default_rng(2)
    cloud = rng.normal(size=(300, 3)) * [4.0, 2.0, 1.0]
    values = (cloud @ rng.normal(size=(3, 32)) + 0.05 * rng.normal(size=(300, 32))).astype(
        np.float32
    )
    values -= values.mean(axis=0)  # centred: turning it leaves its centre where it was
    turn, _ = np.linalg.qr(rng.normal(size=(32, 32)))
    projection = StableProjection()
    first = projection.update(values)
    again = projection.update((values @ turn).astype(np.float32))
    assert not first.exact and first.explained > 0.95
    assert np.abs(again.points3 - first.points3).max() < 1e-3
    assert np.abs(again.points2 - first.points2).max() < 1e-3


def test_a_layer_that_changes_a_little_moves_its_points_a_little() -> None:
    rng = np.random.default_rng(3)
    values = rng.normal(size=(300, 64)).astype(np.float32) * np.linspace(3, 0.1, 64)
    projection = StableProjection()
    before = projection.update(values)
    after = projection.update(values + 0.01 * rng.normal(size=values.shape).astype(np.float32))
    moved = np.linalg.norm(after.points3 - before.points3, axis=1)
    assert np.median(moved) < 0.05  # the cloud is about 1 across


def test_a_wide_convolutional_layer_is_projected_with_its_variance_share() -> None:
    rng = np.random.default_rng(4)
    low_rank = rng.normal(size=(256, 3)) @ rng.normal(size=(3, 2048))
    values = (low_rank + 0.01 * rng.normal(size=(256, 2048))).astype(np.float32)
    seen = StableProjection().update(values)
    assert seen.units == 2048 and seen.explained > 0.99
    assert seen.points3.shape == (256, 3) and np.abs(seen.points3).max() <= 1.6


def test_representations_look_at_every_layer_without_changing_the_network() -> None:
    graph, analysis = graph_of("digits-cnn")
    model = compile_graph(graph, 0, analysis).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn(40, 1, 8, 8)
    looks = Representations(graph, analysis, x).look(model)
    assert [layer.node for layer in looks] == depth_nodes(graph, analysis)
    assert all(layer.points3.shape == (40, 3) for layer in looks)
    assert model.training  # its mode is given back
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # batch-norm statistics too


def test_points_are_coloured_by_class_or_by_the_targets_band() -> None:
    assert list(colour_groups(torch.tensor([2, 0, 1]), True)) == [2, 0, 1]
    bands = colour_groups(torch.linspace(0, 1, 60).reshape(60, 1), False)
    assert bands.min() == 0 and bands.max() == 5 and (np.diff(bands) >= 0).all()


def test_each_hidden_units_picture_is_its_output_over_the_plane() -> None:
    graph, analysis = graph_of("deep-mlp")  # spirals: a 2-D input
    nodes = neuron_nodes(graph, analysis)
    assert nodes == ["relu1", "relu2", "relu3", "relu4", "relu5", "head"]
    model = compile_graph(graph, 0, analysis).eval()
    bounds = np.array([[-1.0, 1.0], [-1.0, 1.0]], np.float32)
    grid = plane_grid(bounds, size=20)
    found = responses(model, grid, nodes, size=20)
    assert found["relu1"].shape == (16, 20, 20) and found["head"].shape == (3, 20, 20)
    with torch.no_grad():
        first = torch.relu(model.fc1(grid))  # what the first hidden layer's units compute
    row, column = 13, 4  # a grid point: row follows the second feature
    assert np.allclose(found["relu1"][:, row, column], first[row * 20 + column, :16].numpy())
    assert float(grid[row * 20 + column, 1]) > float(grid[column, 1])  # rows climb the plane


def test_inside_blocks_the_strip_runs_through_each_uses_layers_by_their_path() -> None:
    graph, analysis = graph_of("residual-blocks")
    nodes = depth_nodes(graph, analysis)
    inner = ["conv1", "bn1", "relu1", "conv2", "bn2", "add", "relu2"]
    assert nodes == [
        "input", "stem", "stem_bn", "stem_relu",
        *(f"{use}.{layer}" for use in ("block1", "block2", "block3") for layer in inner),
        "pool", "classifier",
    ]  # fmt: skip
    model = compile_graph(graph, 0, analysis)
    x = torch.randn(30, 1, 8, 8)
    looks = {layer.node: layer for layer in Representations(graph, analysis, x).look(model)}
    assert list(looks) == nodes
    assert looks["block2.conv1"].kind == "Conv2d" and looks["block2.conv1"].units == 16 * 64
    assert not np.allclose(looks["block1.conv1"].points2, looks["block2.conv1"].points2)
    few = Representations(graph, analysis, x, limit=10)  # the network's 6, then 4 inside
    assert few.nodes == [*nodes[:4], *nodes[4:8], "pool", "classifier"]
    assert few.left_out == 21 - 4
