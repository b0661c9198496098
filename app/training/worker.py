"""The training thread: plans and runs the engine's Trainer on a snapshot of the project.

Nothing here touches a widget. Figures go into a `LiveBuffer` that the UI
drains on a timer; only the lifecycle (started, finished, failed) crosses to
the UI thread as queued signals. The project it trains is a deep copy taken
when Train was pressed, so edits made meanwhile (there are none: the graph is
locked) could never reach the running network.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from PySide6.QtCore import QThread, Signal

from app.training.buffer import LiveBuffer
from app.training.probe import ActivationProbe, probe_batch
from engine.compiler import CompileError
from engine.data.dataset import DataError
from engine.layer_paths import layer_types
from engine.project import Project
from engine.settings import TrainingSettings
from engine.training import (
    BatchEnd,
    Callback,
    FitResult,
    PlanError,
    Trainer,
    TrainingPlan,
    plan_training,
)
from engine.training.devices import DeviceError
from engine.training.memory import OutOfMemory
from engine.weights import WeightsError

PROBE_INTERVAL = 0.25  # seconds between looks inside the network (at most 4 Hz)
PROBE_BUDGET = 0.02  # and at most this share of the training time spent looking
GPU_LOSS_EVERY = 10  # batches between reading the loss on an accelerator (each read syncs)
SAMPLE_PREDICTIONS = 24


@dataclass
class RunOutcome:
    """A finished run, handed to the UI: how it ended and what it produced."""

    result: FitResult
    states: dict[str, dict[str, torch.Tensor]]  # each network's kept weights, on the CPU
    project: Project  # the snapshot it trained (with the fitted scaling recorded)
    device: str
    class_names: tuple[str, ...] | None
    predictions: dict[str, Any] = field(default_factory=dict)  # x, true, predicted (numpy)
    tokenizer: Any = None  # text: the engine.text Tokenizer the network reads with

    @property
    def state(self) -> dict[str, torch.Tensor]:
        """The main network's weights (a GAN's generator: the one users export)."""
        return next(iter(self.states.values()))


# A live view's way into a run: given the plan (on the training thread), the callback that
# feeds its figures into the buffer, or None when the run has nothing for it.
Look = Callable[[TrainingPlan, LiveBuffer, int], Callback | None]


class LiveFigures(Callback):
    """The worker's callback: cheap appends to the buffer, a probe look every so often."""

    def __init__(self, buffer: LiveBuffer, steps_per_epoch: int, probe: ActivationProbe | None):
        self.buffer = buffer
        self.steps = max(1, steps_per_epoch)
        self.probe = probe
        self.started = time.perf_counter()
        self.last_look = 0.0
        self.interval = PROBE_INTERVAL
        self.cost = 0.0  # seconds the last look took
        self.looks = 0
        self.looked_at_step = -1
        self.epoch_started_step = 0

    def on_fit_start(self, trainer: Trainer) -> None:
        self.started = time.perf_counter()
        self.buffer.set_progress(1, trainer.settings.epochs, 0, self.steps, 0.0)
        self.look(0, 0.0)

    def on_batch_end(self, trainer: Trainer, batch: BatchEnd) -> None:
        x = batch.epoch - 1 + (batch.step + 1) / self.steps
        every = 1 if trainer.device.type == "cpu" else GPU_LOSS_EVERY
        if batch.global_step % every == 0:
            assert trainer.optimizer is not None
            losses = {name: float(loss.item()) for name, loss in batch.losses.items()}
            self.buffer.add_batch(x, losses, trainer.optimizer.param_groups[0]["lr"])
        now = time.perf_counter()
        self.buffer.set_progress(
            batch.epoch, trainer.settings.epochs, batch.step + 1, self.steps, now - self.started
        )
        if now - self.last_look >= self.interval:
            self.look(batch.global_step + 1, x)

    def on_epoch_end(self, trainer: Trainer, epoch: int, metrics: dict[str, Any]) -> None:
        self.buffer.add_epoch(metrics)
        # one look per epoch at least, when epochs are long; short ones still keep to the budget
        unseen = self.looked_at_step <= self.epoch_started_step
        if unseen and time.perf_counter() - self.last_look >= self.cost / PROBE_BUDGET:
            self.look(trainer.global_step, float(epoch))

    def on_fit_end(self, trainer: Trainer, result: FitResult) -> None:
        if self.looked_at_step < trainer.global_step:  # the views end on the final network
            self.look(trainer.global_step, float(result.epochs))

    def on_epoch_start(self, trainer: Trainer, epoch: int) -> None:
        self.epoch_started_step = trainer.global_step

    def look(self, step: int, x: float) -> None:
        self.looked_at_step = step
        started = time.perf_counter()
        if self.probe is not None:
            self.buffer.add_probe(self.probe.capture(step, x))
        self.last_look = time.perf_counter()
        self.looks += 1
        if self.looks > 1:  # the first look warms up (bins fixed, buffers made): not its cost
            self.cost = self.last_look - started  # a big network's look takes longer: look less
            self.interval = max(PROBE_INTERVAL, self.cost / PROBE_BUDGET)


class TrainingWorker(QThread):
    """One run of any project. `stop`, `pause` and `resume` may be called from the UI thread at
    any time; `plan` is there once `planned` has been sent."""

    planned = Signal(object)  # start info: parameters, samples, classes, device, steps
    finished_run = Signal(object)  # RunOutcome
    failed = Signal(str, str, str)  # title, message for the user, details for the log

    def __init__(
        self,
        project: Project,
        settings: TrainingSettings,
        buffer: LiveBuffer,
        looks: Sequence[Look] = (),
    ) -> None:
        super().__init__()
        self.project = project
        self.settings = settings
        self.buffer = buffer
        self.looks = list(looks)
        self.plan: TrainingPlan | None = None
        self.trainer: Trainer | None = None
        self._stop_asked = False
        self._paused = False

    # ------------------------------------------------------------ control
    def stop(self) -> None:
        self._stop_asked = True
        trainer = self.trainer
        if trainer is not None:
            trainer.stop()

    def pause(self) -> None:
        self._paused = True
        if self.trainer is not None:
            self.trainer.pause()

    def resume(self) -> None:
        self._paused = False
        if self.trainer is not None:
            self.trainer.resume()

    @property
    def paused(self) -> bool:
        return self._paused

    # --------------------------------------------------------------- run
    def run(self) -> None:
        try:
            self._train()
        except (PlanError, DataError, CompileError, DeviceError, WeightsError) as error:
            self.failed.emit("Cannot train this project", str(error), "")
        except OutOfMemory as error:
            self.failed.emit("Out of memory", str(error), "")
        except Exception as error:  # anything else: the message, the traceback in the log
            text = f"{type(error).__name__}: {error}"
            self.failed.emit("Training failed", text, traceback.format_exc())

    def _train(self) -> None:
        plan = plan_training(self.project, self.settings, watched=True)
        train, val = plan.batches()
        node_types = layer_types(plan.project.graph)  # inner layers by path: block1.conv1
        fixed = probe_batch(plan.data)
        probe = ActivationProbe(plan.model, fixed[0], node_types, fixed[1]) if fixed else None
        callbacks: list[Callback] = [LiveFigures(self.buffer, len(train), probe)]
        for look in self.looks:
            found = look(plan, self.buffer, len(train))
            if found is not None:
                callbacks.append(found)
        trainer = plan.trainer(callbacks, reserve_core_for_ui=True)
        started(self, plan, trainer, len(train))
        result = trainer.fit(train, val)
        outcome = RunOutcome(
            result,
            {
                name: {k: v.detach().to("cpu").clone() for k, v in network.state_dict().items()}
                for name, network in plan.networks.items()
            },
            plan.project,
            str(plan.device),
            plan.data.class_names,
            tokenizer=plan.tokenizer,
        )
        outcome.predictions = sample_predictions(plan.model, plan.data, plan.device, plan.tokenizer)
        self.finished_run.emit(outcome)


def sample_predictions(
    model: torch.nn.Module, data: Any, device: torch.device, tokenizer: Any = None
) -> dict[str, Any]:
    """The first validation samples with the kept weights' predictions, for the results view;
    text as text (a language model's next token after each window)."""
    x = getattr(data, "val_x", None)
    y = getattr(data, "val_y", None)
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor) or not len(x):
        return {}
    x, y = x[:SAMPLE_PREDICTIONS], y[:SAMPLE_PREDICTIONS]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(x.to(device)).float().cpu()
    finally:
        model.train(was_training)
    found: dict[str, Any] = {"x": x.float().numpy(), "true": y.numpy(), "output": out.numpy()}
    if data.classification and out.dim() == 2:
        found["predicted"] = out.argmax(dim=1).numpy()
        found["confidence"] = torch.softmax(out, dim=1).max(dim=1).values.numpy()
    if tokenizer is not None:
        from engine.text.windows import decode_window

        found["texts"] = [decode_window(tokenizer, row) for row in x.numpy()]
        if out.dim() == 3:  # a language model: its guess at the token after each window
            found["next"] = [tokenizer.decode([int(i)]) for i in out[:, -1].argmax(dim=-1)]
            found["true_next"] = [tokenizer.decode([int(i)]) for i in y[:, -1]]
    return found


__all__ = ["LiveFigures", "Look", "RunOutcome", "TrainingWorker"]


def started(worker: Any, plan: Any, trainer: Any, steps_per_epoch: int) -> None:
    """A run's trainer is ready: the worker keeps it, tells the window what will run, and
    passes on a pause or stop the user asked for while the data was being prepared."""
    info = plan.start_info() | {
        "device": str(plan.device),
        "steps_per_epoch": steps_per_epoch,
        "epochs": plan.settings.epochs,
        "threads": trainer.threads,
    }
    worker.plan, worker.trainer = plan, trainer
    worker.planned.emit(info)
    if worker._paused:
        trainer.pause()
    if worker._stop_asked:
        trainer.stop()
