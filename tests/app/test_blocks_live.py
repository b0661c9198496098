"""Live views inside blocks (issue 15): the probe looks at the layers inside each block use,
keyed by their path (block2.conv1), within a limit; after a run, entering a block on the
canvas shows the swatches of the use entered, and the Inside tab draws the inner layers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from shiboken6 import isValid
from windows import shown_window

from app.dashboard.node_overlay import ActivationSwatch
from app.training.probe import ActivationProbe, probe_batch
from engine.analysis import analyse
from engine.compiler import compile_graph
from engine.data.loading import load_training_data
from engine.layer_paths import layer_types
from engine.project import Project, load_project
from engine.resources import example
from engine.settings import TrainingSettings

RUN_TIMEOUT_MS = 120_000  # a ceiling for a busy 2-core machine, never a speed claim
TOP = ["stem", "stem_bn", "stem_relu", "block1", "block2", "block3", "pool", "flatten"]


def nested(tmp_path: Path) -> Path:
    """residual-blocks with block2 a use of `Stage`, a block of two BasicBlock uses."""
    data = json.loads(example("residual-blocks").path.read_text())
    wire = [("x", "b1"), ("b1", "b2"), ("b2", "out")]
    data["blocks"]["Stage"] = {
        "nodes": [
            {"id": "x", "type": "BlockInput", "params": {}},
            {"id": "b1", "type": "Block", "params": {"block": "BasicBlock"}},
            {"id": "b2", "type": "Block", "params": {"block": "BasicBlock"}},
            {"id": "out", "type": "BlockOutput", "params": {}},
        ],
        "edges": [
            {
                "source": {"node": a, "port": "out"},
                "target": {"node": b, "port": "in"},
            }
            for a, b in wire
        ],
    }
    for node in data["graph"]["nodes"]:
        if node["id"] == "block2":
            node["params"]["block"] = "Stage"
    path = tmp_path / "nested.netwright.json"
    path.write_text(json.dumps(data))
    return path


def probe_of(project: Project, limit: int | None = None) -> tuple[ActivationProbe, object]:
    analysis = analyse(project.graph)
    data = load_training_data(project, TrainingSettings.from_project(project), analysis)
    fixed = probe_batch(data)
    assert fixed is not None
    model = compile_graph(project.graph, 0, analysis)
    types = layer_types(project.graph)
    extra = {} if limit is None else {"limit": limit}
    return ActivationProbe(model, fixed[0], types, fixed[1], **extra), model


def test_the_probe_reaches_the_layers_inside_each_use_by_their_path() -> None:
    probe, model = probe_of(load_project(example("residual-blocks").path))
    look = probe.capture(0, 0.0)
    assert probe.left_out == 0 and look.left_out == 0
    assert set(TOP) <= set(look.histograms)  # the network's own layers keep their node ids
    for use in ("block1", "block2", "block3"):
        for layer in ("conv1", "bn1", "relu1", "conv2", "bn2", "add", "relu2"):
            assert f"{use}.{layer}" in look.swatches, f"{use}.{layer}"
    assert look.pictures["block2.conv1"][0] == "maps"
    assert 0.0 <= look.dead["block3.relu1"] <= 1.0
    assert look.weight_norms["block1.conv1"] > 0
    # the use gives what its last layer gives; the uses see different data
    assert np.array_equal(look.histograms["block1"], look.histograms["block1.relu2"])
    assert look.ranges["block1.conv1"] != look.ranges["block3.conv1"]
    # and it is the layer itself that was looked at: its weights' norm
    conv = model.get_submodule("block2.conv1")
    assert look.weight_norms["block2.conv1"] == pytest.approx(
        float(conv.weight.detach().norm()), 1e-5
    )


def test_nested_uses_nest_their_keys(tmp_path) -> None:
    look = probe_of(load_project(nested(tmp_path)))[0].capture(0, 0.0)
    assert {"block2", "block2.b1", "block2.b2.conv1", "block2.b2.relu2"} <= set(look.swatches)
    assert "block1.conv1" in look.swatches and "block2.conv1" not in look.swatches


def test_past_the_limit_the_networks_layers_stay_and_the_deepest_go_first(tmp_path) -> None:
    probe = probe_of(load_project(nested(tmp_path)), limit=20)[0]
    keys = list(probe.layers)
    assert [k for k in keys if "." not in k] == [*TOP, "classifier"]  # all of them, in order
    assert len(keys) == 20
    assert "block2.b1" in keys and "block2.b2" in keys  # one use deep before two
    assert not any(k.count(".") == 2 for k in keys)
    assert probe.left_out == 30 - 11  # 30 layers inside blocks, room for 11
    assert probe.capture(0, 0.0).left_out == probe.left_out


@pytest.fixture
def trained_window(qtbot, tmp_path, shown):
    path = tmp_path / "residual-blocks.netwright.json"
    shutil.copy(example("residual-blocks").path, path)
    with shown_window(load_project(example("digits-cnn").path), tmp_path) as window:
        assert window.open_project(path, ask=False)
        window.document.project.training["epochs"] = 1
        window.document.project.training["device"] = "cpu"
        window.training.dashboard.build()
        controller = window.training
        controller.quiet = True
        with qtbot.waitSignal(controller.run_finished, timeout=RUN_TIMEOUT_MS):
            assert controller.train()
        qtbot.waitUntil(lambda: not controller.running, timeout=RUN_TIMEOUT_MS)
        yield window


def swatched(window) -> dict[str, ActivationSwatch]:
    """The node ids of the canvas shown with a swatch under them, and the swatch."""
    found = {}
    for node_id, item in window.scene.nodes.items():
        for child in item.childItems():
            if isinstance(child, ActivationSwatch) and isValid(child) and child.isVisible():
                found[node_id] = child
    return found


def test_after_a_run_a_block_entered_shows_the_swatches_of_its_use(qtbot, trained_window):
    window = trained_window
    canvas, document = window.training.canvas, window.document
    probe = canvas.last
    assert probe is not None
    assert {"stem", "block1", "block2", "classifier"} <= set(swatched(window))
    outside = swatched(window)["stem"].bars.path()
    assert document.enter_block("block2")
    inside = swatched(window)
    assert set(inside) == {"conv1", "bn1", "relu1", "conv2", "bn2", "add", "relu2"}
    assert inside["conv1"] is canvas.swatches["block2.conv1"]  # the use entered, not another
    assert inside["conv1"].bars.path() != outside
    assert not inside["conv1"].live  # the run is over: drawn as the final look
    trace = len(canvas.traces["block2.conv1"])
    assert document.leave_block(0) and document.enter_block("block3")
    assert swatched(window)["conv1"] is canvas.swatches["block3.conv1"]
    assert document.leave_block(0)
    assert {"stem", "block2"} <= set(swatched(window))  # back out: the network's again
    assert len(canvas.traces["block2.conv1"]) == trace  # showing again is not another look
    activations = window.training.dashboard.activations
    assert activations.looks("block2.conv1") >= 1  # the Activations panel lists them too


def test_the_inside_tab_draws_the_layers_inside_blocks_by_their_path(qtbot, trained_window):
    window, inside = trained_window, trained_window.inside
    dashboard = window.training.dashboard
    dashboard.tabs.setCurrentIndex(inside.index)
    page = inside.page
    qtbot.waitUntil(lambda: page.final, timeout=RUN_TIMEOUT_MS)
    page.refresh(everything=True)
    nodes = [layer.node for layer in page.layers]
    assert nodes[:4] == ["input", "stem", "stem_bn", "stem_relu"]
    assert nodes[4:7] == ["block1.conv1", "block1.bn1", "block1.relu1"]
    assert "block3.relu2" in nodes and nodes[-1] == "classifier"
    view = page.views[nodes.index("block2.conv1")]
    assert view.title == "block2 › conv1"  # as the breadcrumbs write a way in
    assert "left out" not in page.status.text()
