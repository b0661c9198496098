"""The block library on the canvas side: drag a library block in, save a block node to it.

Adding a library block is one undo step that adds its definition (and the definitions it
uses) where the project lacks them, and a block node using it. Saving writes the block
node's definition to the user's library folder (engine/block_library.py), asking before it
replaces a file; the palette listens to `watcher().changed` to list it at once. The
questions to the user are module functions so tests can answer them.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QMimeData, QObject, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QMessageBox,
    QWidget,
)

from designer import commands as cmd
from engine.analysis import Analysis
from engine.block_library import LibraryBlock, needed, place, save_block
from engine.blocks import BLOCK_INPUT, block_problem, boundary_ids, definition_of
from engine.graph import Graph, Node

LIBRARY_MIME = "application/x-netwright-library-block"


class _Watcher(QObject):
    changed = Signal()  # a block was saved to or removed from the user's library


_WATCHER: _Watcher | None = None


def watcher() -> _Watcher:
    """The one object that says the user's library changed (every palette listens)."""
    global _WATCHER
    if _WATCHER is None:
        _WATCHER = _Watcher()
    return _WATCHER


def block_mime(path: Path) -> QMimeData:
    """What a palette drag of a library block carries: the block file's path."""
    data = QMimeData()
    data.setData(LIBRARY_MIME, QByteArray(str(path).encode("utf-8")))
    data.setText(path.stem)
    return data


def add_command(
    graph: Graph, block: LibraryBlock, node_id: str, position: tuple[float, float]
) -> tuple[cmd.Macro, str]:
    """The step that adds `block` to the project of `graph` and a node `node_id` using it;
    also the definition's name in the project (``BasicBlock2`` when the name was taken)."""
    placed = place(block, graph.blocks)
    macro = cmd.Macro(f"Add block '{placed.name}' from the library")
    for name, definition in placed.add.items():
        cmd.AddDefinition(graph.blocks, name, definition, macro)
    cmd.AddNode(graph, Node(node_id, "Block", {"block": placed.name}, position), macro)
    return macro, placed.name


def library_block(
    graph: Graph, node_id: str, name: str, description: str, fits: tuple[int, ...] | None
) -> LibraryBlock | None:
    """The library entry for block node `node_id`'s definition under `name`, with the
    definitions it uses; None when the node is not a use of a known definition."""
    found = definition_of(graph.node(node_id), graph.blocks)
    if found is None:
        return None
    block, definition = found
    uses = {n: g.copy() for n, g in needed(block, graph.blocks).items()}
    return LibraryBlock(name, description, definition.copy(), uses, fits)


def input_shape(inner: Analysis | None, definition: Graph) -> tuple[int, ...] | None:
    """The shape into a one-input block, from the use's inner analysis (what it fits)."""
    ids = boundary_ids(definition, BLOCK_INPUT)
    info = inner.nodes.get(ids[0]) if inner is not None and len(ids) == 1 else None
    shape = info.shape if info is not None else None
    return tuple(int(d) for d in shape) if shape else None


# ------------------------------------------------------------ questions (tests answer them)
def ask_details(parent: QWidget | None, name: str, description: str) -> tuple[str, str] | None:
    """Ask the name and the one-line description to save a block under; None: cancelled."""
    dialog = QDialog(parent)
    dialog.setWindowTitle("Save Block to Library")
    form = QFormLayout(dialog)
    name_edit = QLineEdit(name)
    text_edit = QLineEdit(description)
    text_edit.setPlaceholderText("What the block does, in one line")
    form.addRow("Name:", name_edit)
    form.addRow("Description:", text_edit)
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
    )
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    form.addRow(buttons)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return name_edit.text().strip(), text_edit.text().strip()


def ask_overwrite(parent: QWidget | None, path: Path) -> bool:
    name = path.name.split(".")[0]
    return _yes(
        parent, "Replace Saved Block?", f"Your library already has a block '{name}'. Replace it?"
    )


def ask_remove(parent: QWidget | None, name: str) -> bool:
    return _yes(
        parent,
        "Remove Block from Library?",
        f"Remove '{name}' from your block library? Projects that use it keep their copy.",
    )


def _yes(parent: QWidget | None, title: str, question: str) -> bool:
    """Ask, No the default: True only when the user says Yes."""
    answer = QMessageBox.question(
        parent,
        title,
        question,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


def save_to_library(
    block: LibraryBlock, parent: QWidget | None, folder: Path | None = None
) -> tuple[Path | None, str]:
    """Ask for a name and description, then write `block` (asking before replacing a file):
    the file written (None if not) and what to tell the user."""
    details = ask_details(parent, block.name, block.description)
    if details is None:
        return None, "Not saved"
    name, description = details
    problem = block_problem(name)
    if problem:
        return None, f"Not saved: {problem}"
    named = LibraryBlock(name, description, block.definition, block.uses, block.fits)
    try:
        path = save_block(named, folder)
    except FileExistsError as exists:
        if not ask_overwrite(parent, Path(str(exists))):
            return None, f"Not saved: your library keeps its own '{name}'"
        path = save_block(named, folder, overwrite=True)
    except OSError as error:
        return None, f"Could not save the block: {error}"
    watcher().changed.emit()
    return path, f"Saved block '{name}' to your library ({path.parent})"


def remove_from_library(block: LibraryBlock, parent: QWidget | None) -> bool:
    """Delete a user's saved block file after asking; never a bundled one."""
    if block.bundled or block.path is None or not ask_remove(parent, block.name):
        return False
    try:
        block.path.unlink()
    except OSError:
        return False
    watcher().changed.emit()
    return True
