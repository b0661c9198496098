"""One sample's explanation drawn as a person reads it, into a picture Qt paints by itself.

An image: the sample beside the attributions laid over it (orange for what
spoke for the class, blue against; Grad-CAM and saliency as heat). Tabular
data: one bar per feature, the ones that counted most first, by name. Tokens:
the sequence with each token tinted by its share. Attention: one
queries-by-keys heatmap per head, the tokens along both sides. On the right,
the network's probability for each class, the explained one highlighted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from app.dashboard import style
from app.inside.neurons_view import HIGH, LOW, diverging_lookup
from designer import theme

HEAT = style.heat_lookup()
MOST_BARS = 16
SIGNED = ("integrated_gradients", "occlusion")


@dataclass
class Shown:
    """What the view draws: the explanation and the facts about its sample."""

    found: Any  # engine.explain.methods.Explanation
    sample: np.ndarray  # the sample as the network read it (one sample, no batch axis)
    image: bool  # the sample is a picture (channels, height, width)
    tokens: bool
    features: tuple[str, ...]
    classes: list[str]


def rgba_image(rgba: np.ndarray) -> QImage:
    rows, columns = rgba.shape[:2]
    data = np.ascontiguousarray(rgba.astype(np.uint8))
    return QImage(data.data, columns, rows, 4 * columns, QImage.Format.Format_RGBA8888).copy()


def grey_picture(sample: np.ndarray) -> np.ndarray:
    """(H, W, 4) of an image sample, stretched to its own range (colour kept for RGB)."""
    if sample.shape[0] == 3:
        rgb = np.moveaxis(sample, 0, -1)
    else:
        rgb = np.repeat(sample.mean(axis=0)[..., None], 3, axis=-1)
    low, high = float(rgb.min()), float(rgb.max())
    scaled = (rgb - low) / (high - low if high > low else 1.0) * 255.0
    return np.concatenate([scaled, np.full((*scaled.shape[:2], 1), 255.0)], axis=-1)


def overlay(base: np.ndarray, heat: np.ndarray, signed: bool, background: str) -> np.ndarray:
    """`heat` (H, W) over the sample shown faintly: diverging when signed, else dark-to-bright
    heat; the square root of the strength sets how opaque, so weaker shares still show."""
    size = float(np.abs(heat).max()) or 1.0
    strength = np.sqrt(np.clip(np.abs(heat) / size, 0.0, 1.0))
    if signed:
        table = diverging_lookup(background)
        index = np.clip((np.sign(heat) * strength + 1.0) * 127.5, 0, 255).astype(np.uint8)
    else:
        table = HEAT
        index = (strength * 255).astype(np.uint8)
    colour = table[index][..., :3].astype(np.float32)
    alpha = (0.1 + 0.9 * strength)[..., None]
    mixed = base[..., :3] * 0.3 * (1 - alpha) + colour * alpha
    return np.concatenate([mixed, np.full((*heat.shape, 1), 255.0)], axis=-1)


class ExplanationView(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ExplanationView")
        self.setMinimumSize(QSize(560, 300))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.shown: Shown | None = None
        self.message = "Choose a method: the explanation appears here."

    def show_explanation(self, shown: Shown | None, message: str = "") -> None:
        self.shown = shown
        self.message = message
        self.render_now()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.render_now()

    def render_now(self) -> None:
        if self.width() < 8 or self.height() < 8:
            return
        ratio = self.devicePixelRatioF()
        image = QImage(
            round(self.width() * ratio),
            round(self.height() * ratio),
            QImage.Format.Format_ARGB32_Premultiplied,
        )
        image.setDevicePixelRatio(ratio)
        colours = theme.current()
        image.fill(QColor(colours.canvas))
        painter = QPainter(image)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            if self.shown is None:
                painter.setPen(QColor(colours.text_dim))
                painter.drawText(
                    QRectF(0, 0, self.width(), self.height()),
                    Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                    self.message,
                )
            else:
                self._draw(painter, self.shown, colours)
        finally:
            painter.end()
        self.setPixmap(QPixmap.fromImage(image))

    # ------------------------------------------------------------ drawing
    def _draw(self, painter: QPainter, shown: Shown, colours: theme.Theme) -> None:
        found = shown.found
        width, height = float(self.width()), float(self.height())
        scores_width = min(220.0, width * 0.3)
        main = QRectF(10, 10, width - scores_width - 30, height - 20)
        scores = QRectF(width - scores_width - 10, 10, scores_width, height - 20)
        method = found.method
        if method == "attention" and found.attention is not None:
            self._attention(painter, shown, main, colours)
        elif shown.image:
            self._image(painter, shown, main, colours)
        elif shown.tokens:
            self._tokens(painter, shown, main, colours)
        else:
            self._bars(painter, shown, main, colours)
        self._scores(painter, shown, scores, colours)

    def _caption(self, painter: QPainter, rect: QRectF, text: str, colours: theme.Theme) -> None:
        painter.setPen(QColor(colours.text_dim))
        painter.setFont(theme.ui_font(8.5))
        painter.drawText(rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, text)

    def _image(self, painter: QPainter, shown: Shown, area: QRectF, colours: theme.Theme) -> None:
        from engine.explain.methods import picture_of

        found = shown.found
        heat = picture_of(found, tuple(shown.sample.shape))
        side = min(area.height() - 24, (area.width() - 20) / 2)
        base = grey_picture(shown.sample)
        pictures = [("the sample", base)]
        if heat is not None:
            method = found.method
            signed = method in SIGNED
            pictures.append(("what counted", overlay(base, heat, signed, colours.canvas)))
        for i, (name, rgba) in enumerate(pictures):
            left = area.left() + i * (side + 20)
            target = QRectF(left, area.top() + 20, side, side)
            self._caption(painter, QRectF(left, area.top(), side, 18), name, colours)
            painter.drawImage(target, rgba_image(rgba))
        if heat is not None and found.method in SIGNED:
            self._key(painter, QRectF(area.left(), area.top() + side + 24, side * 2 + 20, 16))

    def _key(self, painter: QPainter, rect: QRectF) -> None:
        painter.setFont(theme.ui_font(8))
        painter.setPen(QColor(HIGH))
        painter.drawText(rect, Qt.AlignmentFlag.AlignLeft, "■ for the class")
        painter.setPen(QColor(LOW))
        painter.drawText(rect, Qt.AlignmentFlag.AlignRight, "against it ■")

    def _bars(self, painter: QPainter, shown: Shown, area: QRectF, colours: theme.Theme) -> None:
        values = np.asarray(shown.found.attributions, np.float64).ravel()
        names = list(shown.features) or [f"x{i}" for i in range(len(values))]
        if len(names) != len(values):  # a sequence: one bar per value, numbered
            names = [f"value {i}" for i in range(len(values))]
        order = np.argsort(-np.abs(values))[:MOST_BARS]
        self._caption(
            painter,
            QRectF(area.left(), area.top(), area.width(), 18),
            "share of each feature",
            colours,
        )
        if not len(order):
            return
        label_width = min(190.0, area.width() * 0.42)
        top = area.top() + 22
        row = min(24.0, (area.height() - 26) / len(order))
        size = float(np.abs(values[order]).max()) or 1.0
        zero = (
            area.left()
            + label_width
            + (area.width() - label_width) * (0.5 if (values[order] < 0).any() else 0.02)
        )
        span = (
            (area.right() - zero - 50) if (values[order] >= 0).all() else (area.right() - zero - 40)
        )
        painter.setFont(theme.ui_font(8))
        for k, i in enumerate(order):
            y = top + k * row
            painter.setPen(QColor(colours.text))
            painter.drawText(
                QRectF(area.left(), y, label_width - 8, row),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                names[i],
            )
            length = values[i] / size * span
            bar = QRectF(zero, y + row * 0.18, length, row * 0.64).normalized()
            painter.fillRect(bar, QColor(HIGH if values[i] >= 0 else LOW))
            painter.setPen(QColor(colours.text_dim))
            text_x = bar.right() + 4 if values[i] >= 0 else bar.left() - 48
            painter.drawText(
                QRectF(text_x, y, 46, row), Qt.AlignmentFlag.AlignVCenter, f"{values[i]:+.3g}"
            )
        painter.setPen(QColor(colours.grid_major))
        painter.drawLine(QPointF(zero, top), QPointF(zero, top + len(order) * row))

    def _token_strip(
        self, painter: QPainter, tokens: list[str], values: np.ndarray, rect: QRectF, signed: bool
    ) -> None:
        cell = rect.width() / max(len(tokens), 1)
        size = float(np.abs(values).max()) or 1.0
        colours = theme.current()
        table = diverging_lookup(colours.canvas) if signed else HEAT
        painter.setFont(theme.ui_font(9, bold=True))
        for i, token in enumerate(tokens):
            value = values[i] / size
            index = int(np.clip((value + 1) * 127.5 if signed else value * 255, 0, 255))
            r, g, b = (int(c) for c in table[index][:3])
            box = QRectF(rect.left() + i * cell, rect.top(), cell - 2, rect.height())
            painter.fillRect(box, QColor(r, g, b))
            painter.setPen(QColor("#111111" if (r + g + b) > 380 else "#f0f0f0"))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, token)

    def _tokens(self, painter: QPainter, shown: Shown, area: QRectF, colours: theme.Theme) -> None:
        values = np.asarray(shown.found.attributions, np.float64).ravel()
        tokens = [str(int(t)) for t in np.ravel(shown.sample)]
        self._caption(
            painter,
            QRectF(area.left(), area.top(), area.width(), 18),
            "share of each token",
            colours,
        )
        strip = QRectF(area.left(), area.top() + 30, area.width(), min(40.0, area.width() / 16))
        self._token_strip(painter, tokens, values, strip, shown.found.method in SIGNED)
        painter.setPen(QColor(colours.text_dim))
        painter.setFont(theme.ui_font(8))
        painter.drawText(
            QRectF(area.left(), strip.bottom() + 6, area.width(), 16),
            Qt.AlignmentFlag.AlignLeft,
            "each cell is one token of the sample, in order; the brighter, the more it counted",
        )

    def _attention(
        self, painter: QPainter, shown: Shown, area: QRectF, colours: theme.Theme
    ) -> None:
        weights = np.asarray(shown.found.attention)
        heads, queries, keys = weights.shape
        tokens = [str(int(t)) for t in np.ravel(shown.sample)] if shown.tokens else []
        received = weights.mean(axis=(0, 1))
        strip_height = 0.0
        if len(tokens) == keys:
            strip = QRectF(area.left() + 18, area.top() + 18, area.width() - 18, 22)
            self._caption(
                painter,
                QRectF(area.left(), area.top(), area.width(), 16),
                "attention each token receives (all heads, all queries)",
                colours,
            )
            self._token_strip(painter, tokens, received, strip, False)
            strip_height = 48.0
        columns = min(heads, 4)
        rows = int(np.ceil(heads / columns))
        top = area.top() + strip_height
        side = min(
            (area.width() - 12 * columns) / columns, (area.height() - strip_height) / rows - 22
        )
        painter.setFont(theme.ui_font(8))
        for h in range(heads):
            r, c = divmod(h, columns)
            left = area.left() + c * (side + 12)
            y = top + r * (side + 22)
            self._caption(painter, QRectF(left, y, side, 16), f"head {h + 1}", colours)
            values = weights[h] / max(float(weights[h].max()), 1e-9)
            index = (np.clip(values, 0, 1) * 255).astype(np.uint8)
            box = QRectF(left, y + 18, side, side * queries / keys)
            painter.drawImage(box, rgba_image(HEAT[index]))
            if len(tokens) == keys and side / keys >= 7:
                painter.setPen(QColor(colours.text_dim))
                painter.setFont(theme.ui_font(6))
                for k, token in enumerate(tokens):
                    cell = QRectF(box.left() + k * side / keys, box.bottom() + 1, side / keys, 10)
                    painter.drawText(cell, Qt.AlignmentFlag.AlignCenter, token)
        self._caption(
            painter,
            QRectF(area.left(), area.bottom() - 16, area.width(), 16),
            "each map: rows are the queries, columns the keys (the sample's tokens, in order)",
            colours,
        )

    def _scores(self, painter: QPainter, shown: Shown, area: QRectF, colours: theme.Theme) -> None:
        found = shown.found
        probabilities = found.probabilities
        values = np.asarray(probabilities if probabilities is not None else found.scores)
        target = int(found.target)
        count = min(len(values), 12)
        title = "probability of each class" if probabilities is not None else "outputs"
        self._caption(painter, QRectF(area.left(), area.top(), area.width(), 18), title, colours)
        if not count:
            return
        row = min(22.0, (area.height() - 24) / count)
        label_width = 70.0
        size = float(np.abs(values[:count]).max()) or 1.0
        painter.setFont(theme.ui_font(8))
        for i in range(count):
            y = area.top() + 22 + i * row
            name = shown.classes[i] if i < len(shown.classes) else str(i)
            painter.setPen(QColor(colours.text if i == target else colours.text_dim))
            painter.drawText(
                QRectF(area.left(), y, label_width - 6, row),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                name[:10],
            )
            length = abs(values[i]) / size * (area.width() - label_width - 44)
            colour = QColor(HIGH) if i == target else QColor(colours.node_border)
            painter.fillRect(
                QRectF(area.left() + label_width, y + row * 0.2, length, row * 0.6), colour
            )
            painter.setPen(QColor(colours.text_dim))
            text = f"{values[i]:.0%}" if probabilities is not None else f"{values[i]:.3g}"
            painter.drawText(
                QRectF(area.left() + label_width + length + 4, y, 44, row),
                Qt.AlignmentFlag.AlignVCenter,
                text,
            )
