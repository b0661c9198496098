"""The block library and Find Repeated Blocks, driven through the real window: a palette
drop of a library block adds its definition and a node in one undo step (the same block
twice shares one definition, a clash is renamed); Save to Library writes the user's data
folder and the palette lists it, never replacing a file unasked; Find Repeated Blocks shows
the repeated runs and folds them in one undo step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, QSettings, Qt
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication
from test_blocks_editing import open_example

from app.main_window import MainWindow
from designer import block_library, repeats_dialog
from designer.block_node import BlockNodeItem
from designer.palette import MY_BLOCKS, Palette
from engine.graph import Graph, PortRef
from engine.project import Project, load_project
from engine.resources import example
from tests.engine.test_block_library import EXPECTED


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv("NETWRIGHT_DATA_DIR", str(folder))
    return folder


@pytest.fixture
def window(qtbot, tmp_path, data_dir):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    made = MainWindow(load_project(example("digits-cnn").path), settings)
    made.show()
    qtbot.waitExposed(made)
    yield made
    made.document.mark_saved()
    made.close()
    made.deleteLater()


def drop_from_palette(window: MainWindow, name: str, section: str = "Blocks") -> None:
    """Drag a library entry out of the palette and drop it on empty canvas."""
    palette: Palette = window.layer_palette
    item = next(i for i in palette.block_items(section) if i.text(0) == name)
    data = palette.tree.mimeData([item])
    view = window.view
    point = QPointF(view.viewport().width() - 30, view.viewport().height() - 30)
    event = QDropEvent(
        point,
        Qt.DropAction.CopyAction,
        data,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    view.dropEvent(event)
    QApplication.processEvents()
    window.document.analyse_now()


def block_nodes(window: MainWindow) -> dict[str, str]:
    return {n.id: n.params["block"] for n in window.document.graph if n.type == "Block"}


def test_the_palette_has_a_blocks_section_with_the_bundled_blocks(window) -> None:
    names = [i.text(0) for i in window.layer_palette.block_items()]
    assert names == sorted(EXPECTED)  # every bundled block, by name
    window.layer_palette.search.setText("bottle")
    shown = [i.text(0) for i in window.layer_palette.block_items() if not i.isHidden()]
    assert shown == ["Bottleneck"]


def test_dropping_a_library_block_adds_definition_and_node_in_one_undo_step(window) -> None:
    project = window.document.project
    assert "SqueezeExcite" not in project.blocks
    before = set(window.document.graph.nodes)
    depth = window.document.undo_stack.index()
    drop_from_palette(window, "SqueezeExcite")
    added = block_nodes(window)
    assert list(added.values()) == ["SqueezeExcite"]
    assert "SqueezeExcite" in project.blocks
    node_id = next(iter(added))
    assert isinstance(window.scene.nodes[node_id], BlockNodeItem)
    assert window.document.undo_stack.index() == depth + 1
    window.document.undo()
    assert "SqueezeExcite" not in project.blocks and set(window.document.graph.nodes) == before
    window.document.redo()
    assert "SqueezeExcite" in project.blocks and node_id in window.document.graph


def test_the_same_block_twice_shares_one_definition_and_a_clash_is_renamed(
    window, tmp_path
) -> None:
    open_example(window, tmp_path)  # has its own BasicBlock, at 16 channels
    project = window.document.project
    ours = project.blocks["BasicBlock"]
    drop_from_palette(window, "BasicBlock")
    drop_from_palette(window, "BasicBlock")
    assert project.blocks["BasicBlock"] is ours  # the project's own is left alone
    assert "BasicBlock2" in project.blocks and "BasicBlock3" not in project.blocks
    assert list(block_nodes(window).values()).count("BasicBlock2") == 2
    drop_from_palette(window, "Bottleneck")
    drop_from_palette(window, "Bottleneck")
    assert list(block_nodes(window).values()).count("Bottleneck") == 2
    assert "Bottleneck2" not in project.blocks


def test_save_to_library_writes_the_data_folder_and_the_palette_lists_it(
    window, tmp_path, data_dir, monkeypatch
) -> None:
    open_example(window, tmp_path)
    node_id = next(n for n, b in block_nodes(window).items() if b == "BasicBlock")
    monkeypatch.setattr(
        block_library, "ask_details", lambda parent, name, text: ("SmallBasic", "16 channels")
    )
    menu = window.editor.block_menu(node_id)
    save = next(a for a in menu.actions() if a.text() == "Save to Library…")
    save.trigger()
    path = data_dir / "blocks" / "SmallBasic.block.json"
    assert path.exists()
    saved = json.loads(path.read_text())
    assert saved["name"] == "SmallBasic" and saved["description"] == "16 channels"
    assert saved["fits"] == [16, 8, 8]  # what its first use is fed
    mine = window.layer_palette.block_items(MY_BLOCKS)
    assert [i.text(0) for i in mine] == ["SmallBasic"]

    # saving again under that name asks first; No keeps the user's file as it was
    monkeypatch.setattr(block_library, "ask_details", lambda p, n, t: ("SmallBasic", "other"))
    asked: list[Path] = []
    monkeypatch.setattr(block_library, "ask_overwrite", lambda p, f: asked.append(f) or False)
    save.trigger()
    assert asked == [path] and json.loads(path.read_text())["description"] == "16 channels"

    # a saved block drops into another project like a bundled one
    window.new_project()
    drop_from_palette(window, "SmallBasic", MY_BLOCKS)
    assert "SmallBasic" in window.document.project.blocks

    # and it can be removed from the library (after asking)
    monkeypatch.setattr(block_library, "ask_remove", lambda parent, name: True)
    item = window.layer_palette.block_items(MY_BLOCKS)[0]
    remove = next(a for a in window.layer_palette.item_menu(item).actions() if "Remove" in a.text())
    remove.trigger()
    assert not path.exists() and window.layer_palette.block_items(MY_BLOCKS) == []
    bundled = window.layer_palette.block_items()[0]
    assert all("Remove" not in a.text() for a in window.layer_palette.item_menu(bundled).actions())


def repeated_chain() -> Project:
    """Input -> three times (Conv2d, BatchNorm2d, ReLU) -> Flatten -> Linear -> Output."""
    graph = Graph()
    graph.add_node("Input", "input", {"shape": [3, 8, 8]}, (0.0, 0.0))
    previous = "input"
    for i in range(1, 4):
        for kind, params in (
            ("Conv2d", {"out_channels": 8, "padding": 1}),
            ("BatchNorm2d", {}),
            ("ReLU", {}),
        ):
            node_id = f"{kind.lower()}_{i}"
            graph.add_node(kind, node_id, dict(params), (260.0 * len(graph.nodes), 0.0))
            graph.connect(PortRef(previous, "out"), PortRef(node_id, "in"))
            previous = node_id
    for kind, node_id in (("Flatten", "flatten"), ("Linear", "head"), ("Output", "output")):
        graph.add_node(kind, node_id, {}, (260.0 * len(graph.nodes), 0.0))
        graph.connect(PortRef(previous, "out"), PortRef(node_id, "in"))
        previous = node_id
    return Project(name="chain", graph=graph)


def test_find_repeated_blocks_shows_the_runs_and_folds_them_in_one_step(
    window, monkeypatch
) -> None:
    window.document.load(repeated_chain())
    window.document.analyse_now()
    before = json.dumps(window.document.graph.to_json(), sort_keys=True)
    seen: list[list[str]] = []

    def answer(proposals, parent) -> bool:
        seen.extend(p.describe() for p in proposals)
        seen.append(sorted(window.scene.selected_node_ids()))  # highlighted while asked
        return True

    monkeypatch.setattr(repeats_dialog, "confirm_repeats", answer)
    depth = window.document.undo_stack.index()
    window.action("find_blocks").trigger()
    assert seen[0].startswith("Conv2dBlock: 3 uses of Conv2d > BatchNorm2d > ReLU")
    assert len(seen[1]) == 9 and "conv2d_1" in seen[1]
    graph = window.document.graph
    assert [n.type for n in graph] == [
        "Input",
        "Block",
        "Block",
        "Block",
        "Flatten",
        "Linear",
        "Output",
    ]
    assert "Conv2dBlock" in window.document.project.blocks
    assert window.document.analyse_now().ok
    assert window.document.undo_stack.index() == depth + 1
    window.document.undo()
    assert json.dumps(window.document.graph.to_json(), sort_keys=True) == before
    assert "Conv2dBlock" not in window.document.project.blocks


def test_find_repeated_blocks_cancelled_or_with_nothing_to_fold_changes_nothing(
    window, monkeypatch
) -> None:
    window.document.load(repeated_chain())
    monkeypatch.setattr(repeats_dialog, "confirm_repeats", lambda proposals, parent: False)
    window.action("find_blocks").trigger()
    assert not block_nodes(window) and window.document.undo_stack.count() == 0
    plain = Graph()
    plain.add_node("Input", "input", {"shape": [4]}, (0.0, 0.0))
    plain.add_node("Linear", "fc", {}, (260.0, 0.0))
    plain.add_node("Output", "output", {}, (520.0, 0.0))
    plain.connect(PortRef("input", "out"), PortRef("fc", "in"))
    plain.connect(PortRef("fc", "out"), PortRef("output", "in"))
    window.document.load(Project(name="plain", graph=plain))
    messages: list[str] = []
    window.document.message.connect(messages.append)
    window.action("find_blocks").trigger()
    assert messages == ["No repeated runs of layers to fold into blocks"]
