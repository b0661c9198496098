"""A project with blocks in the designer (issue 15, phase 1): it opens, each block node is
drawn with its definition's ports, shapes and parameters, it trains' shapes are shown, and a
save keeps the definitions. Entering and grouping blocks are later phases."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from app.main_window import MainWindow
from engine.project import load_project
from engine.resources import example


@pytest.fixture
def window(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    made = MainWindow(load_project(example("digits-cnn").path), settings)
    made.show()
    yield made
    made.document.mark_saved()
    made.close()
    made.deleteLater()


def test_a_blocks_project_opens_with_block_nodes_wired_and_sized(window, tmp_path: Path) -> None:
    path = tmp_path / "residual-blocks.netwright.json"
    shutil.copy(example("residual-blocks").path, path)
    assert window.open_project(path, ask=False)
    scene = window.scene
    block = scene.nodes["block2"]
    assert list(block.inputs) == ["in"] and list(block.outputs) == ["out"]
    assert block.category == "Blocks"
    assert block.shape_text == "16x8x8"
    assert block.count == 4672  # the layers inside, counted on the block node
    assert block.severity is None
    assert "BasicBlock" in block.summary
    # every wire of the file is drawn, including those into and out of block nodes
    assert len(scene.edges) == len(window.document.graph.edges)
    assert any(e.target.node == "block2" for e in scene.edges)
    assert window.document.analysis.ok


def test_a_problem_inside_a_block_marks_the_block_node(window, tmp_path: Path) -> None:
    document = json.loads(example("residual-blocks").path.read_text())
    for node in document["blocks"]["BasicBlock"]["nodes"]:
        if node["id"] == "conv2":
            node["params"]["padding"] = 0  # 8x8 shrinks to 6x6: the skip no longer adds up
    path = tmp_path / "broken.netwright.json"
    path.write_text(json.dumps(document))
    assert window.open_project(path, ask=False)
    block = window.scene.nodes["block1"]
    assert block.severity == "error"
    problems = window.document.analysis.for_node("block1")
    assert problems and problems[0].message.startswith("block 'BasicBlock' > layer 'add'")


def test_saving_keeps_the_definitions(window, tmp_path: Path) -> None:
    path = tmp_path / "residual-blocks.netwright.json"
    shutil.copy(example("residual-blocks").path, path)
    assert window.open_project(path, ask=False)
    window.document.graph.move_node("block1", (10.0, 20.0))
    assert window.save()
    saved = json.loads(path.read_text())
    assert saved["version"] == 2
    assert saved["blocks"] == json.loads(example("residual-blocks").path.read_text())["blocks"]
