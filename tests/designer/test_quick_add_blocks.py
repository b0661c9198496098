"""Quick-add (Tab) finds library blocks beside layers: the bundled ones and the user's own,
marked as blocks; choosing one adds it as a palette drop does (one undo step, the project's
own definition of that name left alone and the library's renamed, reused the next time)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListWidgetItem

from designer.editor import Editor
from designer.quick_add import BLOCK_ROLE, TYPE_ROLE, QuickAddPopup
from engine.block_library import BUNDLED, LibraryBlock, read_block, save_block
from tests.designer.conftest import example_project


def open_popup(editor: Editor, qtbot, query: str) -> QuickAddPopup:
    view = editor.view
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Tab)
    popup = view.quick_add
    assert popup.isVisible()
    qtbot.keyClicks(popup.search, query)
    return popup


def rows(popup: QuickAddPopup) -> list[QListWidgetItem]:
    return [popup.results.item(i) for i in range(popup.results.count())]


def choose(qtbot, popup: QuickAddPopup, text: str) -> None:
    popup.results.setCurrentItem(next(i for i in rows(popup) if i.text() == text))
    qtbot.keyClick(popup.search, Qt.Key.Key_Return)
    assert not popup.isVisible()


def test_squeeze_lists_bundled_and_own_blocks_beside_the_layer_and_adds_one(qtbot) -> None:
    bundled = read_block(BUNDLED / "SqueezeExcite.block.json")
    mine = LibraryBlock("MySqueeze", "my own", bundled.definition.copy(), {}, bundled.fits)
    save_block(mine)  # into this test's data folder: the user's library
    editor = Editor(example_project())
    qtbot.addWidget(editor.view)
    editor.view.resize(800, 600)
    editor.view.show()

    popup = open_popup(editor, qtbot, "squeeze")
    texts = [i.text() for i in rows(popup)]
    assert "Squeeze" in texts  # the layer
    assert "SqueezeExcite  (block)" in texts and "MySqueeze  (my block)" in texts
    blocks = [i for i in rows(popup) if i.data(BLOCK_ROLE)]
    assert all(i.data(TYPE_ROLE) is None for i in blocks)

    document = editor.document
    before = set(document.graph.nodes)
    steps = document.undo_stack.index()
    choose(qtbot, popup, "SqueezeExcite  (block)")
    added = [document.graph.node(n) for n in document.graph.nodes if n not in before]
    assert [(n.type, n.params) for n in added] == [("Block", {"block": "SqueezeExcite"})]
    assert "SqueezeExcite" in document.project.blocks
    assert editor.scene.selected_node_ids() == [added[0].id]
    assert document.undo_stack.index() == steps + 1
    document.undo()  # one step takes the node and its definition away
    assert set(document.graph.nodes) == before and "SqueezeExcite" not in document.project.blocks

    choose(qtbot, open_popup(editor, qtbot, "mysq"), "MySqueeze  (my block)")
    assert "MySqueeze" in document.project.blocks


def test_basic_adds_the_library_block_renamed_as_a_drop_does(qtbot) -> None:
    editor = Editor(example_project("residual-blocks"))  # has its own BasicBlock
    qtbot.addWidget(editor.view)
    editor.view.resize(800, 600)
    editor.view.show()
    project = editor.document.project
    ours = project.blocks["BasicBlock"]
    popup = open_popup(editor, qtbot, "basic")
    assert rows(popup)[0].text() == "BasicBlock  (block)"  # the best match comes first
    qtbot.keyClick(popup.search, Qt.Key.Key_Return)
    choose(qtbot, open_popup(editor, qtbot, "basic"), "BasicBlock  (block)")
    assert project.blocks["BasicBlock"] is ours  # the project's own is left alone
    assert "BasicBlock2" in project.blocks and "BasicBlock3" not in project.blocks
    uses = [n.params["block"] for n in editor.document.graph if n.type == "Block"]
    assert uses.count("BasicBlock2") == 2  # the second one reused the first's definition
