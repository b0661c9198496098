"""The Inside tab's look into a run: each layer's points and each unit's plane, on the training thread.

The model lives in the worker thread, so the worker looks: about once a
second, and never more than `BUDGET` of the training time (a big network's
look takes longer, so it looks less often), only while the Inside tab is
shown (the page sets `wanted`), and always at the start and at the end, so the
tab shows the trained network when the run is over (after early stopping,
the weights it kept). A look is one forward pass of a fixed batch of
validation samples in eval mode without gradients (engine/explain/layers.py)
and, for a network of two inputs, one over a grid of the input plane
(engine/explain/neurons.py). What it found goes into the LiveBuffer as plain
numpy, like every other figure; nothing here touches a widget.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.training.callbacks import Callback

if TYPE_CHECKING:
    from engine.explain.layers import LayerPoints
    from engine.training import BatchEnd, FitResult, Trainer

INTERVAL = 1.0  # seconds between looks, at the most often
BUDGET = 0.01  # and at most this share of the training time spent looking
SAMPLES = 400  # validation samples drawn as points


@dataclass
class InsideFrame:
    """One look. The colours and names come with the first frame of a run only."""

    epoch: float
    layers: list[LayerPoints]
    neurons: dict[str, np.ndarray] = field(default_factory=dict)  # node -> (units, n, n)
    final: bool = False
    groups: np.ndarray | None = None  # colour group of each point (its class, or band)
    group_names: tuple[str, ...] | None = None
    by_class: bool = True  # groups are classes (else bands of a regression's target)
    plane: np.ndarray | None = None  # (2, 2) bounds of the neurons' input plane
    plane_points: np.ndarray | None = None  # (N, 2) and their groups, drawn under the units
    plane_groups: np.ndarray | None = None
    left_out: int = 0  # layers inside blocks past the look's limit, not drawn


def wants_inside(plan: Any) -> bool:
    """A single network trained on samples held in memory."""
    import torch

    x = getattr(plan.data, "val_x", None)
    if not isinstance(x, torch.Tensor) or not len(x):
        x = getattr(plan.data, "train_x", None)
    return len(plan.networks) == 1 and isinstance(x, torch.Tensor) and len(x) > 0


class InsideLook(Callback):
    def __init__(self, buffer: Any, plan: Any, steps_per_epoch: int, wanted: threading.Event):
        import torch

        from engine.explain import neurons
        from engine.explain.layers import Representations, colour_groups

        self.buffer = buffer
        self.wanted = wanted
        self.steps = max(1, steps_per_epoch)
        self.model = plan.model
        self.device = plan.device
        data = plan.data
        has_val = isinstance(data.val_x, torch.Tensor) and len(data.val_x) > 0
        x = (data.val_x if has_val else data.train_x)[:SAMPLES]
        y = data.val_y if has_val else data.train_y
        y = y[:SAMPLES] if isinstance(y, torch.Tensor) else None
        graph, analysis = plan.project.graph, plan.analysis
        self.representations = Representations(graph, analysis, x.to(self.device))
        classes = bool(data.classification) and y is not None and y.dim() == 1
        self.groups = colour_groups(y, classes)
        self.group_names = data.class_names if classes else None
        self.by_class = classes
        self.plane_nodes: list[str] = []
        if neurons.is_plane(analysis):
            train = data.train_x.float().cpu().numpy()
            self.plane = neurons.plane_bounds(train)
            self.grid = neurons.plane_grid(self.plane).to(self.device)
            self.plane_nodes = neurons.neuron_nodes(graph, analysis)
            self.plane_points = x.float().cpu().numpy()
        self.sent_first = False
        self.last = 0.0
        self.cost = 0.0
        self.costs: list[float] = []  # the last few looks' seconds: one slow look (the machine
        self.looks = 0  # busy elsewhere) must not make the view stop for a minute
        self.interval = INTERVAL

    def on_fit_start(self, trainer: Trainer) -> None:
        self.look(0.0)

    def on_batch_end(self, trainer: Trainer, batch: BatchEnd) -> None:
        if self.wanted.is_set() and time.perf_counter() - self.last >= self.interval:
            self.look(batch.epoch - 1 + (batch.step + 1) / self.steps)

    def on_epoch_end(self, trainer: Trainer, epoch: int, metrics: dict[str, Any]) -> None:
        if self.wanted.is_set() and time.perf_counter() - self.last >= self.interval:
            self.look(float(epoch))

    def on_fit_end(self, trainer: Trainer, result: FitResult) -> None:
        self.look(float(result.epochs), final=True)  # the kept weights, whatever was shown

    def look(self, epoch: float, final: bool = False) -> None:
        started = time.perf_counter()
        frame = InsideFrame(epoch, self.representations.look(self.model, self.device))
        frame.final = final
        frame.left_out = self.representations.left_out
        if self.plane_nodes:
            from engine.explain.neurons import responses

            frame.neurons = responses(self.model, self.grid, self.plane_nodes, device=self.device)
        if not self.sent_first:
            self.sent_first = True
            frame.groups, frame.group_names, frame.by_class = (
                self.groups,
                self.group_names,
                self.by_class,
            )
            if self.plane_nodes:
                frame.plane, frame.plane_points = self.plane, self.plane_points
                frame.plane_groups = self.groups
        self.buffer.add_inside(frame)
        self.last = time.perf_counter()
        self.looks += 1
        if self.looks > 1:  # the first look warms up (buffers made): not its cost
            self.costs = [*self.costs[-4:], self.last - started]
            self.cost = float(np.median(self.costs))
            self.interval = max(INTERVAL, self.cost / BUDGET)


def inside_look(wanted: threading.Event) -> Any:
    """The Inside tab's look (a `Look` for the controller): every single-network run has one."""

    def look(plan: Any, buffer: Any, steps_per_epoch: int) -> InsideLook | None:
        return InsideLook(buffer, plan, steps_per_epoch, wanted) if wants_inside(plan) else None

    return look


__all__ = ["InsideFrame", "InsideLook", "inside_look", "wants_inside"]


def frame_from_subject(subject: Any) -> InsideFrame:
    """One look at a network outside a run (its saved weights), as the training thread's last."""
    from engine.explain import neurons
    from engine.explain.layers import Representations, colour_groups

    x = subject.val_x[:SAMPLES]
    y = subject.val_y[:SAMPLES] if subject.val_y is not None else None
    graph, analysis = subject.project.graph, subject.analysis
    representations = Representations(graph, analysis, x)
    layers = representations.look(subject.model)
    classes = subject.classification and y is not None and y.dim() == 1
    frame = InsideFrame(float("nan"), layers, final=True, left_out=representations.left_out)
    frame.groups = colour_groups(y, classes)
    frame.group_names = subject.class_names if classes else None
    frame.by_class = classes
    if neurons.is_plane(analysis):
        points = x.float().numpy()
        frame.plane = neurons.plane_bounds(points)
        nodes = neurons.neuron_nodes(graph, analysis)
        frame.neurons = neurons.responses(subject.model, neurons.plane_grid(frame.plane), nodes)
        frame.plane_points, frame.plane_groups = points, frame.groups
    return frame
