"""Dragging a new wire (or a lifted wire end) from a port, with live validity.

While the cursor moves, the port under it is asked `connection_problem`; a
refused target turns red and the reason is shown (tooltip and status bar),
an accepted one turns green. Answers are cached per target for the drag.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPen
from PySide6.QtWidgets import QGraphicsPathItem, QToolTip

from designer import theme
from designer.edge_item import wire_path
from designer.port_item import PortItem
from designer.wiring import PortEnd, connection_problem, oriented
from engine.graph import Edge

if TYPE_CHECKING:
    from designer.scene import GraphScene

SNAP_DISTANCE = 18.0


class WireDrag:
    """One drag, from press to release. `fixed` is the end that stays put."""

    def __init__(
        self, scene: GraphScene, fixed: PortItem, start: QPointF, replacing: Edge | None = None
    ) -> None:
        self.scene = scene
        self.fixed = fixed
        self.replacing = replacing
        self.target: PortItem | None = None
        self.problem: str | None = None
        self._answers: dict[PortEnd, str | None] = {}
        self.preview = QGraphicsPathItem()
        self.preview.setZValue(5)
        self.scene.addItem(self.preview)
        self.move(start)

    def problem_with(self, port: PortItem) -> str | None:
        end = port.end
        if end not in self._answers:
            self._answers[end] = connection_problem(
                self.scene.document.graph, self.fixed.end, end, self.replacing
            )
        return self._answers[end]

    def move(self, pos: QPointF) -> None:
        port = self._port_near(pos)
        if port is not self.target and self.target is not None:
            self.target.set_highlight(None)
        self.target = port
        t = theme.current()
        colour = t.colour("accent")
        self.problem = None
        end = pos
        if port is not None:
            self.problem = self.problem_with(port)
            port.set_highlight("invalid" if self.problem else "valid")
            colour = t.colour("error" if self.problem else "ok")
            end = port.scenePos() if not self.problem else pos
            if self.problem:
                self.scene.message.emit("Cannot connect: " + self.problem)
                self._show_tip(pos, self.problem)
            else:
                self.scene.message.emit("Release to connect")
                QToolTip.hideText()
        start = self.fixed.scenePos()
        a, b = (start, end) if self.fixed.is_output else (end, start)
        self.preview.setPath(wire_path(a, b))
        pen = QPen(colour, 2.0, Qt.PenStyle.DashLine if port is None else Qt.PenStyle.SolidLine)
        pen.setCosmetic(True)
        self.preview.setPen(pen)

    def _show_tip(self, pos: QPointF, text: str) -> None:
        views = self.scene.views()
        if views:
            view = views[0]
            QToolTip.showText(view.viewport().mapToGlobal(view.mapFromScene(pos)), text, view)

    def _port_near(self, pos: QPointF) -> PortItem | None:
        area = QRectF(
            pos.x() - SNAP_DISTANCE, pos.y() - SNAP_DISTANCE, 2 * SNAP_DISTANCE, 2 * SNAP_DISTANCE
        )
        best, best_d = None, SNAP_DISTANCE * 2
        for item in self.scene.items(area):
            if isinstance(item, PortItem) and item is not self.fixed:
                c = item.scenePos()
                d = ((c.x() - pos.x()) ** 2 + (c.y() - pos.y()) ** 2) ** 0.5
                if d < best_d:
                    best, best_d = item, d
        return best

    def finish(self, pos: QPointF) -> bool:
        """Connect if the target takes the wire; a lifted end dropped on nothing is a delete."""
        self.move(pos)
        self.cleanup()
        document = self.scene.document
        if self.target is None:
            if self.replacing is not None:
                document.remove_wire(self.replacing)
                return True
            self.scene.message.emit("")
            return False
        if self.problem:
            self.scene.message.emit("Not connected: " + self.problem)
            return False
        pair = oriented(self.fixed.end, self.target.end)
        assert pair is not None  # problem_with refuses same-side pairs
        source, target = pair
        if self.replacing is not None and (source.ref, target.ref) == (
            self.replacing.source,
            self.replacing.target,
        ):
            return False
        self.scene.message.emit(f"Connected {source.node} → {target.node}")
        return document.add_wire(source.ref, target.ref, self.replacing)

    def cleanup(self) -> None:
        if self.target is not None:
            self.target.set_highlight(None)
        if self.preview.scene() is not None:
            self.scene.removeItem(self.preview)
        QToolTip.hideText()
