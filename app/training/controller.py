"""Train, pause, resume and stop from the window; the run's lifecycle; the weights it leaves.

The controller owns the Training toolbar (Train F5, Pause/Resume, Stop
Shift+F5, the device), the progress in the status bar and one run at a time.
Train takes a deep copy of the project, locks the graph (the canvas shows a
banner) and starts a `TrainingWorker`. A 25 Hz timer drains the worker's
buffer into the dashboard and the canvas swatches; lifecycle events arrive as
queued signals. Every way a run can fail ends in the same place: the graph
unlocked, a banner and a message saying what went wrong, the log holding the
details, the application still working.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMessageBox,
    QProgressBar,
    QToolBar,
)

from app.dashboard.dashboard import TrainingDashboard
from app.dashboard.log_panel import LogPanel
from app.dashboard.node_overlay import CanvasActivations
from app.panels.data_panel import DataPanel
from app.panels.training_settings import TrainingSettingsPanel
from app.training.buffer import LiveBuffer
from app.training.regions_look import regions_look
from app.training.weights_keeper import WeightsKeeper
from designer import theme
from engine.layer_paths import layer_types
from engine.project import Project
from engine.settings import TrainingSettings
from engine.training.status import DIVERGED, STOPPED, epoch_line

if TYPE_CHECKING:
    from app.main_window import MainWindow
    from app.training.worker import Look, RunOutcome, TrainingWorker

REFRESH_MS = 40  # the dashboard's frame rate: 25 Hz, whatever the batch rate
DEVICE_KEY = "training/device"
STOP_WAIT_MS = 5000
STATUS_EVERY = 0.25  # seconds between status-bar progress updates


def device_choices() -> list[tuple[str, str]]:
    """(label, device) for every device here: the CPU, each CUDA GPU by name, Apple's MPS.
    Asks torch: call it once torch is loaded (after the window's first paint)."""
    import torch

    from engine.training.devices import available_devices

    choices = [("CPU", "cpu")]
    for name in available_devices():
        if name.startswith("cuda:"):
            index = int(name.split(":")[1])
            choices.append((f"GPU {index}: {torch.cuda.get_device_name(index)}", name))
        elif name == "mps":
            choices.append(("Apple GPU (MPS)", "mps"))
    return choices


def snapshot(project: Project) -> Project:
    """A deep copy the worker can own: nothing in it is shared with the editor's project."""
    return Project(
        project.name,
        project.graph.copy(),
        copy.deepcopy(project.dataset),
        copy.deepcopy(project.training),
        copy.deepcopy(project.extra),
        project.path,
        {name: graph.copy() for name, graph in project.networks.items()},
        copy.deepcopy(project.recipe),
    )


def clock(seconds: float) -> str:
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class TrainingController(QObject):
    run_started = Signal()
    run_planned = Signal(object)  # the run's start info, once its data and networks are ready
    devices_found = Signal(list)  # [(label, device)], once torch is loaded and has looked
    run_finished = Signal(object)  # RunOutcome
    run_failed = Signal(str)  # the message shown
    frame = Signal(object)  # every tick: the Drained figures (perhaps none), for the live pages

    def __init__(self, window: MainWindow, settings: QSettings) -> None:
        super().__init__(window)
        self.window = window
        self.document = window.document
        self.settings = settings
        self.quiet = False  # no modal dialogs (screenshots, benchmarks): banner and log only
        self.buffer = LiveBuffer()
        self.looks: list[Look] = [regions_look]  # live views add theirs (the GAN page)
        self.worker: TrainingWorker | None = None
        self.last_outcome: RunOutcome | None = None
        self.last_error: str | None = None
        self.info: dict[str, Any] = {}
        self._epoch_line: Callable[[dict[str, Any], int | None], str] = epoch_line
        self.started_at = 0.0
        self._status_at = 0.0
        self.docks: dict[str, QDockWidget] = {}
        self.dashboard = TrainingDashboard()
        self.settings_panel = TrainingSettingsPanel(self.document)
        self.data_panel = DataPanel(self.document)
        self.log = LogPanel()
        self.canvas = CanvasActivations(window.scene)
        self.weights = WeightsKeeper(self.document, self.log)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.tick)
        self.actions: dict[str, QAction] = {}
        self._filling = False
        self._build_actions()
        self.toolbar = self._build_toolbar()
        self._build_status()
        self.document.project_replaced.connect(self._project_replaced)
        window.installEventFilter(self)
        self._update_actions()

    # ---------------------------------------------------------------- UI
    def _action(
        self, name: str, text: str, slot: Any, keys: str | None, icon: str, colour: str, tip: str
    ) -> QAction:
        action = QAction(theme.layer_icon(icon, colour), text, self.window)
        if keys:
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        action.setToolTip(f"{tip} ({keys})" if keys else tip)
        action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        self.actions[name] = action
        return action

    def _build_actions(self) -> None:
        self._action(
            "train",
            "Train",
            self.train,
            "F5",
            "mdi6.play",
            "#5fd08a",
            "Train the network on its data set (resumes when paused)",
        )
        self._action(
            "pause",
            "Pause",
            self.toggle_pause,
            None,
            "mdi6.pause",
            "#f0b43c",
            "Pause training after the current batch; press again to resume",
        )
        self._action(
            "stop",
            "Stop",
            self.stop,
            "Shift+F5",
            "mdi6.stop",
            "#ff5c5c",
            "Stop training after the current batch, keeping the weights learnt so far",
        )
        self._action(
            "save_weights",
            "Save Weights As…",
            self.save_weights_as,
            None,
            "mdi6.content-save-outline",
            "#9aa1ad",
            "Write the trained weights to a .safetensors file",
        )

    def _build_toolbar(self) -> QToolBar:
        bar = QToolBar("Training", self.window)
        bar.setObjectName("TrainingToolbar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for name in ("train", "pause", "stop"):
            bar.addAction(self.actions[name])
        # Where other ways to run go (helper-5's "Train on N GPUs"): insert before this separator
        # with `toolbar.insertAction(controller.launcher_slot, action)`.
        self.launcher_slot = bar.addSeparator()
        label = QLabel("Device")
        label.setObjectName("ToolbarLabel")
        bar.addWidget(label)
        self.device_box = QComboBox()
        self.device_box.setObjectName("DeviceSelector")
        self.device_box.setToolTip("Where training runs; remembered between sessions")
        self.device_box.addItem("CPU", "cpu")  # the rest once torch has looked (refresh_devices)
        self.device_box.currentIndexChanged.connect(self._device_chosen)
        bar.addWidget(self.device_box)
        self.window.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        return bar

    def _build_status(self) -> None:
        self.progress = QProgressBar()
        self.progress.setObjectName("TrainingProgress")
        self.progress.setFixedWidth(160)
        self.progress.setMaximumHeight(14)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.progress_label = QLabel("")
        self.progress_label.setObjectName("TrainingStatus")
        self.progress_label.hide()
        bar = self.window.statusBar()
        bar.insertPermanentWidget(0, self.progress_label)
        bar.insertPermanentWidget(1, self.progress)

    def refresh_devices(self) -> None:
        """List every device here (torch must be loaded: the window warms it up after its first
        paint) and choose the remembered one, else the first GPU."""
        choices = device_choices()
        remembered = str(self.settings.value(DEVICE_KEY, ""))
        default = remembered or next((v for _t, v in choices if v != "cpu"), "cpu")
        self._filling = True
        try:
            self.device_box.clear()
            for text, value in choices:
                self.device_box.addItem(text, value)
            self.device_box.setCurrentIndex(max(self.device_box.findData(default), 0))
        finally:
            self._filling = False
        self.document.set_training_device(self.device)
        self.devices_found.emit(choices)

    def _device_chosen(self, _index: int) -> None:
        if not self._filling:
            self.settings.setValue(DEVICE_KEY, self.device)
            self.document.set_training_device(self.device)  # does the run fit it?

    @property
    def device(self) -> str:
        return str(self.device_box.currentData() or "cpu")

    @property
    def running(self) -> bool:
        return self.worker is not None

    @property
    def paused(self) -> bool:
        return self.worker is not None and self.worker.paused

    def _update_actions(self) -> None:
        running = self.running
        self.actions["train"].setEnabled(not running or self.paused)
        self.actions["train"].setText("Resume" if self.paused else "Train")
        self.actions["pause"].setEnabled(running)
        self.actions["pause"].setText("Resume" if self.paused else "Pause")
        self.actions["stop"].setEnabled(running)
        self.actions["save_weights"].setEnabled(self.weights.has_weights and not running)
        self.device_box.setEnabled(not running)

    # ----------------------------------------------------------- control
    def train(
        self, make_worker: Callable[[Project, TrainingSettings], TrainingWorker] | None = None
    ) -> bool:
        """Start a run (F5); when paused, resume instead. False when nothing started.
        `make_worker` runs something else in the training worker's place (a search's trials)."""
        if self.running:
            if self.paused:
                self.toggle_pause()
            return False
        self.document.leave_block(0)  # the live views are the network's layers, shown
        project = snapshot(self.document.project)
        settings = TrainingSettings.from_project(project, {"device": self.device})
        self.buffer = LiveBuffer()
        self.worker = (make_worker or self.make_worker)(project, settings)
        self.worker.planned.connect(self._planned)
        self.worker.finished_run.connect(self._finished)
        self.worker.failed.connect(self._failed)
        worker = self.worker
        worker.finished.connect(lambda: self._thread_done(worker))
        self.last_error = None
        self.started_at = time.perf_counter()
        self.window.set_read_only(True)
        self.dashboard.set_banner("Preparing data and compiling the network…", "running")
        self.log.say(f"Training '{project.name}' on {self.device_box.currentText()}")
        self.progress.setValue(0)
        self.progress.show()
        self.progress_label.setText("Preparing…")
        self.progress_label.show()
        self.worker.start()
        self.timer.start()
        self._update_actions()
        self.run_started.emit()
        return True

    def make_worker(self, project: Project, settings: TrainingSettings) -> TrainingWorker:
        """The run for this project, whatever kind: the live views look in through `looks`."""
        from app.training.worker import TrainingWorker  # loads torch, if warm-up has not yet

        return TrainingWorker(project, settings, self.buffer, self.looks)

    def toggle_pause(self) -> None:
        worker = self.worker
        if worker is None:
            return
        if worker.paused:
            worker.resume()
            self.dashboard.set_banner(self._running_text(), "running")
            self.log.say("Resumed")
            self.canvas.set_live(True)
        else:
            worker.pause()
            self.dashboard.set_banner("Paused — press Resume (F5) to go on, or Stop", "paused")
            self.log.say("Paused")
            self.canvas.set_live(False)
        self._update_actions()

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.dashboard.set_banner("Stopping after this batch…", "paused")
            self.log.say("Stop requested")

    def wait(self, milliseconds: int = STOP_WAIT_MS) -> bool:
        """Block until the worker thread has ended (closing the window, tests)."""
        return self.worker is None or self.worker.wait(milliseconds)

    def shutdown(self) -> None:
        """Stop any run and wait for its thread: the window is going away."""
        if self.worker is not None:
            self.worker.stop()
            self.worker.wait(STOP_WAIT_MS)
            self._thread_done(self.worker)
        self.timer.stop()

    # ----------------------------------------------------- worker events
    def _running_text(self) -> str:
        info = self.info
        parts = [f"Training on {info.get('device', self.device)}"]
        if info:
            parts.append(f"{info.get('parameters', 0):,} parameters")
            what = "samples"
            if info.get("objective") == "next_token":  # a language model reads windows of text
                what = f"windows of {info.get('context')} tokens"
            parts.append(
                f"{info.get('train_samples', 0):,} training / {info.get('val_samples', 0):,} "
                f"validation {what}"
            )
        return " · ".join(parts)

    def _planned(self, info: dict[str, Any]) -> None:
        self.info = dict(info)
        plan = self.worker.plan if self.worker is not None else None
        self._epoch_line = plan.step.epoch_line if plan is not None else epoch_line
        settings = TrainingSettings.from_project(self.document.project)
        stopping = settings.early_stopping
        self.info["best_metric"] = stopping.metric if stopping is not None else "val_loss"
        node_types = layer_types(self.document.network_graph)  # not a block the user is in
        self.dashboard.begin_run(self.info, node_types)
        self.canvas.clear()
        self.dashboard.set_banner(self._running_text(), "running")
        self.log.say(
            f"Started: {info['parameters']:,} parameters, {info['train_samples']:,} training and "
            f"{info['val_samples']:,} validation samples, {info['steps_per_epoch']} batches per "
            f"epoch, on {info['device']} ({info['threads']} thread(s))"
        )
        self.run_planned.emit(self.info)

    def tick(self) -> None:
        """The 25 Hz frame: move new figures from the buffer to the views."""
        new = self.buffer.drain()
        if new:
            self.dashboard.consume(new)
            if new.probes:
                self.canvas.show_probe(new.probes[-1])
            now = time.perf_counter()
            if new.progress is not None and now - self._status_at >= STATUS_EVERY:
                self._status_at = now  # text in the status bar changes at most 4 times a second
                self._show_progress(*new.progress)
            for metrics in new.epochs:
                self.log.say(self._epoch_line(metrics, self.info.get("epochs")))
        self.frame.emit(new)
        self.dashboard.refresh()

    def _show_progress(
        self, epoch: int, epochs: int, step: int, steps: int, elapsed: float
    ) -> None:
        done = (epoch - 1) * steps + step
        total = max(1, epochs * steps)
        self.progress.setValue(int(1000 * done / total))
        self.progress.setMaximum(1000)
        left = elapsed / done * (total - done) if done else 0.0
        text = f"Epoch {epoch}/{epochs} · batch {step}/{steps}"
        if done:
            text += f" · {clock(left)} left"
        if self.paused:
            text += " · paused"
        self.progress_label.setText(text)

    def _finished(self, outcome: RunOutcome) -> None:
        self.tick()
        self.last_outcome = outcome
        result = outcome.result
        self.weights.keep(outcome)
        self.dashboard.finish(outcome)
        final = result.final
        summary = f"{result.status.replace('_', ' ')}: {result.message}"
        if "val_accuracy" in final:
            summary += f" — validation accuracy {final['val_accuracy']:.1%}"
        for note in result.notes:
            self.log.say(f"note: {note}", "warning")
        if result.status == DIVERGED:
            self._report("Training diverged", f"{result.message}. Try a smaller learning rate.")
        else:
            self.dashboard.set_banner(
                summary[0].upper() + summary[1:], "done" if result.status != STOPPED else "paused"
            )
            self.log.say(summary)
            self.window.statusBar().showMessage(summary, 8000)
        self.run_finished.emit(outcome)

    def _failed(self, title: str, message: str, details: str) -> None:
        self.tick()
        self._report(title, message, details)

    def _report(self, title: str, message: str, details: str = "") -> None:
        self.last_error = message
        self.dashboard.set_banner(f"{title}: {message.splitlines()[0]}", "error")
        self.log.say(f"{title}: {message}", "error")
        if details:
            self.log.say(details, "error")
        self.window.statusBar().showMessage(f"{title} — see the training log", 8000)
        self.run_failed.emit(message)
        if not self.quiet:
            QMessageBox.warning(self.window, title, message)

    def _thread_done(self, worker: TrainingWorker) -> None:
        worker.wait()
        worker.deleteLater()
        if worker is not self.worker:
            return  # an earlier run, already let go (the window is closing)
        self.worker = None
        self.timer.stop()
        self.tick()
        self.window.set_read_only(False)
        self.canvas.set_live(False)
        self.progress.hide()
        self.progress_label.hide()
        self._update_actions()

    def _project_replaced(self) -> None:
        self.canvas.clear()
        self.weights.forget()
        self._update_actions()

    # ------------------------------------------------------------ weights
    def save_weights_as(self) -> bool:
        if not self.weights.has_weights:
            return False
        project = self.document.project
        start = str(project.weights_path() or Path(f"{project.name}.safetensors"))
        path, _ = QFileDialog.getSaveFileName(
            self.window, "Save weights", start, "safetensors weights (*.safetensors)"
        )
        return bool(path) and self.weights.save(Path(path))

    # ------------------------------------------------------ closing guard
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Close and self.running:
            if not self.quiet:
                answer = QMessageBox.question(
                    self.window,
                    "Training is running",
                    "Stop training and close the window?",
                    QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                )
                if answer != QMessageBox.StandardButton.Yes:
                    event.ignore()
                    return True
            self.shutdown()
        return False


__all__ = ["TrainingController", "device_choices", "snapshot"]
