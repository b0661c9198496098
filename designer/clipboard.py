"""Copy and paste of layers through the system clipboard, as JSON.

A copied fragment is the selected nodes plus the wires between them, in the
project file's own node/edge format, so it pastes into another window (or
another Netwright process) and reads back through the same defensive loader
as a project file.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QCoreApplication, QMimeData
from PySide6.QtGui import QGuiApplication

from engine.graph import Edge, Graph, Node
from engine.project import ProjectError, graph_from_json

FRAGMENT_MIME = "application/x-netwright-fragment+json"
FRAGMENT_FORMAT = "netwright-fragment"


def fragment(graph: Graph, node_ids: list[str]) -> dict[str, Any]:
    """The selected layers and the wires among them, as plain JSON."""
    chosen = [n for n in node_ids if n in graph]
    inside = set(chosen)
    return {
        "format": FRAGMENT_FORMAT,
        "nodes": [graph.node(n).to_json() for n in chosen],
        "edges": [
            e.to_json() for e in graph.edges if e.source.node in inside and e.target.node in inside
        ],
    }


def to_mime(data: dict[str, Any]) -> QMimeData:
    text = json.dumps(data, indent=1)
    mime = QMimeData()
    mime.setData(FRAGMENT_MIME, text.encode("utf-8"))
    mime.setText(text)
    return mime


def from_mime(mime: QMimeData | None) -> tuple[list[Node], list[Edge]] | None:
    """The layers on the clipboard, or None when it holds no Netwright fragment.

    Raises ProjectError when it claims to be a fragment but cannot be read.
    """
    if mime is None:
        return None
    if mime.hasFormat(FRAGMENT_MIME):
        raw = bytes(mime.data(FRAGMENT_MIME).data()).decode("utf-8", errors="replace")
    elif mime.hasText() and FRAGMENT_FORMAT in mime.text()[:200]:
        raw = mime.text()
    else:
        return None
    return parse_fragment(raw)


def parse_fragment(raw: str) -> tuple[list[Node], list[Edge]]:
    try:
        data = json.loads(raw)
    except ValueError as error:
        raise ProjectError(f"the clipboard's layers are not valid JSON ({error})") from None
    if not isinstance(data, dict) or data.get("format") != FRAGMENT_FORMAT:
        raise ProjectError("the clipboard does not hold Netwright layers")
    graph = graph_from_json(
        {"nodes": data.get("nodes", []), "edges": data.get("edges", [])}, "clipboard"
    )
    return list(graph), list(graph.edges)


def top_left(nodes: list[Node]) -> tuple[float, float]:
    return (min(n.position[0] for n in nodes), min(n.position[1] for n in nodes))


def release_clipboard() -> None:
    """Swap layers we put on the clipboard for the same JSON as plain text.

    PySide6 (seen with 6.11) crashes at exit when the clipboard still holds a
    QMimeData made in Python; plain text survives the exit and still pastes.
    """
    clipboard = QGuiApplication.clipboard()
    mime = clipboard.mimeData()
    if mime is not None and mime.hasFormat(FRAGMENT_MIME):
        clipboard.setText(mime.text())


def release_clipboard_on_quit(app: QCoreApplication) -> None:
    if not app.property("netwright_clipboard_hook"):
        app.aboutToQuit.connect(release_clipboard)
        app.setProperty("netwright_clipboard_hook", True)
