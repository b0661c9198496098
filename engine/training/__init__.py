"""Training: the one Trainer, its steps and callbacks, losses, optimizers, metrics and checkpoints.

No Qt here. The CLI (`netwright train`) and the GUI's training controller both
use `plan_training` to go from any project to a `TrainingPlan`, then run its
`Trainer` with their own callbacks.
"""

from __future__ import annotations

from engine.training.callbacks import BatchEnd, Callback
from engine.training.checkpoints import (
    CheckpointEachEpoch,
    checkpoint_metadata,
    checkpoint_scaling,
    load_checkpoint,
    load_networks,
    save_checkpoint,
    save_networks,
)
from engine.training.devices import DeviceError, choose_threads, select_device
from engine.training.plan import PlanError, TrainingPlan, plan_training
from engine.training.reporting import MetricsWriter, ProgressPrinter
from engine.training.step import Diverged, StepOutput, TrainingStep
from engine.training.supervised import SupervisedStep
from engine.training.trainer import (
    COMPLETED,
    DIVERGED,
    EARLY_STOPPED,
    STATUSES,
    STOPPED,
    Batches,
    FitResult,
    Trainer,
)

__all__ = [
    "COMPLETED",
    "DIVERGED",
    "EARLY_STOPPED",
    "STATUSES",
    "STOPPED",
    "BatchEnd",
    "Batches",
    "Callback",
    "CheckpointEachEpoch",
    "DeviceError",
    "Diverged",
    "FitResult",
    "MetricsWriter",
    "PlanError",
    "ProgressPrinter",
    "StepOutput",
    "SupervisedStep",
    "Trainer",
    "TrainingPlan",
    "TrainingStep",
    "checkpoint_metadata",
    "checkpoint_scaling",
    "choose_threads",
    "load_checkpoint",
    "load_networks",
    "plan_training",
    "save_checkpoint",
    "save_networks",
    "select_device",
]
