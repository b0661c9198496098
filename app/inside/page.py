"""The dashboard's Inside tab: the data as each layer sees it, from the input to the answer.

A strip of small views across the depth of the network, or one layer at a
time with a depth slider; flat (2-D) or in 3-D, turned by dragging; for a
network of two inputs also each unit's picture over the input plane
(Neurons). A layer inside a block use is titled by its path, as the
breadcrumbs write it (``block1 › conv1``). The training thread sends a look about once a second while this
tab is shown (`wanted`), and always the trained network's at the end of a run.

Work on the UI thread is drawing only, and little of it per frame: a look
marks the views that changed, and each 25 Hz frame redraws at most
`RENDERS_PER_FRAME` of them (numpy draws the points, Qt is handed one
picture), so a strip of ten layers updates within half a second and no frame
holds the UI thread for long.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSlider,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.inside.look import InsideFrame
from app.inside.neurons_view import NeuronsView
from app.inside.scatter import START_TURN, ScatterView, group_colours, rotation
from engine.layer_paths import shown

VIEWS_PER_FRAME = 1  # views made per frame when a network's first look arrives
RENDERS_PER_FRAME = 1  # a drawing takes a few milliseconds: one per frame keeps frames short
TURN_PER_PIXEL = 0.01  # radians per pixel dragged
HINT = (
    "Train (F5) to see inside the network: each layer's view of the validation samples, "
    "coloured by class, updated about once a second."
)
STRIP, SINGLE, NEURONS = "strip", "single", "neurons"


def axis_names(layer: Any, first: bool) -> tuple[str, str, str]:
    """What the axes are: the inputs, a small layer's own units, or principal components."""
    if layer.exact and first:
        return ("x₁", "x₂", "x₃")
    if layer.exact:
        return ("unit 1", "unit 2", "unit 3")
    return ("PC1", "PC2", "PC3")


def subtitle(layer: Any) -> str:
    units = f"{layer.units:,} unit{'s' if layer.units != 1 else ''}"
    if layer.exact:
        return f"{layer.kind} · {units}, as they are"
    return f"{layer.kind} · {units} · PCA {layer.explained:.0%}"


class InsidePage(QWidget):
    """See the module docstring. `look_requested` asks for a look at saved weights."""

    look_requested = Signal()

    def __init__(self, wanted: threading.Event | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("InsidePage")
        self.wanted = wanted or threading.Event()  # read by the training thread's look
        self.mode = STRIP
        self.three_d = True
        self.turn = START_TURN
        self.layers: list[Any] = []  # the latest look's LayerPoints
        self.groups = np.zeros(0, np.int64)
        self.colours = group_colours(1, True)
        self.group_names: tuple[str, ...] | None = None
        self.epoch: float | None = None
        self.final = False
        self.frames = 0
        self.views: list[ScatterView] = []
        self.has_neurons = False
        self._views_wanted = 0  # views still to make for the latest network
        self._queued_first: InsideFrame | None = None
        self._queued: InsideFrame | None = None
        self.drawing = QTimer(self)  # draws what is left to draw, a little per frame, then stops
        self.drawing.setInterval(40)
        self.drawing.timeout.connect(self._draw_some)
        self._build()

    # -------------------------------------------------------------- layout
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(4)
        layout.addWidget(self._header())
        self.stack = QStackedWidget()
        hint_page = QWidget()
        hint_layout = QVBoxLayout(hint_page)
        self.hint = QLabel(HINT)
        self.hint.setWordWrap(True)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.saved_button = QPushButton("Look inside with the saved weights")
        self.saved_button.setToolTip("Run the validation samples through the trained network")
        self.saved_button.clicked.connect(self.look_requested.emit)
        self.saved_button.hide()
        hint_layout.addStretch(1)
        hint_layout.addWidget(self.hint)
        hint_layout.addWidget(self.saved_button, 0, Qt.AlignmentFlag.AlignHCenter)
        hint_layout.addStretch(1)
        self.strip = QScrollArea()
        self.strip.setWidgetResizable(True)
        self.strip.setFrameShape(QScrollArea.Shape.NoFrame)
        self.strip_holder = QWidget()
        self.strip_row = QHBoxLayout(self.strip_holder)
        self.strip_row.setContentsMargins(0, 0, 0, 0)
        self.strip_row.setSpacing(6)
        self.strip.setWidget(self.strip_holder)
        self.single = ScatterView(minimum=220)
        self.single.turned.connect(self._turned)
        self.single.resized.connect(self.schedule)
        self.neurons = NeuronsView()
        for page in (hint_page, self.strip, self.single, self.neurons):
            self.stack.addWidget(page)
        layout.addWidget(self.stack, 1)

    def _header(self) -> QWidget:
        header = QWidget()
        row = QHBoxLayout(header)
        row.setContentsMargins(0, 0, 0, 0)
        self.mode_buttons: dict[str, QPushButton] = {}
        group = QButtonGroup(self)
        for text, mode, tip in (
            ("All layers", STRIP, "Every layer side by side, from the input to the answer"),
            ("One layer", SINGLE, "One layer large; the slider moves through the depth"),
            ("Neurons", NEURONS, "Each unit's output over the input plane (2-D inputs)"),
        ):
            button = QPushButton(text)
            button.setObjectName("SegmentButton")
            button.setCheckable(True)
            button.setToolTip(tip)
            button.setChecked(mode == self.mode)
            button.clicked.connect(lambda _c=False, m=mode: self.set_mode(m))
            group.addButton(button)
            row.addWidget(button)
            self.mode_buttons[mode] = button
        self.mode_buttons[NEURONS].hide()
        row.addSpacing(10)
        dims = QButtonGroup(self)
        self.dim_buttons: dict[bool, QPushButton] = {}
        for text, three in (("2-D", False), ("3-D", True)):
            button = QPushButton(text)
            button.setObjectName("SegmentButton")
            button.setCheckable(True)
            button.setChecked(three == self.three_d)
            button.setToolTip(
                "Three axes; drag a view to turn them all" if three else "The two main axes"
            )
            button.clicked.connect(lambda _c=False, t=three: self.set_three_d(t))
            dims.addButton(button)
            row.addWidget(button)
            self.dim_buttons[three] = button
        row.addSpacing(10)
        self.depth_slider = QSlider(Qt.Orientation.Horizontal)
        self.depth_slider.setRange(0, 0)
        self.depth_slider.setFixedWidth(180)
        self.depth_slider.setToolTip("Which layer: from the input (left) to the answer (right)")
        self.depth_slider.valueChanged.connect(lambda _v: self._show_single())
        self.depth_label = QLabel("")
        self.depth_label.setMinimumWidth(90)
        row.addWidget(self.depth_slider)
        row.addWidget(self.depth_label)
        row.addStretch(1)
        self.legend = QLabel("")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        row.addWidget(self.legend)
        self.status = QLabel("")
        self.status.setObjectName("InsideStatus")
        row.addWidget(self.status)
        self._update_controls()
        return header

    # ------------------------------------------------------------ controls
    def set_mode(self, mode: str) -> None:
        if mode == NEURONS and not self.has_neurons:
            mode = STRIP
        self.mode = mode
        self.mode_buttons[mode].setChecked(True)
        self._update_controls()
        self._show_page()
        self._draw_soon()

    def set_three_d(self, on: bool) -> None:
        self.three_d = on
        self.dim_buttons[on].setChecked(True)
        self._set_views()
        self._draw_soon()

    def _draw_soon(self, first: ScatterView | None = None) -> None:
        """The view in front (or `first`, the one being dragged) now, the others over the next
        frames: turning ten views at once would hold the window up for tens of milliseconds."""
        view = first or (self.single if self.mode == SINGLE else None)
        if view is not None and self.isVisible():
            view.render_now()
        if self.mode == NEURONS:
            self.neurons.refresh()
        self.schedule()

    def set_depth(self, index: int) -> None:
        self.depth_slider.setValue(index)

    def _update_controls(self) -> None:
        single = self.mode == SINGLE
        self.depth_slider.setVisible(single)
        self.depth_label.setVisible(single)
        for button in self.dim_buttons.values():
            button.setEnabled(self.mode != NEURONS)

    def _show_page(self) -> None:
        if not self.layers:
            self.stack.setCurrentIndex(0)
            return
        index = {STRIP: 1, SINGLE: 2, NEURONS: 3}[self.mode]
        self.stack.setCurrentIndex(index)

    def _turned(self, dx: float, dy: float) -> None:
        """A drag on any view turns them all (the same angle for every layer)."""
        self.turn = rotation(dx * TURN_PER_PIXEL, dy * TURN_PER_PIXEL) @ self.turn
        self._set_views()
        dragged = self.sender()
        self._draw_soon(dragged if isinstance(dragged, ScatterView) else None)

    # --------------------------------------------------------------- a run
    def begin_run(self) -> None:
        self._queued_first = self._queued = None
        self.layers = []
        self.epoch = None
        self.final = False
        self.frames = 0
        self.status.setText("waiting for the first look…")
        self._show_page()

    def offer_saved(self, available: bool) -> None:
        """Show the button that looks inside saved weights (when there are some)."""
        self.saved_button.setVisible(available and not self.layers)

    def add(self, frame: InsideFrame) -> None:
        """A look from the training thread (or from saved weights). While the tab is hidden it
        is only kept (the first of a run, with its colours, and the latest) and taken in when
        the tab is shown: a hidden tab costs the window nothing."""
        if frame.groups is not None:
            self._queued_first, self._queued = frame, None
        else:
            self._queued = frame
        if self.isVisible():
            self._take_queued()

    def _take_queued(self) -> None:
        for frame in (self._queued_first, self._queued):
            if frame is not None:
                self._take(frame)
        self._queued_first = self._queued = None

    def _take(self, frame: InsideFrame) -> None:
        first = frame.groups is not None
        if first:
            self._take_colours(frame)
            if frame.plane is not None:
                titles = {n: f"{n} ({frame.neurons[n].shape[0]})" for n in frame.neurons}
                self.neurons.set_layers(frame.plane, titles)
            self.has_neurons = frame.plane is not None
            self.mode_buttons[NEURONS].setVisible(self.has_neurons)
            if not self.has_neurons and self.mode == NEURONS:
                self.mode = STRIP
        if len(self.views) + self._views_wanted != len(frame.layers):
            self._make_views(frame.layers)  # another network: its views, made a few per frame
        self.layers = frame.layers
        self.epoch, self.final = frame.epoch, frame.final
        self.frames += 1
        if frame.neurons:
            self.neurons.add(frame.neurons)
        for index, (view, layer) in enumerate(zip(self.views, self.layers)):
            axes = axis_names(layer, index == 0)
            view.set_points(layer.points2, layer.points3, shown(layer.node), subtitle(layer), axes)
        self._show_single(render=False)
        when = "trained network" if frame.final else f"epoch {frame.epoch:.1f}"
        status = f"{when} · {len(self.groups):,} validation samples"
        if frame.left_out:  # a network of many blocks: only the first layers inside them
            status += (
                f" · {len(frame.layers)} layers shown, {frame.left_out} inside blocks left out"
            )
        self.status.setText(status)
        self.saved_button.hide()
        self._show_page()
        self.schedule()

    def _take_colours(self, frame: InsideFrame) -> None:
        groups = frame.groups if frame.groups is not None else np.zeros(0, np.int64)
        self.groups = groups
        count = int(groups.max()) + 1 if len(groups) else 1
        self.colours = group_colours(count, frame.by_class)
        self.group_names = frame.group_names
        names = frame.group_names or (
            tuple(f"band {i + 1}" for i in range(count)) if not frame.by_class else ()
        )
        chips = [
            f"<span style='color:{self.colours[i].name()}'>●</span>&nbsp;{name}"
            for i, name in enumerate(names[:10])
        ]
        self.legend.setText("&nbsp;&nbsp;".join(chips))
        for view in [*self.views, self.single]:
            view.set_groups(groups, self.colours)

    def _make_views(self, layers: list[Any]) -> None:
        """Drop the views of another network; the new ones are made on the next frames."""
        while self.strip_row.count():
            item = self.strip_row.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.views = []
        self._views_wanted = len(layers)
        self.single.set_groups(self.groups, self.colours)
        self.depth_slider.setRange(0, max(len(layers) - 1, 0))
        self._set_views()

    def _grow_views(self, count: int) -> None:
        """Make up to `count` of the views still missing: making ten at once (forty widgets)
        took tens of milliseconds on a busy machine, a stall the window would feel."""
        while count > 0 and self._views_wanted > 0:
            index = len(self.views)
            view = ScatterView()
            view.set_groups(self.groups, self.colours)
            view.set_view(self.three_d, self.turn)
            view.turned.connect(self._turned)
            view.resized.connect(self.schedule)
            view.opened.connect(lambda i=index: self._open(i))
            if index < len(self.layers):
                layer = self.layers[index]
                axes = axis_names(layer, index == 0)
                view.set_points(
                    layer.points2, layer.points3, shown(layer.node), subtitle(layer), axes
                )
            self.strip_row.addWidget(view)
            self.views.append(view)
            self._views_wanted -= 1
            count -= 1

    def _open(self, index: int) -> None:
        """A double click on a layer of the strip: that layer alone, large."""
        self.set_mode(SINGLE)
        self.set_depth(index)

    def _set_views(self) -> None:
        for view in [*self.views, self.single]:
            view.set_view(self.three_d, self.turn)

    def _show_single(self, render: bool = True) -> None:
        if not self.layers:
            return
        index = min(self.depth_slider.value(), len(self.layers) - 1)
        layer = self.layers[index]
        title = f"{shown(layer.node)}  ({index + 1} of {len(self.layers)})"
        axes = axis_names(layer, index == 0)
        self.single.set_points(layer.points2, layer.points3, title, subtitle(layer), axes)
        self.depth_label.setText(shown(layer.node))
        if render and self.mode == SINGLE:
            self.single.render_now()

    # -------------------------------------------------------------- drawing
    def refresh(self, everything: bool = False) -> None:
        """Redraw what changed, a little per frame (the caller only asks while it is shown)."""
        if self.mode == NEURONS:
            self.neurons.refresh()
            return
        self._grow_views(self._views_wanted if everything else VIEWS_PER_FRAME)
        shown = [self.single] if self.mode == SINGLE else self.views
        budget = len(shown) if everything else RENDERS_PER_FRAME
        for view in shown:
            if budget <= 0:
                break
            if view.dirty:
                view.render_now()
                budget -= 1

    def schedule(self) -> None:
        """Something needs drawing: draw it over the next frames (while shown)."""
        if not self.drawing.isActive() and self.isVisible():
            self.drawing.start()

    def _draw_some(self) -> None:
        self.refresh()
        shown = [self.single] if self.mode == SINGLE else self.views
        done = not self._views_wanted and not any(view.dirty for view in shown)
        if self.mode == NEURONS or done:
            self.drawing.stop()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.wanted.set()
        self._take_queued()
        self._draw_soon()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self.wanted.clear()


__all__ = ["InsidePage"]
