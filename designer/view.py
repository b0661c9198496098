"""The canvas view: pan, zoom around the cursor, fit, grid, drops, quick-add.

Pan with the middle button or Space+drag; zoom with the wheel (10% to 400%);
rubber-band select by dragging on empty canvas. Layers dropped from the
palette land where they are dropped, or are spliced into the wire under the
cursor. Tab or a double-click on empty canvas opens the quick-add popup.
"""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import QEvent, QLineF, QPoint, QPointF, QRect, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPen,
    QPixmapCache,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QGraphicsView, QWidget

from designer import theme
from designer.block_library import LIBRARY_MIME
from designer.edge_item import EdgeItem
from designer.minimap import Minimap
from designer.node_item import LOD_TEXT, NODE_HEIGHT, NODE_WIDTH, NodeItem
from designer.overview import OVERVIEW_ZOOM
from designer.quick_add import QuickAddPopup
from designer.scene import GRID, GraphScene
from engine.block_library import read_block
from engine.project import ProjectError

LAYER_MIME = "application/x-netwright-layer"
MIN_ZOOM, MAX_ZOOM = 0.1, 4.0
Place = tuple[QTransform, QPointF]  # a view's zoom and the scene point at its centre
SETTLE_MS = 200  # a zoom gesture ends this long after its last step
HOLD_UP_TO = 1.6  # zoomed in further, a held picture looks soft: nodes render each step (few show)


class GraphView(QGraphicsView):
    zoom_changed = Signal(float)
    block_opened = Signal(str)  # double-click or Enter on a block node: open it
    block_left = Signal()  # Escape inside a block: back out one level
    menu_requested = Signal(str, QPoint)  # a right-click: the node under it ("" for none)

    def __init__(self, scene: GraphScene, parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self.graph_scene = scene
        self.document = scene.document
        self._pan_from: QPoint | None = None
        self._space_down = False
        self._drop_edge: EdgeItem | None = None
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlags(QGraphicsView.OptimizationFlag.DontSavePainterState)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        # Each zoom step would render every visible node again at the new scale (about 0.5 ms
        # of Python each); during a gesture they keep one picture that Qt scales instead.
        QPixmapCache.setCacheLimit(max(QPixmapCache.cacheLimit(), 64 * 1024))
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self.settle)
        self.quick_add = QuickAddPopup(self)
        self.quick_add.chosen.connect(self._quick_add_chosen)
        self.quick_add.block_chosen.connect(self._quick_add_block)
        self._quick_add_at = QPointF()
        self.minimap = Minimap(self)
        self.document.read_only_changed.connect(lambda _locked: self.viewport().update())
        self.hint_shown = not scene.nodes  # "Drag a layer…" over an empty canvas
        scene.graph_changed.connect(self._check_hint)

    def set_read_only(self, locked: bool) -> None:
        """Lock editing (the document refuses edits; the canvas shows a banner)."""
        self.document.set_read_only(locked)

    # ----------------------------------------------------------------- zoom
    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, factor: float) -> None:
        """Zoom to `factor`, clamped to 10%-400%, around the point under the cursor."""
        factor = min(max(factor, MIN_ZOOM), MAX_ZOOM)
        scale = factor / self.zoom()
        if math.isclose(scale, 1.0):
            return
        self.scale(scale, scale)
        self._gesture_step()
        self._zoomed()

    def _gesture_step(self) -> None:
        """A zoom step of a gesture (the wheel, a pinch, repeated Ctrl++): each node stays the
        picture it had at 100%, scaled by Qt, until the gesture settles. Not far out (the names
        grow there: designer.node_item.LOD_TEXT), nor far in (few nodes show; crisper)."""
        zoom = self.zoom()
        self.graph_scene.hold_pictures(LOD_TEXT <= zoom <= HOLD_UP_TO / self.devicePixelRatioF())
        self._settle.start()

    def settle(self) -> None:
        """The gesture is over: render the nodes crisp at the screen's resolution again."""
        self._settle.stop()
        self.graph_scene.hold_pictures(False)

    def place(self) -> Place:
        """Where the view is (its zoom and the scene point at its centre), to come back to."""
        return QTransform(self.transform()), self.mapToScene(self.viewport().rect().center())

    def return_to(self, place: Place | None) -> None:
        """Back to a `place` kept before; None: fit the network."""
        if place is None:
            self.zoom_to_fit()
            return
        transform, centre = place
        self.setTransform(transform)
        self.centerOn(centre)
        self.zoom_changed.emit(self.zoom())

    def zoom_in(self) -> None:
        self.set_zoom(self.zoom() * 1.25)

    def zoom_out(self) -> None:
        self.set_zoom(self.zoom() / 1.25)

    def zoom_to_fit(self) -> None:
        """Show the whole network (or the selection, when there is one)."""
        items = [i for i in self.graph_scene.selectedItems() if isinstance(i, NodeItem)] or list(
            self.graph_scene.nodes.values()
        )
        if not items:
            self.resetTransform()
            self.centerOn(0, 0)
            self.zoom_changed.emit(self.zoom())
            return
        rect = QRectF()
        for item in items:
            rect = rect.united(item.sceneBoundingRect())
        rect = rect.adjusted(-60, -60, 60, 60)
        view = self.viewport().rect()
        factor = min(view.width() / rect.width(), view.height() / rect.height())
        factor = min(max(factor, MIN_ZOOM), 1.5)
        self.resetTransform()
        self.scale(factor, factor)
        self.centerOn(rect.center())
        self.settle()
        self._zoomed()

    def _zoomed(self) -> None:
        self.graph_scene.set_far(self.zoom() < OVERVIEW_ZOOM)
        self.zoom_changed.emit(self.zoom())
        self.minimap.update()

    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta().y() or event.angleDelta().x()
        if delta:
            self.set_zoom(self.zoom() * math.pow(1.0015, delta))
        event.accept()

    # ------------------------------------------------------------------ pan
    def mousePressEvent(self, event: QMouseEvent) -> None:
        panning = event.button() == Qt.MouseButton.MiddleButton or (
            event.button() == Qt.MouseButton.LeftButton and self._space_down
        )
        if panning:
            self._pan_from = event.position().toPoint()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None:
            now = event.position().toPoint()
            delta = now - self._pan_from
            self._pan_from = now
            self.pan_by(delta.x(), delta.y())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None:
            self._pan_from = None
            self.viewport().setCursor(
                Qt.CursorShape.OpenHandCursor if self._space_down else Qt.CursorShape.ArrowCursor
            )
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def pan_by(self, dx: float, dy: float) -> None:
        """Move the canvas with the cursor by (dx, dy) pixels."""
        scale = self.zoom()
        centre = self.mapToScene(self.viewport().rect().center())
        self.centerOn(centre - QPointF(dx / scale, dy / scale))
        self.minimap.update()

    def node_at(self, pos: QPoint) -> NodeItem | None:
        """The layer under a viewport point (its port or the layer itself)."""
        item = self.itemAt(pos)
        while item is not None and not isinstance(item, NodeItem):
            item = item.parentItem()
        return item

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        node = self.node_at(event.pos())
        self.menu_requested.emit(node.node_id if node is not None else "", event.globalPos())
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        node = self.node_at(event.position().toPoint())
        if node is not None and self._is_block(node):
            self.block_opened.emit(node.node_id)
            event.accept()
            return
        item = self.itemAt(event.position().toPoint())
        if item is None and event.button() == Qt.MouseButton.LeftButton:
            self.open_quick_add(self.mapToScene(event.position().toPoint()))
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    # ----------------------------------------------------------------- keys
    def event(self, event: QEvent) -> bool:
        """Tab opens quick-add instead of moving the keyboard focus."""
        if event.type() == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Tab:  # type: ignore[attr-defined]
            self.open_quick_add(self._cursor_scene_pos())
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_down = True
            self.setDragMode(QGraphicsView.DragMode.NoDrag)
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            return
        if event.key() == Qt.Key.Key_Escape and self.graph_scene.wire_drag is not None:
            self.graph_scene.cancel_wire()
            return
        if event.key() == Qt.Key.Key_Escape and self.document.trail:
            self.block_left.emit()
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            chosen = [self.graph_scene.nodes[n] for n in self.graph_scene.selected_node_ids()]
            if len(chosen) == 1 and self._is_block(chosen[0]):
                self.block_opened.emit(chosen[0].node_id)
                return
        super().keyPressEvent(event)

    def _is_block(self, node: NodeItem) -> bool:
        found = self.document.graph.nodes.get(node.node_id)
        return found is not None and found.type == "Block"

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_down = False
            self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
            self.viewport().setCursor(Qt.CursorShape.ArrowCursor)
            return
        super().keyReleaseEvent(event)

    def _cursor_scene_pos(self) -> QPointF:
        local = self.viewport().mapFromGlobal(self.cursor().pos())
        if not self.viewport().rect().contains(local):
            local = self.viewport().rect().center()
        return self.mapToScene(local)

    # ------------------------------------------------------------ quick-add
    def open_quick_add(self, scene_pos: QPointF) -> None:
        if self.document.read_only:
            self.document.message.emit("The graph is locked while training runs.")
            return
        self._quick_add_at = scene_pos
        self.quick_add.popup_at(self.viewport().mapToGlobal(self.mapFromScene(scene_pos)))

    def _quick_add_chosen(self, type_name: str) -> None:
        self.add_layer(type_name, self._quick_add_at)

    def _quick_add_block(self, path: str) -> None:
        self.add_block(path, self._quick_add_at)  # as a palette drop there would

    def add_layer(self, type_name: str, scene_pos: QPointF) -> str | None:
        """Add a layer centred on `scene_pos` and select it."""
        corner = QPointF(scene_pos.x() - NODE_WIDTH / 2, scene_pos.y() - NODE_HEIGHT / 2)
        node_id = self.document.add_node(type_name, self.graph_scene.snap_point(corner))
        if node_id:
            self.graph_scene.select_nodes([node_id])
        return node_id

    def add_layer_at_centre(self, type_name: str) -> str | None:
        return self.add_layer(type_name, self.mapToScene(self.viewport().rect().center()))

    def add_block(self, path: str, scene_pos: QPointF) -> str | None:
        """Add the library block in the file at `path`, centred on `scene_pos`, and select it."""
        try:
            block = read_block(Path(path))
        except ProjectError as error:
            self.document.message.emit(f"Cannot add the block: {error}")
            return None
        corner = QPointF(scene_pos.x() - NODE_WIDTH / 2, scene_pos.y() - NODE_HEIGHT / 2)
        node_id = self.document.add_library_block(block, self.graph_scene.snap_point(corner))
        if node_id:
            self.graph_scene.select_nodes([node_id])
        return node_id

    def add_block_at_centre(self, path: str) -> str | None:
        return self.add_block(path, self.mapToScene(self.viewport().rect().center()))

    # ---------------------------------------------------------------- drops
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        data = event.mimeData()
        if (
            data.hasFormat(LAYER_MIME) or data.hasFormat(LIBRARY_MIME)
        ) and not self.document.read_only:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if event.mimeData().hasFormat(LIBRARY_MIME):
            event.acceptProposedAction()  # a library block lands on the canvas, not in a wire
            return
        if not event.mimeData().hasFormat(LAYER_MIME):
            event.ignore()
            return
        edge = self.graph_scene.edge_at(self.mapToScene(event.position().toPoint()))
        if edge is not self._drop_edge:
            if self._drop_edge is not None:
                self._drop_edge.hovered = False
                self._drop_edge.update()
            self._drop_edge = edge
            if edge is not None:
                edge.hovered = True
                edge.update()
                self.document.message.emit("Drop to insert the layer into this wire")
        event.acceptProposedAction()

    def dragLeaveEvent(self, event: QEvent) -> None:
        self._clear_drop_edge()

    def dropEvent(self, event: QDropEvent) -> None:
        data = event.mimeData()
        if data.hasFormat(LIBRARY_MIME):
            path = bytes(data.data(LIBRARY_MIME).data()).decode("utf-8")
            self.add_block(path, self.mapToScene(event.position().toPoint()))
            event.acceptProposedAction()
            return
        if not data.hasFormat(LAYER_MIME):
            event.ignore()
            return
        type_name = bytes(data.data(LAYER_MIME).data()).decode("utf-8")
        pos = self.mapToScene(event.position().toPoint())
        self.drop_layer(type_name, pos)
        self._clear_drop_edge()
        event.acceptProposedAction()

    def drop_layer(self, type_name: str, pos: QPointF) -> str | None:
        """A palette drop: into the wire under `pos` if there is one, else onto the canvas."""
        edge = self.graph_scene.edge_at(pos)
        if edge is not None:
            corner = self.graph_scene.snap_point(
                QPointF(pos.x() - NODE_WIDTH / 2, pos.y() - NODE_HEIGHT / 2)
            )
            node_id = self.document.insert_into_wire(type_name, edge.edge, corner)
            if node_id:
                self.graph_scene.select_nodes([node_id])
                return node_id
        return self.add_layer(type_name, pos)

    def _clear_drop_edge(self) -> None:
        if self._drop_edge is not None:
            self._drop_edge.hovered = False
            self._drop_edge.update()
            self._drop_edge = None

    # ------------------------------------------------------------- painting
    def drawBackground(self, painter: QPainter, rect: QRectF | QRect) -> None:
        rect = QRectF(rect)
        self.graph_scene.set_far(self.zoom() < OVERVIEW_ZOOM)  # a zoom set without set_zoom
        t = theme.current()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)  # straight lines: no AA
        painter.fillRect(rect, t.colour("canvas"))
        zoom = self.zoom()
        for step, colour in ((GRID, "grid_minor"), (GRID * 5, "grid_major")):
            if step * zoom < 8:
                continue
            pen = QPen(t.colour(colour), 1.0)
            pen.setCosmetic(True)
            painter.setPen(pen)
            left = math.floor(rect.left() / step) * step
            top = math.floor(rect.top() / step) * step
            lines = [
                QLineF(x, rect.top(), x, rect.bottom()) for x in _frange(left, rect.right(), step)
            ]
            lines += [
                QLineF(rect.left(), y, rect.right(), y) for y in _frange(top, rect.bottom(), step)
            ]
            painter.drawLines(lines)

    def drawForeground(self, painter: QPainter, rect: QRectF | QRect) -> None:
        t = theme.current()
        painter.save()
        painter.resetTransform()
        area = self.viewport().rect()
        if self.hint_shown:
            painter.setPen(t.colour("text_dim"))
            painter.setFont(theme.ui_font(11))
            painter.drawText(
                area,
                Qt.AlignmentFlag.AlignCenter,
                "Drag a layer from the palette, or press Tab to add one by name",
            )
        if self.document.read_only:
            banner = QRectF(area.width() / 2 - 190, 12, 380, 30)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(t.colour("banner_bg"))
            painter.drawRoundedRect(banner, 15, 15)
            painter.setPen(QColor("#ffffff") if t.name == "dark" else t.colour("text"))
            painter.setFont(theme.ui_font(9.5, bold=True))
            painter.drawText(
                banner, Qt.AlignmentFlag.AlignCenter, "Read-only while training — stop to edit"
            )
        painter.restore()

    def _check_hint(self) -> None:
        """The hint comes and goes with the first layer: repaint the whole canvas then, or a
        real window keeps pieces of it between the layers (only their areas are repainted)."""
        shown = not self.graph_scene.nodes
        if shown != self.hint_shown:
            self.hint_shown = shown
            self.viewport().update()

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)  # type: ignore[arg-type]
        self.minimap.place()

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        super().scrollContentsBy(dx, dy)
        if hasattr(self, "minimap"):
            self.minimap.update()


def _frange(start: float, stop: float, step: float) -> list[float]:
    count = int((stop - start) / step) + 1
    return [start + i * step for i in range(max(count, 0))]
