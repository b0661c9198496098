"""One canvas tab per network of a multi-network project (a GAN: Generator | Discriminator).

The tabs are a bar above the one canvas: choosing a tab asks the document to
show that network, and the scene mirrors its graph (designer/scene.py). So
the palette, inspector, Edit menu and undo stack work on whichever network is
shown, with nothing duplicated. Each network keeps its own zoom and scroll
position. A project of one network shows no tab bar at all.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import QTabBar, QVBoxLayout, QWidget

from designer import theme
from designer.document import Document
from designer.view import GraphView, Place

ROLES = {
    "generator": "turns random latent vectors into samples",
    "discriminator": "scores a sample: real data or the generator's",
}


class NetworkTabs(QWidget):
    """The canvas with a tab per network above it."""

    def __init__(
        self,
        document: Document,
        view: GraphView,
        parent: QWidget | None = None,
        header: QWidget | None = None,
    ) -> None:
        """`header`: a bar between the tabs and the canvas (the breadcrumbs of blocks)."""
        super().__init__(parent)
        self.setObjectName("NetworkTabs")
        self.document = document
        self.view = view
        self.bar = QTabBar()
        self.bar.setObjectName("NetworkTabBar")
        self.bar.setDocumentMode(True)
        self.bar.setExpanding(False)
        self.bar.setDrawBase(True)
        self._names: list[str] = []
        self._views: dict[str, Place] = {}
        self._showing: str | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.bar)
        if header is not None:
            layout.addWidget(header)
        layout.addWidget(view, 1)
        self.bar.currentChanged.connect(self._chosen)
        document.project_replaced.connect(self._fill)
        document.network_shown.connect(self._shown)
        document.analysed.connect(lambda _a: self._mark_problems())
        self._add_keys()
        self._fill()

    def networks(self) -> list[str]:
        """The networks in tab order (empty for a single-network project)."""
        return list(self._names)

    def current(self) -> str | None:
        return self.document.network

    def show_network(self, name: str) -> bool:
        return self.document.show_network(name)

    # ------------------------------------------------------------------ tabs
    def _fill(self) -> None:
        self._views.clear()
        self._names = list(self.document.project.networks)
        self._showing = self.document.network
        self.bar.blockSignals(True)
        while self.bar.count():
            self.bar.removeTab(0)
        for name in self._names:
            index = self.bar.addTab(name.replace("_", " ").capitalize())
            role = ROLES.get(name)
            self.bar.setTabToolTip(
                index, f"The {name} network" + (f": {role}" if role else "") + " (Ctrl+PgDown)"
            )
        if self.document.network in self._names:
            self.bar.setCurrentIndex(self._names.index(self.document.network))
        self.bar.blockSignals(False)
        self.bar.setVisible(bool(self._names))
        self._mark_problems()

    def _chosen(self, index: int) -> None:
        if 0 <= index < len(self._names):
            self.document.show_network(self._names[index])

    def _shown(self, name: str) -> None:
        """The document shows another network (a tab, a problem, an undo): follow it."""
        if self._showing is not None and self._showing != name:
            self.remember_view(self._showing)  # the view still frames the previous network
        self._showing = name
        if name in self._names and self.bar.currentIndex() != self._names.index(name):
            self.bar.blockSignals(True)
            self.bar.setCurrentIndex(self._names.index(name))
            self.bar.blockSignals(False)
        self._restore_view(name)

    def _mark_problems(self) -> None:
        """An error icon on each tab whose network has errors."""
        if not self._names:
            return
        broken = {
            d.network for d in self.document.problems() if d.severity == "error" and d.network
        }
        t = theme.current()
        for index, name in enumerate(self._names):
            icon = theme.layer_icon("mdi6.close-circle", t.error) if name in broken else None
            self.bar.setTabIcon(index, icon if icon is not None else QIcon())

    # ------------------------------------------------------------ view state
    def remember_view(self, name: str | None = None) -> None:
        """Keep the zoom and scroll position of the network shown (before another is shown)."""
        name = name or self._showing
        if name is None:
            return
        self._views[name] = self.view.place()

    def _restore_view(self, name: str) -> None:
        self.view.return_to(self._views.get(name))

    def next_network(self, step: int = 1) -> None:
        """Show the next (or previous) network's tab, wrapping around."""
        if self._names:
            self.bar.setCurrentIndex((self.bar.currentIndex() + step) % len(self._names))

    def _add_keys(self) -> None:
        for keys, step in (("Ctrl+PgDown", 1), ("Ctrl+PgUp", -1)):
            action = QAction(self)
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(lambda _c=False, s=step: self.next_network(s))
            self.addAction(action)
