"""The breadcrumb bar above the canvas while a block is open: the way back out.

"network › Stage › BasicBlock": each crumb but the last is a button that
leaves to that level (Escape on the canvas leaves one level). The bar also
says how many block nodes use the definition shown, because an edit here
changes every one of them. Each level keeps its own zoom and scroll, so
leaving a block shows the outer graph as it was framed. Hidden in a network.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

from designer import theme
from designer.document import Document, Level
from designer.view import GraphView, Place


class BreadcrumbBar(QWidget):
    """Crumbs from the network to the block shown, and how many nodes use that block."""

    def __init__(self, document: Document, view: GraphView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Breadcrumbs")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.document = document
        self.view = view
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(8, 3, 8, 3)
        self._layout.setSpacing(2)
        self.crumbs: list[QToolButton] = []
        self.uses_label = QLabel()
        self.uses_label.setObjectName("BlockUses")
        self._views: dict[tuple[Level, ...], Place] = {}
        self._shown: tuple[Level, ...] = document.trail
        document.trail_changed.connect(self._trail_changed)
        document.project_replaced.connect(self._forget)
        document.analysed.connect(lambda _a: self._count_uses())
        self.refresh()

    def texts(self) -> list[str]:
        """The crumbs as shown, outermost first (tests and the README read them)."""
        return [c.text() for c in self.crumbs]

    def leave_to(self, depth: int) -> None:
        self.document.leave_block(depth)

    # -------------------------------------------------------------- contents
    def refresh(self) -> None:
        while self._layout.count():
            item = self._layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None and widget is not self.uses_label:
                widget.deleteLater()
        self.crumbs = []
        trail = self.document.trail
        names = [self.document.network or "network", *(level.block for level in trail)]
        t = theme.current()
        for depth, name in enumerate(names):
            if depth:
                arrow = QLabel("›")
                arrow.setStyleSheet(f"color: {t.text_dim}; font-size: 13pt; padding: 0 2px;")
                self._layout.addWidget(arrow)
            crumb = QToolButton()
            crumb.setObjectName(f"Crumb{depth}")
            crumb.setText(name)
            crumb.setAutoRaise(True)
            last = depth == len(names) - 1
            crumb.setEnabled(not last)
            weight = "700" if last else "500"
            colour = t.text if last else t.accent
            crumb.setStyleSheet(f"QToolButton {{ color: {colour}; font-weight: {weight}; }}")
            if depth:
                node = trail[depth - 1].node
                crumb.setToolTip(
                    f"block '{name}'" + (f", entered through '{node}'" if node else "")
                )
            else:
                crumb.setToolTip("Back to the network (Escape leaves one level)")
            crumb.clicked.connect(lambda _c=False, d=depth: self.leave_to(d))
            self._layout.addWidget(crumb)
            self.crumbs.append(crumb)
        self._layout.addStretch(1)
        self._layout.addWidget(self.uses_label)
        self.setStyleSheet(
            f"#Breadcrumbs {{ background: {t.node_header}; border-bottom: 1px solid {t.accent}; }}"
            f"#BlockUses {{ color: {t.text_dim}; }}"
        )
        self._count_uses()
        self.setVisible(bool(trail))

    def _count_uses(self) -> None:
        trail = self.document.trail
        if not trail:
            self.uses_label.setText("")
            return
        block = trail[-1].block
        count = self.document.uses(block)
        if count == 1:
            text = f"block '{block}' · used once · Esc to leave"
        else:
            text = (
                f"block '{block}' · used {count} times: an edit here changes every use · "
                "Esc to leave"
            )
        if self.uses_label.text() != text:
            self.uses_label.setText(text)

    # ------------------------------------------------------------ view state
    def _trail_changed(self) -> None:
        previous, now = self._shown, self.document.trail
        self._views[previous] = self.view.place()
        self._shown = now
        self.refresh()
        self.view.return_to(self._views.get(now) if len(now) < len(previous) else None)

    def _forget(self) -> None:
        self._views.clear()
        self._shown = self.document.trail
        self.refresh()
