"""The Data dock: choose what the network learns from, and see it before training.

Pick a bundled data set or open a file (CSV, NPZ, an image folder, an IDX
pair, text); setting the source is one undo step on the document's stack. The
preview shows how many samples of each class there are, a few samples
(pictures for images, rows otherwise), the shape of one sample, and whether
it fits the network's Input node (the same rule training uses: the number of
values must match). Text shows how the network will read it: its windows,
the tokenizer's vocabulary, and a few windows as the network sees them.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.dashboard.pictures import looks_like_images, thumbnail
from designer.document import Document
from designer.qt_helpers import clear_layout
from engine.analysis import Analysis
from engine.data.builtin import BUILTINS
from engine.data.dataset import DataError, DataSet
from engine.data.images import image_files, read_image
from engine.data.spec import load_spec, parse_spec
from engine.recipes import data_network

if TYPE_CHECKING:
    from app.panels.class_counts import ClassCounts
    from app.panels.text_preview import TextPreviews
    from engine.text.corpus import TextCorpus

SAMPLES_SHOWN = 12
THUMB = 40
CUSTOM = "__file__"


class DataPanel(QWidget):
    # a sample as the data set holds it and where it is from, to explain (right-click a sample)
    explain_requested = Signal(object, str)

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("DataPanel")
        self.document = document
        self._loading = False
        self._cache: dict[str, DataSet | TextCorpus | str] = {}
        self._text_previews: TextPreviews | None = None
        self.choice = QComboBox()
        for name, entry in BUILTINS.items():
            self.choice.addItem(name, f"builtin:{name}")
            self.choice.setItemData(
                self.choice.count() - 1, entry.description, Qt.ItemDataRole.ToolTipRole
            )
        self.choice.currentIndexChanged.connect(lambda _i: self._chosen())
        open_button = QToolButton()
        open_button.setText("Open file…")
        menu = QMenu(open_button)
        menu.addAction("CSV file…", lambda: self.open_file("csv"))
        menu.addAction("NumPy archive (.npz)…", lambda: self.open_file("npz"))
        menu.addAction("Image folder (one sub-folder per class)…", lambda: self.open_file("images"))
        menu.addAction("IDX images and labels…", lambda: self.open_file("idx"))
        menu.addSeparator()
        menu.addAction("Text file (to continue)…", lambda: self.open_file("text"))
        menu.addAction("Folder of text files (to continue)…", lambda: self.open_file("textdir"))
        menu.addAction("Labelled texts (CSV: text, label)…", lambda: self.open_file("textcsv"))
        open_button.setMenu(menu)
        open_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        row = QHBoxLayout()
        row.addWidget(self.choice, 1)
        row.addWidget(open_button)
        self.source_label = QLabel("")
        self.source_label.setObjectName("InspectorDim")
        self.source_label.setWordWrap(True)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.fit_label = QLabel("")
        self.fit_label.setObjectName("DataFit")
        self.fit_label.setWordWrap(True)
        self.counts_widget = QWidget()  # the chart goes in when there are counts to show
        QVBoxLayout(self.counts_widget).setContentsMargins(0, 0, 0, 0)
        self.counts_widget.hide()
        self._counts: ClassCounts | None = None
        self._pending_counts: tuple[np.ndarray, list[str]] | None = None
        self._charts_allowed = False
        self.samples = QWidget()
        self.sample_grid = QGridLayout(self.samples)
        self.sample_grid.setSpacing(4)
        self.sample_grid.setContentsMargins(0, 0, 0, 0)
        self.rows = QTableWidget()
        self.rows.setMaximumHeight(180)
        self.rows.hide()
        self.rows.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.rows.customContextMenuRequested.connect(
            lambda at: self._explain_menu(self.rows.rowAt(at.y()), self.rows.viewport(), at)
        )
        self._shown: DataSet | None = None  # the data set whose samples are shown
        self.text_samples = QTextBrowser()  # text: windows as the network reads them
        self.text_samples.setObjectName("TextSamples")
        self.text_samples.setMinimumHeight(220)
        self.text_samples.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 6)
        layout.addLayout(row)
        layout.addWidget(self.source_label)
        layout.addWidget(self.summary)
        layout.addWidget(self.fit_label)
        layout.addWidget(self.counts_widget)
        layout.addWidget(self.samples)
        layout.addWidget(self.rows)
        layout.addWidget(self.text_samples, 1)
        layout.addStretch(1)
        document.analysed.connect(lambda _a: self.load())
        document.project_replaced.connect(self.load)
        document.undo_stack.indexChanged.connect(lambda _i: self.load())
        document.read_only_changed.connect(lambda locked: self.setEnabled(not locked))
        self.load()

    # ------------------------------------------------------------ edits
    def source(self) -> str | None:
        value = self.document.project.dataset.get("source")
        return value if isinstance(value, str) else None

    def set_source(self, spec: str) -> bool:
        """Use `spec` as the project's data (one undo step); False if unchanged or locked."""
        if spec == self.source():
            return False
        return self.document.set_value("dataset.source", spec, text=f"Use data {spec}")

    def _chosen(self) -> None:
        spec = self.choice.currentData()
        if not self._loading and isinstance(spec, str) and spec != CUSTOM:
            self.set_source(spec)

    def open_file(self, kind: str) -> None:
        start = str(self.document.project.path.parent) if self.document.project.path else ""
        if kind in ("images", "textdir"):
            title = "Image folder" if kind == "images" else "Folder of text files"
            folder = QFileDialog.getExistingDirectory(self, title, start)
            if folder:
                self.set_source(f"{'images' if kind == 'images' else 'text'}:{folder}")
            return
        if kind == "idx":
            images, _ = QFileDialog.getOpenFileName(self, "IDX images", start, "IDX files (*)")
            if not images:
                return
            labels, _ = QFileDialog.getOpenFileName(self, "IDX labels", str(Path(images).parent))
            if labels:
                self.set_source(f"idx:{images},{labels}")
            return
        pattern = {
            "csv": "CSV files (*.csv)",
            "npz": "NumPy archives (*.npz)",
            "text": "Text files (*.txt *.md *.py *.rst);;All files (*)",
            "textcsv": "CSV files (*.csv)",
        }[kind]
        path, _ = QFileDialog.getOpenFileName(self, "Data file", start, pattern)
        if path:
            self.set_source(f"{kind}:{path}")

    # ---------------------------------------------------------- preview
    def load(self) -> None:
        spec = self.source()
        self._loading = True
        try:
            index = self.choice.findData(spec) if spec else -1
            if index < 0 and spec:
                custom = self.choice.findData(CUSTOM)
                if custom < 0:
                    self.choice.addItem("", CUSTOM)
                    custom = self.choice.count() - 1
                self.choice.setItemText(custom, f"file: {Path(spec.partition(':')[2]).name}")
                index = custom
            self.choice.setCurrentIndex(index)
        finally:
            self._loading = False
        self.source_label.setText(spec or "No data chosen: pick a data set or open a file.")
        self._preview(spec)

    def _preview(self, spec: str | None) -> None:
        found = self._data(spec) if spec else None
        self._clear_samples()
        if found is not None and not isinstance(found, (DataSet, str)):
            self._show_text(found)
            return
        if not isinstance(found, DataSet):
            self.summary.setText(found or "")
            self.fit_label.setText("")
            self.counts_widget.setVisible(False)
            return
        shape = found.sample_shape
        classes = found.classes
        text = f"{found.samples:,} samples · one sample {'×'.join(map(str, shape)) or 'scalar'}"
        text += f" · {classes} classes" if classes else " · values to predict (regression)"
        self.summary.setText(text)
        self._show_fit(shape)
        self._show_counts(found)
        if looks_like_images(shape):
            self._show_images(found)
        else:
            self._show_rows(found)

    def _show_text(self, corpus: TextCorpus) -> None:
        """A corpus as the network will read it (tokenized: loaded with the first text)."""
        from app.panels.text_preview import TextPreviews

        if self._text_previews is None:
            self._text_previews = TextPreviews()
        shown = self._text_previews.preview(corpus, self._data_analysis(), self.document.project)
        self.summary.setText(shown.summary)
        self.fit_label.setText(shown.fit)
        self._fit_state(shown.state)
        if shown.counts is not None:
            self._pending_counts = (shown.counts, list(shown.class_names))
            self.counts_widget.setVisible(True)
            if self.isVisible():
                self._draw_counts()
        else:
            self.counts_widget.setVisible(False)
        if shown.rows:
            self.text_samples.setHtml(windows_html(shown.rows))
            self.text_samples.show()

    def _data(self, spec: str) -> DataSet | TextCorpus | str:
        """The data set a spec names (cached), or why it cannot be read."""
        if spec in self._cache:
            return self._cache[spec]
        base = self.document.project.path.parent if self.document.project.path else None
        try:
            parsed = parse_spec(spec, base)
            if parsed.kind == "images":
                found: DataSet | TextCorpus | str = folder_preview(
                    parsed.paths[0], self._input_shape()
                )
            else:
                section = self.document.project.dataset
                found = load_spec(
                    parsed,
                    need_targets=False,
                    target_column=section.get("target_column"),
                    text_column=section.get("text_column"),
                )
        except DataError as error:
            found = str(error)
        except (OSError, ValueError) as error:
            found = f"cannot read {spec}: {error}"
        self._cache[spec] = found
        return found

    def _data_analysis(self) -> Analysis:
        """The analysis of the network the data feeds: the project's, or a GAN's
        discriminator's (whichever network's tab is shown)."""
        return self.document.network_analysis(data_network(self.document.project))

    def _input_shape(self) -> tuple[int, ...] | None:
        return self._data_analysis().input_shape

    def _show_fit(self, shape: tuple[int, ...]) -> None:
        analysis = self._data_analysis()
        wanted = analysis.input_shape
        if wanted is None:
            self.fit_label.setText(
                "The network has no Input node yet."
                if analysis.input_id is None
                else f"The Input '{analysis.input_id}' has no usable shape yet (see Problems)."
            )
            self._fit_state("warning")
            return
        given, needed = math.prod(shape), math.prod(wanted)
        dims = "×".join(map(str, wanted))
        if given == needed:
            self.fit_label.setText(f"✔ fits the Input '{analysis.input_id}' ({dims})")
            self._fit_state("ok")
        else:
            self.fit_label.setText(
                f"✖ one sample has {given:,} values but the Input '{analysis.input_id}' takes {dims} = "
                f"{needed:,}; change the Input's shape or pick other data"
            )
            self._fit_state("error")

    def _fit_state(self, state: str) -> None:
        self.fit_label.setProperty("state", state)
        self.fit_label.style().unpolish(self.fit_label)
        self.fit_label.style().polish(self.fit_label)

    def _show_counts(self, data: DataSet) -> None:
        if data.y is None or data.classes is None:
            self.counts_widget.setVisible(False)
            return
        counts = np.bincount(np.asarray(data.y, np.int64).ravel(), minlength=data.classes)
        self._pending_counts = (counts, list(data.class_names or []))
        self.counts_widget.setVisible(True)
        if self.isVisible():
            self._draw_counts()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._draw_counts()

    def allow_charts(self) -> None:
        """The window has painted: the chart may be made now (pyqtgraph is slow to load)."""
        self._charts_allowed = True
        if self.isVisible():
            self._draw_counts()

    def _draw_counts(self) -> None:
        """The chart, made the first time the panel shows counts (the panel starts hidden
        behind the inspector, and nothing waits for it before the window's first paint)."""
        if self._pending_counts is None or not self._charts_allowed:
            return
        if self._counts is None:
            from app.panels.class_counts import ClassCounts

            self._counts = ClassCounts()
            layout = self.counts_widget.layout()
            assert layout is not None
            layout.addWidget(self._counts)
        self._counts.show_counts(*self._pending_counts)
        self._pending_counts = None

    def _explain_menu(self, index: int, widget: QWidget, at: QPoint) -> None:
        """Right-click on a sample: Explain it (with the network's trained weights)."""
        data = self._shown
        if data is None or not 0 <= index < len(data.x):
            return
        menu = QMenu(widget)
        menu.addAction(
            f"Explain sample {index} of {data.name}…",
            lambda: self.explain_requested.emit(
                np.asarray(data.x[index]), f"sample {index} of {data.name}"
            ),
        )
        menu.exec(widget.mapToGlobal(at))

    def _clear_samples(self) -> None:
        self._shown = None
        clear_layout(self.sample_grid)
        self.rows.hide()
        self.text_samples.hide()
        self.samples.hide()

    def _show_images(self, data: DataSet) -> None:
        self._shown = data
        names = list(data.class_names or [])
        columns = 6
        for i in range(min(SAMPLES_SHOWN, data.samples)):
            pixmap = thumbnail(np.asarray(data.x[i], np.float32), THUMB)
            if pixmap is None:
                continue
            cell = QLabel()
            cell.setPixmap(pixmap)
            cell.setAlignment(Qt.AlignmentFlag.AlignCenter)
            cell.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            cell.customContextMenuRequested.connect(
                lambda at, i=i, c=cell: self._explain_menu(i, c, at)
            )
            if data.y is not None and np.ndim(data.y[i]) == 0:
                label = int(data.y[i])
                cell.setToolTip(names[label] if label < len(names) else str(label))
            self.sample_grid.addWidget(cell, i // columns, i % columns)
        self.samples.show()

    def _show_rows(self, data: DataSet) -> None:
        self._shown = data
        shown = min(8, data.samples)
        flat = np.asarray(data.x[:shown]).reshape(shown, -1)
        columns = min(flat.shape[1], 8)
        with_target = data.y is not None
        self.rows.setRowCount(shown)
        self.rows.setColumnCount(columns + (1 if with_target else 0))
        headers = [f"x{j}" for j in range(columns)] + (["target"] if with_target else [])
        self.rows.setHorizontalHeaderLabels(headers)
        for i in range(shown):
            for j in range(columns):
                self.rows.setItem(i, j, QTableWidgetItem(f"{flat[i, j]:.3g}"))
            if with_target:
                assert data.y is not None
                target = data.y[i]
                names = data.class_names
                text = (
                    names[int(target)]
                    if names and np.ndim(target) == 0
                    else str(np.round(target, 3))
                )
                self.rows.setItem(i, columns, QTableWidgetItem(text))
        self.rows.resizeColumnsToContents()
        self.rows.show()


def windows_html(rows: tuple[tuple[str, str], ...]) -> str:
    """Sample windows as the network reads them: the text itself, each with its label."""
    from html import escape

    from designer import theme

    colours = theme.current()
    blocks = []
    for text, label in rows:
        chip = (
            f"<div style='color:{colours.accent}; font-weight:600'>{escape(label)}</div>"
            if label
            else ""
        )
        blocks.append(
            f"{chip}<pre style='margin:0 0 10px 0; padding:4px; white-space:pre-wrap; "
            f"background:{colours.node_body}; color:{colours.text}'>{escape(text)}</pre>"
        )
    return "".join(blocks)


def folder_preview(folder: Path, input_shape: tuple[int, ...] | None) -> DataSet:
    """An image folder's labels and its first images only (reading every image could take long)."""
    files, labels, names = image_files(folder)
    shape = input_shape if input_shape and len(input_shape) == 3 else (3, 32, 32)
    first = files[:SAMPLES_SHOWN]
    x = (
        np.stack([read_image(p, *shape) for p in first])
        if first
        else np.zeros((0, *shape), np.float32)
    )
    return _FolderPreview(folder.name, x, np.asarray(labels, np.int64), names, total=len(files))


class _FolderPreview(DataSet):
    """A folder's first images with all its labels: samples counts the files, not the pictures."""

    def __init__(self, name: str, x: np.ndarray, y: np.ndarray, names: tuple[str, ...], total: int):
        self.name, self.x, self.y, self.class_names, self.description = name, x, y, names, ""
        self.total = total

    @property
    def samples(self) -> int:  # type: ignore[override]
        return self.total
