"""The Profile dock: which layers dominate, the slowest first, forward and backward.

One row per layer with its median time per batch, its share drawn as a bar;
clicking a row selects the layer on the canvas. The nodes show the same times
(GraphScene.show_measured). When the graph changes the times no longer describe
it: the table empties and says so.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from designer import theme
from designer.scene import GraphScene, time_text

COLUMNS = ("Layer", "Type", "Forward", "Backward", "Share", "")


class ProfilePanel(QWidget):
    profile_asked = Signal(bool)  # with onnxruntime (True) or torch

    def __init__(self, scene: GraphScene, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ProfilePanel")
        self.scene = scene
        self.profile: Any | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        top = QHBoxLayout()
        self.run_button = QPushButton("Profile")
        self.run_button.setToolTip("Run the network on the training device and time each layer")
        self.onnx_box = QCheckBox("Exported ONNX (onnxruntime, forward only)")
        self.run_button.clicked.connect(lambda: self.profile_asked.emit(self.onnx_box.isChecked()))
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(160)
        self.progress.setTextVisible(False)
        self.progress.hide()
        top.addWidget(self.run_button)
        top.addWidget(self.onnx_box)
        top.addWidget(self.progress)
        top.addStretch(1)
        layout.addLayout(top)
        self.status = QLabel("Analyze > Profile runs the network and times each layer.")
        self.status.setObjectName("ProfileStatus")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setShowGrid(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.table.cellClicked.connect(self._select_row)
        layout.addWidget(self.table, 1)
        scene.measured_changed.connect(self._measured_changed)

    def running(self, on: bool) -> None:
        self.run_button.setEnabled(not on)
        self.onnx_box.setEnabled(not on)
        self.progress.setVisible(on)
        if on:
            self.progress.setRange(0, 0)
            self.status.setText("Profiling: running the network batch after batch…")

    def progressed(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def failed(self, message: str) -> None:
        self.running(False)
        self.status.setText(f"Could not profile: {message}")

    def show_profile(self, profile: Any) -> None:
        """Fill the table with a Profile, the slowest layer first."""
        self.running(False)
        self.profile = profile
        timed = "forward" if profile.backward_ms is None else "forward and backward"
        whole = f"{time_text(profile.layers_ms)} in the layers"
        if profile.runtime == "torch":
            whole += f"; a whole training step {time_text(profile.step_ms)} without timing hooks"
        self.status.setText(
            f"{profile.runtime} on {profile.device}, batch size {profile.batch_size}: median of "
            f"{profile.repeats} batches ({timed}); {whole}"
            + "".join(f"\n{note}" for note in profile.notes)
        )
        self.table.setRowCount(len(profile.layers))
        for row, layer in enumerate(profile.layers):
            backward = "" if layer.backward_ms is None else time_text(layer.backward_ms)
            cells = (
                layer.node,
                layer.type,
                time_text(layer.forward_ms),
                backward,
                f"{100 * layer.share:.1f}%",
                _bar(layer.share, profile.layers[0].share),
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column in (2, 3, 4):
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if column == 5:
                    hot = layer.share >= profile.layers[0].share / 2
                    item.setForeground(theme.current().colour("warning" if hot else "accent"))
                self.table.setItem(row, column, item)

    def rows(self) -> list[tuple[str, ...]]:
        """The table as text, row by row (what a user reads; tests read it too)."""

        def text(row: int, column: int) -> str:
            item = self.table.item(row, column)
            return item.text() if item is not None else ""

        columns = range(self.table.columnCount())
        return [tuple(text(r, c) for c in columns) for r in range(self.table.rowCount())]

    def _measured_changed(self) -> None:
        if not self.scene.measured and self.profile is not None:
            self.profile = None
            self.table.setRowCount(0)
            self.status.setText("The network changed since it was profiled: Profile again.")

    def _select_row(self, row: int, _column: int) -> None:
        item = self.table.item(row, 0)
        if item is not None and item.text() in self.scene.nodes:
            self.scene.select_nodes([item.text()])


def _bar(share: float, biggest: float) -> str:
    """A text bar, as long against the column as the layer's time against the slowest's."""
    return "█" * max(1, round(24 * share / biggest)) if biggest > 0 else ""
