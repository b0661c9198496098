""" "Train on N GPUs": the same project under torchrun, followed live in the same dashboard.

Offered only where more than one CUDA GPU is present. The run is a separate
torchrun process group (engine/training/launcher.py), so the window never
holds the model: it saves the project to a temporary copy when it is unsaved
or modified (the user's file is never written), follows the metrics file on
the controller's timer (a non-blocking read of the lines written since the
last frame), shows each epoch in the live curves, and when the `end` event
arrives shows its status like a normal run and loads the weights rank 0 wrote
back into the project if they still fit. Stop asks every rank to stop after
the current batch; the waiting happens on a plain thread, never in the UI.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QAction

from engine.project import ProjectError, save_project

if TYPE_CHECKING:
    from engine.training.launcher import TrainingLaunch

STATUS_STATES = {"completed": "done", "early_stopped": "done", "stopped": "paused"}


def cuda_gpus() -> int:
    """CUDA GPUs here (0 without CUDA): more than one makes the action worth showing."""
    import torch

    return int(torch.cuda.device_count())


class MultiGpuLauncher(QObject):
    """The "Train on N GPUs" action and one torchrun run at a time; see the module docstring."""

    options: tuple[str, ...] = ()  # further `netwright train` options (tests: CPU gloo ranks)

    def __init__(self, controller: Any) -> None:
        super().__init__(controller)
        self.controller = controller
        self.window = controller.window
        self.document = controller.document
        self.gpus = 0  # known once torch is loaded (the controller's devices_found)
        self.launch: TrainingLaunch | None = None
        self.folder: tempfile.TemporaryDirectory[str] | None = None
        self.weights_file: Path | None = None
        self.trained: Any = None  # the snapshot the ranks train (its graph decides the weights)
        self.epochs: list[dict[str, Any]] = []
        self.end: dict[str, Any] | None = None
        self.stopping: threading.Thread | None = None
        self.action = QAction("Train on GPUs", self.window)
        self.action.setObjectName("TrainOnGpus")
        self.action.triggered.connect(lambda _c=False: self.start())
        self.action.setVisible(False)
        controller.toolbar.insertAction(controller.launcher_slot, self.action)
        controller.devices_found.connect(lambda _choices: self.count_gpus())
        controller.actions["stop"].triggered.connect(lambda _c=False: self.stop())
        controller.timer.timeout.connect(self.poll)
        self.window.installEventFilter(self)

    def count_gpus(self) -> None:
        """Offer the action only where more than one CUDA GPU is present."""
        self.gpus = cuda_gpus()
        self.action.setText(f"Train on {self.gpus} GPUs")
        self.action.setToolTip(
            f"Train with torchrun on all {self.gpus} GPUs (data-parallel); Stop ends every rank"
        )
        self.action.setVisible(self.gpus > 1)

    @property
    def running(self) -> bool:
        return self.launch is not None

    def _set_controls(self, running: bool) -> None:
        self.action.setEnabled(not running)
        self.controller.actions["train"].setEnabled(not running)
        self.controller.actions["pause"].setEnabled(False)
        self.controller.actions["stop"].setEnabled(running)
        self.controller.device_box.setEnabled(not running)

    def start(self) -> bool:
        """Launch torchrun on a saved copy of the project; False (and a message) when it cannot."""
        from app.training.controller import snapshot

        if self.running or self.controller.running:
            return False
        project = snapshot(self.document.project)
        self.folder = tempfile.TemporaryDirectory(prefix="netwright-gpus-")
        folder = Path(self.folder.name)
        path = project.path
        try:
            if path is None or self.document.modified:  # never overwrite the user's file
                path = save_project(project, folder / "recovery.netwright.json")
        except (ProjectError, OSError) as error:
            self.controller._report("Cannot train on GPUs", f"Saving a copy failed: {error}")
            return False
        self.trained = project
        self.weights_file = folder / "weights.safetensors"
        self.epochs, self.end = [], None
        from engine.training.launcher import launch_training

        try:
            self.launch = launch_training(
                path,
                max(self.gpus, 1),
                folder / "metrics.jsonl",
                options=["--weights-out", str(self.weights_file), *self.options],
            )
        except (OSError, ValueError) as error:
            self.controller._report("Cannot train on GPUs", str(error))
            return False
        self.window.set_read_only(True)
        self.controller.buffer.drain()
        self.controller.info = {"epochs": project.training.get("epochs")}
        self.controller.dashboard.begin_run({}, {n.id: n.type for n in project.graph})
        self.controller.dashboard.set_banner(f"Starting torchrun on {self.gpus} GPUs…", "running")
        self.controller.log.say(f"Training '{project.name}' with torchrun on {self.gpus} GPUs")
        self._set_controls(True)
        self.controller.timer.start()
        return True

    def stop(self) -> None:
        launch = self.launch
        if launch is None or self.stopping is not None:
            return
        self.controller.dashboard.set_banner("Stopping every rank after this batch…", "paused")
        self.controller.log.say("Stop requested (all ranks)")
        self.stopping = threading.Thread(target=launch.stop, daemon=True)  # it waits for torchrun
        self.stopping.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Closing the window while the ranks train: ask them to stop (they would outlive it)."""
        if watched is self.window and event.type() == QEvent.Type.Close:
            self.stop()
        return False

    def poll(self) -> None:
        """One frame: the events written since the last frame into the dashboard."""
        launch = self.launch
        if launch is None:
            return
        alive = launch.running  # read before the events, so none written at the end are missed
        for event in launch.read_events():
            kind = event.get("event")
            if kind == "start":
                world = event.get("world_size", self.gpus)
                self.controller.info.update(event)
                self.controller.dashboard.set_banner(
                    f"Training on {world} processes ({event.get('device', 'GPU')}) · "
                    f"{event.get('parameters', 0):,} parameters",
                    "running",
                )
            elif kind == "epoch":
                self.epochs.append(event)
                self.controller.buffer.add_epoch(event)
            elif kind == "end":
                self.end = event
        if self.end is not None or not alive:
            self._finish(launch)

    def _finish(self, launch: TrainingLaunch) -> None:
        self.controller.tick()  # the last epochs into the curves
        if self.stopping is not None:
            self.stopping.join()
        self.launch, self.stopping = None, None
        launch.wait()
        self.controller.timer.stop()
        end = self.end
        if end is None:
            tail = launch.output().strip().splitlines()[-8:]
            self.controller._report(
                "Training on GPUs failed",
                "torchrun ended without finishing the run: " + (tail[-1] if tail else "no output"),
                "\n".join(tail),
            )
        else:
            status = str(end.get("status", "completed"))
            summary = f"{status.replace('_', ' ')} after {len(self.epochs)} epoch(s) on GPUs"
            if self.epochs and "val_accuracy" in self.epochs[-1]:
                summary += f" — validation accuracy {self.epochs[-1]['val_accuracy']:.1%}"
            self.controller.dashboard.set_banner(
                summary[0].upper() + summary[1:], STATUS_STATES.get(status, "error")
            )
            self.controller.log.say(summary)
            self.window.statusBar().showMessage(summary, 8000)
            self._keep_weights(status)
        self.controller.dashboard.refresh(force=True)
        self.window.set_read_only(False)
        self._set_controls(False)
        self.controller._update_actions()
        if self.folder is not None:
            self.folder.cleanup()
            self.folder = None

    def _keep_weights(self, status: str) -> None:
        """Rank 0's weights into the project, when they fit the network that was trained."""
        if self.weights_file is None or not self.weights_file.is_file() or not self.epochs:
            return
        from engine.compiler import CompileError, compile_graph
        from engine.weights import WeightsError, read_weights

        try:
            state = read_weights(self.weights_file)
            compile_graph(self.trained.graph).load_state_dict(state)
        except (WeightsError, CompileError, RuntimeError) as error:
            self.controller.log.say(f"The GPUs' weights do not fit the network: {error}", "warning")
            return
        result = SimpleNamespace(history=self.epochs, best_epoch=None, status=status)
        self.controller.weights.keep(
            SimpleNamespace(
                result=result, states={"network": state}, project=self.trained, tokenizer=None
            )
        )


def install_multi_gpu(controller: Any) -> MultiGpuLauncher:
    controller.multi_gpu = MultiGpuLauncher(controller)
    return controller.multi_gpu


__all__ = ["MultiGpuLauncher", "cuda_gpus", "install_multi_gpu"]
