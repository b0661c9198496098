"""The GAN page of the training dashboard: two losses, D(real) and D(fake), and the samples.

It has no timer or thread of its own: `consume` runs on the training
controller's frame (25 Hz) with the figures drained from the one live buffer,
and redraws what changed; the sample picture is renewed a few times a second
at most, from the GAN step's thread-safe `samples()`. The warnings the engine
raises (mode collapse) and a diverged run are shown above the charts in the
warning colours.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QStackedWidget, QVBoxLayout, QWidget

from app.dashboard import style
from app.dashboard.live_curves import LiveCurves
from app.gan.samples import SampleGrid, SampleScatter
from app.training.buffer import Drained
from designer import theme
from engine.gan.lines import gan_epoch_line

if TYPE_CHECKING:
    import torch

    from engine.gan.step import GanStep

SAMPLES_EVERY = 0.2  # seconds between renewals of the sample picture
GENERATOR, DISCRIMINATOR = style.SERIES[0], style.SERIES[1]
REAL, FAKE = style.SERIES[2], style.SERIES[3]


class GanView(QWidget):
    def __init__(
        self, say: Callable[[str, str], None] | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("GanView")
        self.say = say or (lambda _text, _kind: None)
        self.step: GanStep | None = None  # the running GAN's step, once planned
        self.epochs: int | None = None
        self.loss_kind = "non_saturating"
        self.two_d = False
        self.range: tuple[float, float] = (-1.0, 1.0)
        self.ready = False  # the run's real data and step have been picked up
        self.running = False  # between begin() and finish()
        self.last_samples = 0.0
        self.warnings: list[str] = []
        self.per_batch = True
        self.losses = LiveCurves("Generator and discriminator loss", "loss")
        self.scores = LiveCurves("D(real) and D(fake)", "D(x)")
        self._define_series()
        self.grid = SampleGrid()
        self.scatter = SampleScatter()
        self.samples = QStackedWidget()
        self.samples.addWidget(self.grid)
        self.samples.addWidget(self.scatter)
        self._build()

    def _define_series(self) -> None:
        self.losses.define("g_batch", GENERATOR, label="generator", width=1.6, smooth=True)
        self.losses.define("d_batch", DISCRIMINATOR, label="discriminator", width=1.6, smooth=True)
        self.losses.define("g", GENERATOR, label="generator", width=2.2, symbol="o")
        self.losses.define("d", DISCRIMINATOR, label="discriminator", width=2.2, symbol="o")
        self.scores.define("real", REAL, label="D(real)", width=2.2, symbol="o")
        self.scores.define("fake", FAKE, label="D(fake)", width=2.2, symbol="o")
        # the titles name the series in their colours, so no legend covers a curve
        _colour_title(
            self.losses,
            ("Generator", GENERATOR),
            " and ",
            ("discriminator", DISCRIMINATOR),
            " loss",
        )
        _colour_title(self.scores, ("D(real)", REAL), " and ", ("D(fake)", FAKE))
        self.set_per_batch(True)

    def _build(self) -> None:
        self.figures = QLabel("Press Train (F5): the generator and discriminator train in turns")
        self.figures.setObjectName("GanFigures")
        self.figures.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.warning = QLabel("")
        self.warning.setObjectName("GanWarning")
        self.warning.setWordWrap(True)
        self.warning.hide()
        self.caption = QLabel("Samples from fixed latent vectors")
        self.caption.setObjectName("ChartTitle")
        right = QVBoxLayout()
        right.setContentsMargins(6, 2, 4, 0)
        right.setSpacing(2)
        right.addWidget(self.caption)
        right.addWidget(self.samples, 1)
        charts = QHBoxLayout()
        charts.setContentsMargins(0, 0, 0, 0)
        charts.addWidget(self.losses, 4)
        charts.addWidget(self.scores, 3)
        left = QVBoxLayout()
        left.setSpacing(2)
        left.addWidget(self.figures)
        left.addWidget(self.warning)
        left.addLayout(charts, 1)
        layout = QHBoxLayout(self)  # the samples take the page's whole height
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addLayout(left, 7)
        layout.addLayout(right, 4)

    # ------------------------------------------------------------ settings
    def set_per_batch(self, on: bool) -> None:
        """The losses per batch (smoothed) or per epoch, as the dashboard's switch says."""
        self.per_batch = on
        for name in ("g_batch", "d_batch"):
            self.losses.set_visible(name, on)
        for name in ("g", "d"):
            self.losses.set_visible(name, not on)

    def set_smoothing(self, weight: float) -> None:
        self.losses.set_smoothing(weight)

    # --------------------------------------------------------------- a run
    def begin(self) -> None:
        """A new run: the curves drawn so far stay behind, faint."""
        self.step = None
        self.running = True
        self.ready = False
        self.warnings = []
        self._show_warnings([], "")
        self.losses.begin_run()
        self.scores.begin_run()
        self.last_samples = 0.0
        self.figures.setText("Preparing the real data and compiling both networks…")

    def pick_up(self, step: GanStep, real: torch.Tensor, info: dict[str, Any]) -> None:
        """The run is planned: its real data decides the picture (grid or scatter)."""
        self.step = step
        self.epochs = info.get("epochs")
        self.loss_kind = str(info.get("loss", "non_saturating"))
        probability = self.loss_kind == "non_saturating"
        self.scores.plot.setLabel(
            "left", "probability" if probability else "score", color=style.axis_colour()
        )
        self.two_d = tuple(real.shape[1:]) == (2,)
        self.range = (float(real.min()), float(real.max()))
        self.samples.setCurrentWidget(self.scatter if self.two_d else self.grid)
        if self.two_d:
            self.scatter.clear_points()
            self.scatter.set_real(real.reshape(len(real), 2).numpy())
            self.caption.setText("Generated points (red) over the real data (grey)")
        else:
            self.grid.clear()
            count = step.fixed_latents.shape[0]
            self.caption.setText(f"Samples from {count} fixed latent vectors")
        self.figures.setText(
            f"{info.get('generator_parameters', 0):,} generator and "
            f"{info.get('discriminator_parameters', 0):,} discriminator parameters · "
            f"{info.get('train_samples', 0):,} real samples · {self.loss_kind} loss"
        )
        self.ready = True

    def consume(self, new: Drained, force: bool = False) -> None:
        """One frame: new figures onto the charts, the samples at most every SAMPLES_EVERY."""
        if not self.running:
            return
        batches = [(x, losses) for x, losses, _lr in new.batches if "d_loss" in losses]
        if batches:
            xs = np.asarray([x for x, _ in batches], np.float64)
            d_losses = np.asarray([losses["d_loss"] for _, losses in batches], np.float64)
            g_losses = np.asarray([losses.get("g_loss", math.nan) for _, losses in batches])
            self.losses.extend("d_batch", xs, d_losses)
            stepped = np.isfinite(g_losses)
            self.losses.extend("g_batch", xs[stepped], g_losses[stepped])
        for metrics in new.epochs:
            self._add_epoch(metrics)
        if new.samples is not None and self.two_d:
            self.scatter.set_generated(new.samples.numpy())
        visible = self.isVisible() or force
        now = time.perf_counter()
        if self.ready and self.step is not None and not self.two_d and visible:
            if force or now - self.last_samples >= SAMPLES_EVERY:
                self.show_samples(self.step.samples().numpy())
                self.last_samples = now
        if visible:
            self.losses.refresh(force)
            self.scores.refresh(force)

    def show_samples(self, samples: np.ndarray) -> None:
        self.grid.set_samples(samples, *self.range)

    def _add_epoch(self, metrics: dict[str, Any]) -> None:
        epoch = float(metrics["epoch"])
        for chart, key, name in (
            (self.losses, "g_loss", "g"),
            (self.losses, "d_loss", "d"),
            (self.scores, "d_real", "real"),
            (self.scores, "d_fake", "fake"),
        ):
            value = metrics.get(key)
            if value is not None and math.isfinite(value):
                chart.extend(name, [epoch], [float(value)])
        self.figures.setText(
            gan_epoch_line(metrics, self.epochs, self.loss_kind == "non_saturating")
        )
        warnings = list(metrics.get("warnings", []))
        if warnings != self.warnings:
            for warning in warnings:
                self.say(f"warning: {warning}", "warning")
        self.warnings = warnings
        self._show_warnings(warnings, "warning")

    def _show_warnings(self, lines: list[str], kind: str) -> None:
        if not lines:
            self.warning.hide()
            return
        t = theme.current()
        colour = t.error if kind == "error" else t.warning
        mark = "✖" if kind == "error" else "⚠"
        self.warning.setText("\n".join(f"{mark} {line}" for line in lines))
        self.warning.setStyleSheet(f"color: {colour}; font-weight: 600;")
        self.warning.show()

    def finish(self, outcome: Any) -> None:
        """The run ended: the last figures, the final samples, and why it ended if it diverged."""
        self.consume(Drained(), force=True)  # the final samples (the last cloud came with them)
        result = outcome.result
        if result.status == "diverged":
            self._show_warnings(
                [
                    f"diverged: {result.message}. The last good epoch's weights are kept; lower "
                    "the learning rates or try the hinge or wgan_gp loss"
                ],
                "error",
            )
        self.running = False
        self.step = None
        self.losses.refresh(True)
        self.scores.refresh(True)


def _colour_title(chart: LiveCurves, *parts: str | tuple[str, str]) -> None:
    """The chart's title with its series' names in their own colours, in place of a legend."""
    title = chart.findChild(QLabel, "ChartTitle")
    if title is None:
        return
    html = "".join(
        part if isinstance(part, str) else f'<span style="color:{part[1]}">{part[0]}</span>'
        for part in parts
    )
    title.setTextFormat(Qt.TextFormat.RichText)
    title.setText(html)
    chart.legend.hide()
