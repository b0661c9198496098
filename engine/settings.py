"""The project's training settings: typed, defaulted, and checked like the graph.

The project file keeps `training` as plain JSON (so unknown keys survive a
round trip); `TrainingSettings.from_project` reads it into typed values with
defaults, and `settings_problems` reports every unusable value as a
Diagnostic naming the setting, the same way graph problems name the node.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from engine.analysis import Analysis, Diagnostic

if TYPE_CHECKING:
    from engine.project import Project

LOSSES = ("cross_entropy", "bce_with_logits", "mse", "l1", "huber")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")
SCHEDULES = ("none", "step", "cosine", "one_cycle", "plateau")
STOP_METRICS = ("val_loss", "val_accuracy", "train_loss")
DEVICE_PATTERN = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")
CLASSIFICATION_LOSSES = ("cross_entropy",)


@dataclass(frozen=True)
class OptimizerSettings:
    name: str = "adam"
    lr: float = 0.001
    weight_decay: float = 0.0
    momentum: float = 0.9  # SGD and RMSprop
    nesterov: bool = False  # SGD


@dataclass(frozen=True)
class EarlyStopping:
    metric: str = "val_loss"
    patience: int = 3
    min_delta: float = 0.0
    restore_best: bool = True


@dataclass(frozen=True)
class Schedule:
    name: str = "none"
    step_size: int = 10  # step: epochs between decays
    gamma: float = 0.1  # step and plateau: factor applied to the learning rate
    patience: int = 2  # plateau: epochs without improvement before decaying


@dataclass(frozen=True)
class TrainingSettings:
    loss: str = "cross_entropy"
    optimizer: OptimizerSettings = field(default_factory=OptimizerSettings)
    epochs: int = 10
    batch_size: int = 64
    validation_split: float = 0.2
    early_stopping: EarlyStopping | None = field(default_factory=EarlyStopping)
    schedule: Schedule = field(default_factory=Schedule)
    grad_clip: float | None = None
    mixed_precision: bool = False
    seed: int = 0
    device: str = "auto"
    compile: bool = (
        False  # torch.compile the network for training (falls back to eager if it fails)
    )

    @property
    def is_classification(self) -> bool:
        return self.loss in CLASSIFICATION_LOSSES

    @classmethod
    def from_project(cls, project: Project) -> TrainingSettings:
        """Typed settings; call `settings_problems` first: bad values fall back to defaults here."""
        return cls.from_json(project.training)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrainingSettings:
        problems: list[Diagnostic] = []
        return _parse(data, problems)

    def with_overrides(self, **changes: Any) -> TrainingSettings:
        """A copy with some values replaced (command-line options for one run)."""
        optimizer_changes = {k: changes.pop(k) for k in ("lr", "optimizer_name") if k in changes}
        settings = replace(self, **{k: v for k, v in changes.items() if v is not None})
        if optimizer_changes.get("lr") is not None:
            settings = replace(
                settings, optimizer=replace(settings.optimizer, lr=optimizer_changes["lr"])
            )
        if optimizer_changes.get("optimizer_name") is not None:
            settings = replace(
                settings,
                optimizer=replace(settings.optimizer, name=optimizer_changes["optimizer_name"]),
            )
        return settings


def settings_problems(project: Project, analysis: Analysis | None = None) -> list[Diagnostic]:
    """Every unusable training setting, and losses that do not fit the network's output."""
    problems: list[Diagnostic] = []
    settings = _parse(project.training, problems)
    if analysis is not None and analysis.ok:
        out = analysis.output_shape
        if out is not None and settings.loss in ("cross_entropy",) and len(out) != 1:
            problems.append(
                Diagnostic(
                    "error",
                    f"cross-entropy needs one score per class at the Output, but it receives {'x'.join(map(str, out))}",
                    None,
                    "training.loss",
                    "end the network with Flatten and Linear(number of classes), or choose mse",
                )
            )
    return problems


def _parse(data: dict[str, Any], problems: list[Diagnostic]) -> TrainingSettings:
    def bad(key: str, message: str, hint: str | None = None) -> None:
        problems.append(Diagnostic("error", message, None, f"training.{key}", hint))

    reader = _Reader(data, bad)
    defaults = TrainingSettings()
    loss = reader.choice("loss", LOSSES, defaults.loss)
    optimizer = _parse_optimizer(data.get("optimizer", {}), bad)
    epochs = reader.integer("epochs", defaults.epochs, 1, 1_000_000)
    batch_size = reader.integer("batch_size", defaults.batch_size, 1, 1_000_000)
    split = reader.number("validation_split", defaults.validation_split, 0.0, 0.9)
    stopping = _parse_early_stopping(data.get("early_stopping", {}), bad)
    schedule = _parse_schedule(data.get("schedule"), bad)
    clip = data.get("grad_clip")
    if clip is not None and (not _is_number(clip) or clip <= 0):
        bad("grad_clip", "gradient clipping must be a positive number (or absent)")
        clip = None
    seed = reader.integer("seed", defaults.seed, 0, 2**32 - 1)
    device = data.get("device", "auto")
    if not isinstance(device, str) or not DEVICE_PATTERN.match(device):
        bad("device", f"unknown device {device!r}", "use auto, cpu, cuda, cuda:N or mps")
        device = "auto"
    precision = data.get("mixed_precision", False)
    if not isinstance(precision, bool):
        bad("mixed_precision", "mixed_precision must be true or false")
        precision = False
    compiled = reader.boolean("compile", defaults.compile)
    return TrainingSettings(
        loss,
        optimizer,
        epochs,
        batch_size,
        split,
        stopping,
        schedule,
        float(clip) if clip is not None else None,
        precision,
        seed,
        device,
        compile=compiled,
    )


def _parse_optimizer(data: Any, bad: Any) -> OptimizerSettings:
    if not isinstance(data, dict):
        bad("optimizer", 'the optimizer must be an object such as {"name": "adam", "lr": 0.001}')
        return OptimizerSettings()
    reader = _Reader(data, lambda k, m, h=None: bad(f"optimizer.{k}", m, h))
    defaults = OptimizerSettings()
    return OptimizerSettings(
        name=reader.choice("name", OPTIMIZERS, defaults.name),
        lr=reader.number("lr", defaults.lr, 1e-12, 1e12, open_low=False),
        weight_decay=reader.number("weight_decay", defaults.weight_decay, 0.0, 10.0),
        momentum=reader.number("momentum", defaults.momentum, 0.0, 0.9999),
        nesterov=reader.boolean("nesterov", defaults.nesterov),
    )


def _parse_early_stopping(data: Any, bad: Any) -> EarlyStopping | None:
    if data is None or data is False:
        return None
    if not isinstance(data, dict):
        bad(
            "early_stopping",
            'early_stopping must be an object such as {"metric": "val_loss", "patience": 3}, or null',
        )
        return EarlyStopping()
    reader = _Reader(data, lambda k, m, h=None: bad(f"early_stopping.{k}", m, h))
    defaults = EarlyStopping()
    return EarlyStopping(
        metric=reader.choice("metric", STOP_METRICS, defaults.metric),
        patience=reader.integer("patience", defaults.patience, 1, 100_000),
        min_delta=reader.number("min_delta", defaults.min_delta, 0.0, 1e9),
        restore_best=reader.boolean("restore_best", defaults.restore_best),
    )


def _parse_schedule(data: Any, bad: Any) -> Schedule:
    if data is None:
        return Schedule()
    if isinstance(data, str):
        data = {"name": data}
    if not isinstance(data, dict):
        bad("schedule", 'the schedule must be an object such as {"name": "cosine"}, or null')
        return Schedule()
    reader = _Reader(data, lambda k, m, h=None: bad(f"schedule.{k}", m, h))
    defaults = Schedule()
    return Schedule(
        name=reader.choice("name", SCHEDULES, defaults.name),
        step_size=reader.integer("step_size", defaults.step_size, 1, 1_000_000),
        gamma=reader.number("gamma", defaults.gamma, 1e-6, 1.0),
        patience=reader.integer("patience", defaults.patience, 0, 100_000),
    )


class _Reader:
    """Reads typed values from a JSON object, reporting each bad one and using the default."""

    def __init__(self, data: dict[str, Any], bad: Any) -> None:
        self.data = data if isinstance(data, dict) else {}
        self.bad = bad

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        value = self.data.get(key, default)
        if value not in choices:
            self.bad(
                key,
                f"unknown {key.replace('_', ' ')} {value!r}",
                "use one of " + ", ".join(choices),
            )
            return default
        return str(value)

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.bad(
                key,
                f"{key.replace('_', ' ')} must be a whole number from {low:,} to {high:,} (got {value!r})",
            )
            return default
        return value

    def number(
        self, key: str, default: float, low: float, high: float, open_low: bool = False
    ) -> float:
        value = self.data.get(key, default)
        if not _is_number(value) or not low <= value <= high:
            self.bad(
                key,
                f"{key.replace('_', ' ')} must be a number from {low:g} to {high:g} (got {value!r})",
            )
            return default
        return float(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            self.bad(key, f"{key.replace('_', ' ')} must be true or false (got {value!r})")
            return default
        return value


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and value == value
        and abs(value) != float("inf")
    )
