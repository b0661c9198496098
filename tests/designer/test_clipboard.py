"""Copy, cut, paste and duplicate go through the system clipboard as JSON."""

from __future__ import annotations

import json

from PySide6.QtCore import QMimeData
from PySide6.QtWidgets import QApplication

from designer.clipboard import FRAGMENT_MIME
from engine.graph import Edge, PortRef


def test_copy_then_paste_adds_copies_with_their_inner_wires(editor):
    doc, scene = editor.document, editor.scene
    scene.select_nodes(["conv1", "bn1"])
    assert editor.copy()
    data = json.loads(bytes(QApplication.clipboard().mimeData().data(FRAGMENT_MIME).data()))
    assert [n["id"] for n in data["nodes"]] == ["conv1", "bn1"]
    assert len(data["edges"]) == 1  # only the wire between the two
    new_ids = editor.paste()
    assert new_ids == ["conv1_2", "bn1_2"]
    assert Edge(PortRef("conv1_2", "out"), PortRef("bn1_2", "in")) in doc.graph.edges
    assert sorted(scene.selected_node_ids()) == ["bn1_2", "conv1_2"]
    assert doc.graph.node("conv1_2").params == doc.graph.node("conv1").params
    doc.undo()
    assert "conv1_2" not in doc.graph and "conv1_2" not in scene.nodes


def test_paste_works_from_plain_text_json_of_another_window(editor):
    text = json.dumps(
        {"format": "netwright-fragment", "nodes": [{"id": "fc", "type": "Linear"}], "edges": []}
    )
    mime = QMimeData()
    mime.setText(text)
    QApplication.clipboard().setMimeData(mime)
    assert editor.paste() == ["fc"]


def test_pasting_something_else_says_so_and_changes_nothing(editor):
    messages = []
    editor.document.message.connect(messages.append)
    QApplication.clipboard().setText("hello")
    assert editor.paste() == []
    assert "no layers" in messages[-1]
    mime = QMimeData()
    mime.setData(FRAGMENT_MIME, b'{"format": "netwright-fragment", "nodes": [{"id": 3}]}')
    QApplication.clipboard().setMimeData(mime)
    assert editor.paste() == []
    assert "Cannot paste" in messages[-1]
    assert editor.document.undo_stack.count() == 0


def test_cut_removes_and_duplicate_copies_beside(editor):
    doc, scene = editor.document, editor.scene
    scene.select_nodes(["dropout"])
    editor.cut()
    assert "dropout" not in doc.graph
    assert editor.paste() == ["dropout"]
    scene.select_nodes(["relu1"])
    assert editor.duplicate() == ["relu1_2"]
    x, y = doc.graph.node("relu1").position
    assert doc.graph.node("relu1_2").position == (x + 40, y + 40)


def test_delete_then_undo_restores_layers_and_wires(editor):
    doc, scene = editor.document, editor.scene
    wires_before = list(doc.graph.edges)
    scene.select_nodes(["bn1", "relu1"])
    editor.delete_selected()
    assert "bn1" not in scene.nodes and len(scene.edges) == len(wires_before) - 3
    doc.undo()
    assert list(doc.graph.edges) == wires_before
    assert set(scene.edges) == set(wires_before)


def test_select_all_and_align(editor):
    editor.select_all()
    assert len(editor.scene.selected_node_ids()) == len(editor.document.graph)
    editor.scene.select_nodes(["conv1", "bn1"])
    editor.document.move_nodes({"bn1": (520, 80)})
    editor.align("top")
    assert editor.document.graph.node("bn1").position == (520, 0)


def test_quitting_with_layers_on_the_clipboard_does_not_crash_and_keeps_them_pasteable():
    """PySide6 crashed at exit when the clipboard held a QMimeData made in Python."""
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "from PySide6.QtCore import QTimer\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from app.main_window import application\n"
        "from designer.clipboard import to_mime\n"
        "app = application()\n"
        "QApplication.clipboard().setMimeData(to_mime({'format': 'netwright-fragment', 'nodes': [], 'edges': []}))\n"
        "QTimer.singleShot(0, app.quit)\n"
        "app.exec()\n"
        "print('netwright-fragment' in QApplication.clipboard().text())\n"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=60,
        env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("True")
