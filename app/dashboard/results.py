"""After a run: how it ended, the confusion matrix, and predictions on validation samples."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QContextMenuEvent, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMenu, QSizePolicy, QVBoxLayout, QWidget

from app.dashboard import style
from app.dashboard.pictures import thumbnail
from designer import theme

HEAT = style.heat_lookup()


class ConfusionMatrixView(QWidget):
    """Rows: the true class; columns: the predicted one; colour: share of the row."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.matrix: np.ndarray | None = None
        self.names: list[str] = []
        self.setMinimumSize(QSize(240, 240))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_matrix(self, matrix: list[list[int]] | None, names: list[str] | None) -> None:
        self.matrix = None if matrix is None else np.asarray(matrix, np.int64)
        count = 0 if self.matrix is None else len(self.matrix)
        self.names = list(names or [str(i) for i in range(count)])[:count]
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        t = theme.current()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self.matrix is None or not len(self.matrix):
            painter.setPen(t.colour("text_dim"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No confusion matrix yet")
            return
        n = len(self.matrix)
        margin = 44
        side = min(self.width() - margin - 8, self.height() - margin - 8)
        cell = max(side / n, 4.0)
        rows = self.matrix.sum(axis=1, keepdims=True).clip(min=1)
        shares = self.matrix / rows
        font = theme.ui_font(7.5 if cell < 28 else 8.5)
        painter.setFont(font)
        for r in range(n):
            for c in range(n):
                rect = QRectF(margin + c * cell, margin + r * cell, cell - 1, cell - 1)
                rgb = HEAT[int(shares[r, c] * 255)]
                painter.fillRect(rect, QColor(int(rgb[0]), int(rgb[1]), int(rgb[2])))
                if cell >= 18 and self.matrix[r, c]:
                    painter.setPen(QColor("#111111" if shares[r, c] > 0.6 else "#eeeeee"))
                    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, str(self.matrix[r, c]))
        painter.setPen(t.colour("text_dim"))
        for i, name in enumerate(self.names):
            label = name if len(name) <= 6 else name[:5] + "…"
            painter.drawText(
                QRectF(margin + i * cell, margin - 16, cell, 14),
                Qt.AlignmentFlag.AlignCenter,
                label,
            )
            painter.drawText(
                QRectF(0, margin + i * cell, margin - 4, cell),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                label,
            )
        painter.drawText(
            QRectF(margin, 0, n * cell, 16), Qt.AlignmentFlag.AlignCenter, "predicted →"
        )
        painter.save()
        painter.translate(10, margin + n * cell / 2)
        painter.rotate(-90)
        painter.drawText(QRectF(-50, -8, 100, 16), Qt.AlignmentFlag.AlignCenter, "true →")
        painter.restore()


class PredictionsView(QWidget):
    """Validation samples with the prediction and the truth: pictures for images, else rows.
    Right-click (or double-click) a sample to explain it: `explain_requested(index)`, the
    validation sample's number."""

    THUMB = 56
    LINE = 18
    explain_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.found: dict[str, Any] = {}
        self.names: list[str] = []
        self.setMinimumSize(QSize(300, 200))
        self._pixmaps: list[Any] = []

    def set_predictions(self, found: dict[str, Any], names: list[str] | None) -> None:
        self.found = found
        self.names = list(names or [])
        x = found.get("x")
        self._pixmaps = [thumbnail(s, self.THUMB) for s in x] if x is not None else []
        self.update()

    def _images_shown(self) -> bool:
        return (
            bool(self._pixmaps)
            and all(p is not None for p in self._pixmaps)
            and ("predicted" in self.found)
        )

    def sample_at(self, point: QPointF) -> int | None:
        """The number of the sample drawn at `point`, or None."""
        if not self.found:
            return None
        count = len(self.found.get("x", ()))
        if self._images_shown():
            cell_w, cell_h = self.THUMB + 18, self.THUMB + 22
            columns = max(1, self.width() // cell_w)
            column, row = int((point.x() - 6) // cell_w), int((point.y() - 6) // cell_h)
            index = row * columns + column if 0 <= column < columns and row >= 0 else -1
        else:
            index = int((point.y() - 6) // self.LINE)
        return index if 0 <= index < count else None

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        index = self.sample_at(QPointF(event.pos()))
        if index is None:
            return
        menu = QMenu(self)
        menu.addAction(
            f"Explain validation sample {index}…", lambda: self.explain_requested.emit(index)
        )
        menu.exec(event.globalPos())

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        index = self.sample_at(event.position())
        if index is not None:
            self.explain_requested.emit(index)

    def _name(self, value: Any) -> str:
        index = int(value)
        return self.names[index] if 0 <= index < len(self.names) else str(index)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        t = theme.current()
        if not self.found:
            painter.setPen(t.colour("text_dim"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No predictions yet")
            return
        painter.setFont(theme.ui_font(8))
        if self._images_shown():
            self._paint_images(painter, t)
        else:
            self._paint_rows(painter, t)

    def _paint_images(self, painter: QPainter, t: theme.Theme) -> None:
        cell_w, cell_h = self.THUMB + 18, self.THUMB + 22
        columns = max(1, self.width() // cell_w)
        for i, pixmap in enumerate(self._pixmaps):
            r, c = divmod(i, columns)
            x, y = 6 + c * cell_w, 6 + r * cell_h
            if y + cell_h > self.height():
                break
            painter.drawPixmap(int(x), int(y), pixmap)
            predicted, true = self.found["predicted"][i], self.found["true"][i]
            right = int(predicted) == int(true)
            painter.setPen(t.colour("ok" if right else "error"))
            text = self._name(predicted) if right else f"{self._name(predicted)}≠{self._name(true)}"
            painter.drawText(
                QRectF(x - 4, y + self.THUMB + 2, self.THUMB + 8, 16),
                Qt.AlignmentFlag.AlignCenter,
                text,
            )

    def _paint_rows(self, painter: QPainter, t: theme.Theme) -> None:
        x, true, output = self.found["x"], self.found["true"], self.found["output"]
        predicted = self.found.get("predicted")
        texts = self.found.get("texts")
        line = self.LINE
        for i in range(min(len(x), max(1, (self.height() - 8) // line))):
            values = np.ravel(x[i])[:6]
            features = ", ".join(f"{v:.2f}" for v in values) + (" …" if np.size(x[i]) > 6 else "")
            if texts is not None:
                features = (
                    "…" + _visible(texts[i][-40:]) if len(texts[i]) > 40 else _visible(texts[i])
                )
            if "next" in self.found:  # a language model: the token it expects next
                guess, truth = self.found["next"][i], self.found["true_next"][i]
                right = guess == truth
                result = f"→ {_visible(guess)!r}" + (
                    "" if right else f"  (true {_visible(truth)!r})"
                )
                painter.setPen(t.colour("ok" if right else "error"))
            elif predicted is not None:
                right = int(predicted[i]) == int(true[i])
                result = f"→ {self._name(predicted[i])}" + (
                    "" if right else f"  (true {self._name(true[i])})"
                )
                painter.setPen(t.colour("ok" if right else "error"))
            else:
                guess = ", ".join(f"{v:.3g}" for v in np.ravel(output[i])[:3])
                truth = ", ".join(f"{v:.3g}" for v in np.ravel(true[i])[:3])
                result = f"→ {guess}  (true {truth})"
                painter.setPen(t.colour("text"))
            painter.drawText(
                QRectF(8, 6 + i * line, self.width() - 16, line),
                Qt.AlignmentFlag.AlignVCenter,
                f"{features}   {result}" if texts is not None else f"[{features}]   {result}",
            )


def _visible(text: str) -> str:
    """Text on one line: line breaks and tabs shown as symbols."""
    return text.replace("\n", "⏎").replace("\t", "⇥")


class ResultsView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ResultsView")
        self.summary = QLabel("Results appear here when a run ends.")
        self.summary.setObjectName("ResultsSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.confusion = ConfusionMatrixView()
        self.predictions = PredictionsView()
        left = QVBoxLayout()
        left.addWidget(self.summary)
        left.addWidget(self.confusion, 1)
        right = QVBoxLayout()
        title = QLabel("Sample predictions (validation) · right-click one to explain it")
        title.setObjectName("ChartTitle")
        right.addWidget(title)
        right.addWidget(self.predictions, 1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addLayout(left, 1)
        layout.addLayout(right, 1)

    def clear(self) -> None:
        self.summary.setText("Training… results appear here when the run ends.")
        self.confusion.set_matrix(None, None)
        self.predictions.set_predictions({}, None)

    def show_outcome(self, outcome: Any) -> None:
        result = outcome.result
        names = list(outcome.class_names) if outcome.class_names else None
        lines = [f"<b>{result.status.replace('_', ' ').capitalize()}</b>: {result.message}"]
        final = result.final
        if result.best_epoch is not None and result.best_value is not None:
            lines.append(
                f"best {result.best_metric} {result.best_value:.4f} at epoch {result.best_epoch}"
            )
        if "val_perplexity" in final:  # a language model
            lines.append(
                f"validation perplexity {final['val_perplexity']:.2f} · next-token accuracy "
                f"{final.get('val_accuracy', 0.0):.2%}"
            )
        elif "val_accuracy" in final:
            lines.append(f"validation accuracy {final['val_accuracy']:.2%}")
        if result.precision and result.recall:
            lines.append(
                f"mean precision {np.mean(result.precision):.2%} · mean recall {np.mean(result.recall):.2%}"
            )
        lines.append(f"{result.epochs} epochs in {result.seconds:.1f} s on {outcome.device}")
        self.summary.setText("<br>".join(lines))
        self.confusion.set_matrix(result.confusion, names)
        self.predictions.set_predictions(outcome.predictions, names)
