"""The project's training settings: one table, and the typed values read from it.

`TRAINING` declares every setting of a project's ``training`` section once:
its key, kind, default, range, choices and help. From it come the typed
`TrainingSettings` (`from_project`, `settings_problems`), the options of
`netwright train`, the Training panel, the defaults of a new project and the
table in docs/project-format.md. The file keeps ``training`` as plain JSON, so
keys this version does not know survive a round trip.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.analysis import Analysis, Diagnostic
from engine.settings.declared import (
    Section,
    Setting,
    defaults,
    group,
    nested,
    read_table,
    top_level,
    write_path,
)

if TYPE_CHECKING:
    from engine.project import Project

LOSSES = {
    "cross_entropy": "Cross-entropy (classes)",
    "bce_with_logits": "Binary cross-entropy",
    "mse": "Mean squared error",
    "l1": "Mean absolute error (L1)",
    "huber": "Huber",
    "next_token": "Next token (language model)",
}
OPTIMIZERS = {
    "sgd": "SGD (momentum)",
    "adam": "Adam",
    "adamw": "AdamW",
    "rmsprop": "RMSprop",
    "adagrad": "Adagrad",
}
SCHEDULES = {
    "none": "Constant",
    "step": "Step decay",
    "cosine": "Cosine",
    "one_cycle": "One-cycle",
    "plateau": "On plateau",
}
STOP_METRICS = {
    "val_loss": "Validation loss",
    "val_accuracy": "Validation accuracy",
    "train_loss": "Training loss",
}
CLASSIFICATION_LOSSES = ("cross_entropy",)


def optimizer_settings(
    name: str = "adam", lr: float = 0.001, label: bool = True
) -> tuple[Setting, ...]:
    """An optimizer's settings (the training section's, and each network's of a GAN recipe)."""
    return (
        Setting(
            "optimizer.name",
            "choice",
            name,
            "The optimizer: how the weights move along their gradients.",
            "Optimizer" if label else "",
            choices=OPTIMIZERS,
            option="--optimizer" if label else None,
            metavar="NAME",
            in_new_projects=True,
        ),
        Setting(
            "optimizer.lr",
            "float",
            lr,
            "The learning rate: how far each step moves the weights.",
            "Learning rate" if label else "",
            minimum=1e-12,
            maximum=1e12,
            option="--lr" if label else None,
            metavar="LR",
            in_new_projects=True,
        ),
        Setting(
            "optimizer.weight_decay",
            "float",
            0.0,
            "L2 regularisation: pulls every weight a little towards zero at each step.",
            "Weight decay" if label else "",
            minimum=0.0,
            maximum=10.0,
            in_new_projects=True,
        ),
        Setting(
            "optimizer.momentum",
            "float",
            0.9,
            "SGD and RMSprop: how much of the previous step each step keeps.",
            minimum=0.0,
            maximum=0.9999,
        ),
        Setting("optimizer.nesterov", "bool", False, "SGD: use Nesterov momentum."),
    )


OPTIMIZER = Section("optimizer", '{"name": "adam", "lr": 0.001}')
TRAINING_SECTIONS = (
    OPTIMIZER,
    Section(
        "early_stopping",
        '{"metric": "val_loss", "patience": 3}',
        off="Off",
        note="`null` turns early stopping off; leaving the key out keeps it on with its defaults "
        "(val_loss, patience 3).",
    ),
    Section(
        "schedule",
        '{"name": "cosine"}',
        named=True,
        note='may also be just the schedule\'s name: `"schedule": "cosine"`.',
    ),
)

TRAINING: tuple[Setting, ...] = (
    Setting(
        "loss",
        "choice",
        "cross_entropy",
        "What the network is trained to make small.",
        "Loss",
        choices=LOSSES,
        in_new_projects=True,
    ),
    *optimizer_settings(),
    Setting(
        "batch_size",
        "int",
        64,
        "Samples per training step.",
        "Batch size",
        1,
        1_000_000,
        option="--batch-size",
        metavar="B",
        in_new_projects=True,
    ),
    Setting(
        "epochs",
        "int",
        10,
        "Passes over the training data.",
        "Epochs",
        1,
        1_000_000,
        option="--epochs",
        metavar="N",
        in_new_projects=True,
    ),
    Setting(
        "schedule.name",
        "choice",
        "none",
        "How the learning rate changes as training goes on.",
        "LR schedule",
        choices=SCHEDULES,
    ),
    Setting(
        "schedule.step_size",
        "int",
        10,
        "step: epochs between decays.",
        minimum=1,
        maximum=1_000_000,
    ),
    Setting(
        "schedule.gamma",
        "float",
        0.1,
        "step and plateau: the factor applied to the learning rate.",
        minimum=1e-6,
        maximum=1.0,
    ),
    Setting(
        "schedule.patience",
        "int",
        2,
        "plateau: epochs without improvement before decaying.",
        minimum=0,
        maximum=100_000,
    ),
    Setting(
        "early_stopping.metric",
        "choice",
        "val_loss",
        "The figure early stopping watches.",
        "Early stopping",
        choices=STOP_METRICS,
        in_new_projects=True,
    ),
    Setting(
        "early_stopping.patience",
        "int",
        3,
        "Epochs without improvement before training stops.",
        "Patience",
        1,
        100_000,
        in_new_projects=True,
    ),
    Setting(
        "early_stopping.min_delta",
        "float",
        0.0,
        "The smallest change that counts as an improvement.",
        minimum=0.0,
        maximum=1e9,
    ),
    Setting(
        "early_stopping.restore_best",
        "bool",
        True,
        "Keep the best epoch's weights when training stops early.",
    ),
    Setting(
        "validation_split",
        "float",
        0.2,
        "The share of the data held out to validate on (drawn per class, from the seed).",
        "Validation split",
        0.0,
        0.9,
        in_new_projects=True,
    ),
    Setting(
        "grad_clip",
        "float",
        None,
        "Clip the gradients' total norm to this (null: no clipping).",
        minimum=1e-12,
        optional=True,
        refusal="gradient clipping must be a positive number (or absent)",
    ),
    Setting(
        "mixed_precision",
        "bool",
        False,
        "Train in bf16 autocast on a CUDA GPU.",
    ),
    Setting(
        "seed",
        "int",
        0,
        "Decides the initial weights, the split and the batch order: the same seed repeats a CPU run.",
        "Seed",
        0,
        2**32 - 1,
        option="--seed",
        metavar="S",
        in_new_projects=True,
    ),
    Setting(
        "device",
        "device",
        "auto",
        "Where to train: auto picks CUDA, then Apple's MPS, then the CPU.",
        option="--device",
        metavar="auto|cpu|cuda|cuda:N|mps",
        in_new_projects=True,
    ),
    Setting(
        "compile",
        "bool",
        False,
        "Run the network through torch.compile (falls back to eager, with a note, if it fails).",
        option="--compile",
    ),
)
BY_KEY = {s.key: s for s in TRAINING}
_DEFAULT = defaults(TRAINING)


def new_project_training() -> dict[str, Any]:
    """The training section a new project starts with."""
    return nested({s.key: s.default for s in TRAINING if s.in_new_projects})


@dataclass(frozen=True)
class OptimizerSettings:
    name: str = _DEFAULT["optimizer.name"]
    lr: float = _DEFAULT["optimizer.lr"]
    weight_decay: float = _DEFAULT["optimizer.weight_decay"]
    momentum: float = _DEFAULT["optimizer.momentum"]
    nesterov: bool = _DEFAULT["optimizer.nesterov"]


@dataclass(frozen=True)
class EarlyStopping:
    metric: str = _DEFAULT["early_stopping.metric"]
    patience: int = _DEFAULT["early_stopping.patience"]
    min_delta: float = _DEFAULT["early_stopping.min_delta"]
    restore_best: bool = _DEFAULT["early_stopping.restore_best"]


@dataclass(frozen=True)
class Schedule:
    name: str = _DEFAULT["schedule.name"]
    step_size: int = _DEFAULT["schedule.step_size"]
    gamma: float = _DEFAULT["schedule.gamma"]
    patience: int = _DEFAULT["schedule.patience"]


@dataclass(frozen=True)
class TrainingSettings:
    loss: str = _DEFAULT["loss"]
    optimizer: OptimizerSettings = field(default_factory=OptimizerSettings)
    epochs: int = _DEFAULT["epochs"]
    batch_size: int = _DEFAULT["batch_size"]
    validation_split: float = _DEFAULT["validation_split"]
    early_stopping: EarlyStopping | None = field(default_factory=EarlyStopping)
    schedule: Schedule = field(default_factory=Schedule)
    grad_clip: float | None = _DEFAULT["grad_clip"]
    mixed_precision: bool = _DEFAULT["mixed_precision"]
    seed: int = _DEFAULT["seed"]
    device: str = _DEFAULT["device"]
    compile: bool = _DEFAULT["compile"]

    @property
    def is_classification(self) -> bool:
        return self.loss in CLASSIFICATION_LOSSES

    @classmethod
    def from_project(
        cls, project: Project, overrides: Mapping[str, Any] | None = None
    ) -> TrainingSettings:
        """Typed settings; call `settings_problems` first: bad values fall back to defaults here.
        `overrides` (by key, ``{"optimizer.lr": 0.01}``) replace the file's values for one run."""
        return cls.from_json(project.training, overrides)

    @classmethod
    def from_json(
        cls, data: Mapping[str, Any], overrides: Mapping[str, Any] | None = None
    ) -> TrainingSettings:
        return _parse(_overridden(data, overrides), [])


def _overridden(data: Mapping[str, Any], overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    chosen = copy.deepcopy(dict(data)) if isinstance(data, Mapping) else {}
    for key, value in (overrides or {}).items():
        if value is not None:
            if key.startswith("early_stopping.") and chosen.get("early_stopping") is None:
                continue  # switched off in the file: an override of its parts does not revive it
            write_path(chosen, tuple(key.split(".")), value)
    return chosen


def settings_problems(project: Project, analysis: Analysis | None = None) -> list[Diagnostic]:
    """Every unusable training setting, and losses that do not fit the network's output."""
    problems: list[Diagnostic] = []
    settings = _parse(project.training, problems)
    if analysis is not None and analysis.ok:
        out = analysis.output_shape
        if out is not None and settings.loss in CLASSIFICATION_LOSSES and len(out) != 1:
            problems.append(
                Diagnostic(
                    "error",
                    f"cross-entropy needs one score per class at the Output, but it receives {'x'.join(map(str, out))}",
                    None,
                    "training.loss",
                    "end the network with Flatten and Linear(number of classes), or choose mse",
                )
            )
        if out is not None and settings.loss == "next_token" and not _continues_text(analysis):
            problems.append(
                Diagnostic(
                    "error",
                    "the next_token loss needs a score for every token at every step: the Input "
                    "reads steps token ids and the Output receives steps x vocabulary, but they "
                    f"are {'x'.join(map(str, analysis.input_shape or ())) or 'one value'} and "
                    f"{'x'.join(map(str, out))}",
                    None,
                    "training.loss",
                    "end the network with a Linear(out_features=vocabulary) on every step, or "
                    "choose cross_entropy",
                )
            )
    return problems


def _continues_text(analysis: Analysis) -> bool:
    """A language model's shapes: token ids (steps,) in, (steps, vocabulary) scores out."""
    shape_in, out = tuple(analysis.input_shape or ()), tuple(analysis.output_shape or ())
    return analysis.reads_tokens and len(shape_in) == 1 and len(out) == 2 and out[0] == shape_in[0]


def _parse(data: Any, problems: list[Diagnostic]) -> TrainingSettings:
    def report(key: str, message: str, hint: str | None) -> None:
        problems.append(Diagnostic("error", message, None, f"training.{key}", hint))

    values, off = read_table(data, TRAINING, TRAINING_SECTIONS, report)
    return TrainingSettings(
        **top_level(values),
        optimizer=OptimizerSettings(**group(values, "optimizer")),
        early_stopping=None
        if "early_stopping" in off
        else EarlyStopping(**group(values, "early_stopping")),
        schedule=Schedule(**group(values, "schedule")),
    )
