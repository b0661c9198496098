"""Blocks on the canvas (issue 15, phase 2), driven through the real window: Ctrl+G groups
layers into a block node and Ctrl+Shift+G ungroups it, each one undo step; double-click,
Enter, Escape and the breadcrumbs enter and leave definitions, block in block; an edit
inside changes every use; Make Unique detaches one; Problems lead to the layer inside."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication

from app.main_window import MainWindow
from designer.block_node import BlockNodeItem
from engine.compiler import compile_graph, example_input
from engine.graph import Edge, PortRef
from engine.project import load_project
from engine.resources import example

CTRL = Qt.KeyboardModifier.ControlModifier
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def window(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    made = MainWindow(load_project(example("digits-cnn").path), settings)
    made.show()
    made.activateWindow()
    qtbot.waitExposed(made)
    yield made
    made.document.mark_saved()
    made.close()
    made.deleteLater()


def open_example(window: MainWindow, tmp_path: Path, name: str = "residual-blocks") -> None:
    path = tmp_path / f"{name}.netwright.json"
    shutil.copy(example(name).path, path)
    assert window.open_project(path, ask=False)


def press(qtbot, window: MainWindow, key: Qt.Key, modifiers=Qt.KeyboardModifier.NoModifier):
    window.view.setFocus()
    qtbot.keyClick(window.view, key, modifiers)
    QApplication.processEvents()
    window.document.analyse_now()


def double_click(qtbot, window: MainWindow, node_id: str) -> None:
    item = window.scene.nodes[node_id]
    window.view.centerOn(item)
    point = window.view.mapFromScene(item.sceneBoundingRect().center())
    qtbot.mouseDClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    window.document.analyse_now()


def use_counts(window: MainWindow) -> dict[str, int]:
    return {n: i.count for n, i in window.scene.nodes.items() if isinstance(i, BlockNodeItem)}


def test_ctrl_g_groups_a_chain_that_computes_the_same_and_undo_restores_it(qtbot, window) -> None:
    document = window.document
    before = document.project.to_json()
    flat = compile_graph(document.graph, seed=3).eval()
    x = example_input(document.graph, seed=1)
    expected = flat(x)
    params = document.analysis.total_params
    window.scene.select_nodes(["conv1", "bn1", "relu1"])
    press(qtbot, window, Qt.Key.Key_G, CTRL)

    graph = document.graph
    assert "conv1" not in graph and graph.node("block1").params == {"block": "Block1"}
    assert window.scene.selected_node_ids() == ["block1"]
    item = window.scene.nodes["block1"]
    assert isinstance(item, BlockNodeItem) and list(item.inputs) == ["in"]
    assert item.block == "Block1" and item.count == 320 + 64  # conv1 and bn1, inside
    assert item.shape_text == "32x8x8" and item.in_text == "1x8x8" and item.macs > 0
    # the outside wires are kept, attached to the block's ports
    assert Edge(PortRef("input", "out"), PortRef("block1", "in")) in graph.edges
    assert Edge(PortRef("block1", "out"), PortRef("pool1", "in")) in graph.edges
    definition = document.project.blocks["Block1"]
    assert [n.type for n in definition][:2] == ["BlockInput", "BlockOutput"]
    assert document.analysis.ok and document.analysis.total_params == params

    grouped = compile_graph(graph, seed=99).eval()
    weights = {
        ("block1." + k if k.split(".")[0] in definition else k): v
        for k, v in flat.state_dict().items()
    }
    grouped.load_state_dict(weights)  # the same weights, nested as block1.conv1.weight
    assert torch.allclose(grouped(x), expected, atol=1e-6)

    press(qtbot, window, Qt.Key.Key_Z, CTRL)  # one undo step takes it all back
    assert document.project.to_json() == before
    assert "Block1" not in document.project.blocks
    assert sorted(window.scene.nodes) == sorted(document.graph.nodes)
    assert len(window.scene.edges) == len(document.graph.edges)


def test_ctrl_shift_g_ungroups_a_block_with_its_wires(qtbot, window) -> None:
    document = window.document
    edges = set(document.graph.edges)
    window.scene.select_nodes(["conv2", "bn2", "relu2"])
    press(qtbot, window, Qt.Key.Key_G, CTRL)
    assert "block1" in document.graph
    press(qtbot, window, Qt.Key.Key_G, CTRL_SHIFT)
    assert "block1" not in document.graph and not document.project.blocks
    assert set(document.graph.edges) == edges  # same layers, same ids, same wires
    assert sorted(window.scene.selected_node_ids()) == ["bn2", "conv2", "relu2"]
    assert document.analysis.ok
    press(qtbot, window, Qt.Key.Key_Z, CTRL)  # the ungroup was one step too
    assert "block1" in document.graph and "Block1" in document.project.blocks


def test_what_cannot_be_grouped_is_refused_with_a_reason(qtbot, window) -> None:
    document = window.document
    said: list[str] = []
    document.message.connect(said.append)
    window.scene.clearSelection()
    press(qtbot, window, Qt.Key.Key_G, CTRL)
    assert said and "Select the layers" in said[-1]
    window.scene.select_nodes(["input", "conv1"])
    press(qtbot, window, Qt.Key.Key_G, CTRL)
    assert "Input stays outside" in said[-1]
    window.scene.select_nodes(["conv1", "relu1"])  # bn1 between them would feed back
    press(qtbot, window, Qt.Key.Key_G, CTRL)
    assert "come back through 'bn1'" in said[-1]
    assert not document.project.blocks and document.undo_stack.count() == 0
    assert window.statusBar().currentMessage() == said[-1]


def test_an_edit_inside_changes_every_use_and_undo_works_inside_and_across(
    qtbot, window, tmp_path
) -> None:
    open_example(window, tmp_path)
    document = window.document
    assert use_counts(window) == {"block1": 4672, "block2": 4672, "block3": 4672}
    double_click(qtbot, window, "block2")
    assert [lv.block for lv in document.trail] == ["BasicBlock"]
    crumbs = window.editor.breadcrumbs
    assert crumbs.isVisible() and crumbs.texts() == ["network", "BasicBlock"]
    assert "used 3 times" in crumbs.uses_label.text()
    assert "conv1" in window.scene.nodes and "block2" not in window.scene.nodes
    # the shapes inside are those at the use entered through
    assert window.scene.nodes["conv1"].shape_text == "16x8x8"
    assert document.set_param("conv1", "bias", True)  # 16 more weights per use
    document.analyse_now()
    press(qtbot, window, Qt.Key.Key_Escape)
    assert document.trail == () and not crumbs.isVisible()
    assert use_counts(window) == {"block1": 4688, "block2": 4688, "block3": 4688}
    # undo from outside goes in to the definition it changes, and undoes there
    press(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert [lv.block for lv in document.trail] == ["BasicBlock"]
    assert document.graph.node("conv1").params["bias"] is False
    press(qtbot, window, Qt.Key.Key_Escape)
    assert use_counts(window) == {"block1": 4672, "block2": 4672, "block3": 4672}


def test_make_unique_detaches_one_use(qtbot, window, tmp_path) -> None:
    open_example(window, tmp_path)
    document = window.document
    menu = window.editor.block_menu("block2")
    action = next(a for a in menu.actions() if a.text().startswith("Make Unique"))
    assert "used 3 times" in action.text()
    action.trigger()
    document.analyse_now()
    assert document.graph.node("block2").params["block"] == "BasicBlock2"
    assert document.uses("BasicBlock") == 2 and document.uses("BasicBlock2") == 1
    window.scene.select_nodes(["block2"])
    press(qtbot, window, Qt.Key.Key_Return)  # Enter opens the selected block
    assert window.editor.breadcrumbs.texts() == ["network", "BasicBlock2"]
    assert "used once" in window.editor.breadcrumbs.uses_label.text()
    document.set_param("conv2", "bias", True)
    document.analyse_now()
    window.editor.breadcrumbs.crumbs[0].click()
    document.analyse_now()
    assert use_counts(window) == {"block1": 4672, "block2": 4688, "block3": 4672}
    assert window.scene.nodes["block2"].type_name == "BasicBlock2"


def test_blocks_nest_and_the_breadcrumbs_lead_back_out(qtbot, window) -> None:
    document = window.document
    params = document.analysis.total_params
    window.scene.select_nodes(["conv1", "bn1", "relu1"])
    press(qtbot, window, Qt.Key.Key_G, CTRL)
    window.scene.select_nodes(["block1", "pool1"])
    press(qtbot, window, Qt.Key.Key_G, CTRL)  # a block holding a block
    assert document.graph.node("block2").params == {"block": "Block2"}
    assert document.analysis.ok and document.analysis.total_params == params
    double_click(qtbot, window, "block2")
    assert "block1" in window.scene.nodes and "pool1" in window.scene.nodes
    double_click(qtbot, window, "block1")
    crumbs = window.editor.breadcrumbs
    assert crumbs.texts() == ["network", "Block2", "Block1"]
    assert window.scene.nodes["conv1"].shape_text == "32x8x8"
    # group inside a block, undo it there
    window.scene.select_nodes(["bn1", "relu1"])
    press(qtbot, window, Qt.Key.Key_G, CTRL)
    assert "Block3" in document.project.blocks and "block1" in document.graph
    press(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert "Block3" not in document.project.blocks and "bn1" in window.scene.nodes
    crumbs.crumbs[1].click()
    assert crumbs.texts() == ["network", "Block2"] and "pool1" in window.scene.nodes
    crumbs.crumbs[0].click()
    assert document.trail == () and "block2" in window.scene.nodes


def test_problems_lead_to_the_layer_inside_the_block(qtbot, window, tmp_path) -> None:
    data = json.loads(example("residual-blocks").path.read_text())
    for node in data["blocks"]["BasicBlock"]["nodes"]:
        if node["id"] == "conv2":
            node["params"]["padding"] = 0  # the skip no longer adds up: a problem on 'add'
    path = tmp_path / "broken.netwright.json"
    path.write_text(json.dumps(data))
    assert window.open_project(path, ask=False)
    panel = window.problems
    items = [panel.topLevelItem(i) for i in range(panel.topLevelItemCount())]
    item = next(i for i in items if i is not None and i.text(1) == "block1 › add")
    panel.itemClicked.emit(item, 0)
    document = window.document
    assert [(lv.block, lv.node) for lv in document.trail] == [("BasicBlock", "block1")]
    assert window.scene.selected_node_ids() == ["add"]
    assert window.scene.nodes["add"].severity == "error"  # marked inside too
    assert window.editor.breadcrumbs.texts() == ["network", "BasicBlock"]


def test_training_from_inside_a_block_shows_the_network_it_trains(qtbot, window, tmp_path):
    open_example(window, tmp_path)
    double_click(qtbot, window, "block1")
    assert window.document.trail  # inside BasicBlock
    window.training.device_box.setCurrentIndex(0)  # the CPU
    assert window.training.train()
    assert window.document.trail == () and "block1" in window.scene.nodes
    window.training.stop()
    window.training.wait(60_000)
    window.training.shutdown()


def test_weights_kept_after_training_follow_layers_grouped_into_a_block(qtbot, window, tmp_path):
    """Grouping changes no computation, so the trained weights stay usable under their new
    names (saved, exported); a real change to a layer and they no longer fit."""
    from app.training.weights_keeper import labels, structure
    from engine.weights import load_weights

    document, keeper = window.document, window.training.weights
    trained = compile_graph(document.graph, seed=11).eval()
    x = example_input(document.graph, seed=1)
    expected = trained(x)
    graphs = document.project.named_graphs()
    keeper.states = {"network": {k: v.clone() for k, v in trained.state_dict().items()}}
    keeper.trained, keeper.labels = structure(graphs), labels(graphs)  # as a run leaves them
    window.scene.select_nodes(["conv1", "bn1", "relu1"])
    press(qtbot, window, Qt.Key.Key_G, CTRL)
    assert "block1" in document.graph and keeper.fits()
    state = keeper.state
    assert state is not None and "conv1.weight" not in state
    assert torch.equal(state["block1.conv1.weight"], trained.state_dict()["conv1.weight"])
    assert keeper.save(tmp_path / "grouped.safetensors")
    grouped = compile_graph(document.graph, seed=99).eval()
    load_weights(grouped, tmp_path / "grouped.safetensors")
    assert torch.allclose(grouped(x), expected, atol=1e-6)
    press(qtbot, window, Qt.Key.Key_Z, CTRL)  # ungrouped again: back to the old names
    assert keeper.fits() and "conv1.weight" in (keeper.state or {})
    document.set_param("conv2", "out_channels", 48)
    assert not keeper.fits()  # a different layer: these weights are not its


def test_grouping_a_uses_layers_again_makes_it_a_use_of_its_block_again(qtbot, window, tmp_path):
    """Ungroup a use to look at its layers, group them back: the same block, used as before,
    not a copy; changed in between, they become a block of their own."""
    open_example(window, tmp_path)
    document = window.document
    flat = compile_graph(document.graph, seed=3).eval()
    x = example_input(document.graph, seed=1)
    expected = flat(x)
    window.scene.select_nodes(["block2"])
    press(qtbot, window, Qt.Key.Key_G, CTRL_SHIFT)
    layers = window.scene.selected_node_ids()
    assert len(layers) == 7 and document.uses("BasicBlock") == 2
    press(qtbot, window, Qt.Key.Key_G, CTRL)
    (again,) = window.scene.selected_node_ids()
    assert document.graph.node(again).params == {"block": "BasicBlock"}
    assert document.uses("BasicBlock") == 3 and sorted(document.project.blocks) == ["BasicBlock"]
    assert "as a use of block 'BasicBlock'" in window.statusBar().currentMessage()
    regrouped = compile_graph(document.graph, seed=99).eval()
    weights = {k.replace("block2.", f"{again}.", 1): v for k, v in flat.state_dict().items()}
    regrouped.load_state_dict(weights)
    assert torch.allclose(regrouped(x), expected, atol=1e-6)
    press(qtbot, window, Qt.Key.Key_Z, CTRL)  # one step: the layers are back
    assert sorted(window.scene.nodes).count(again) == 0 and document.uses("BasicBlock") == 2
    conv = next(n for n in layers if document.graph.node(n).type == "Conv2d")
    document.set_param(conv, "kernel_size", 5)
    document.set_param(conv, "padding", 2)
    window.scene.select_nodes(layers)
    press(qtbot, window, Qt.Key.Key_G, CTRL)
    (other,) = window.scene.selected_node_ids()
    assert document.graph.node(other).params == {"block": "Block1"}  # not BasicBlock's layers
