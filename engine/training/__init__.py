"""Training: the Trainer and its callbacks, losses, optimizers, schedules, metrics and checkpoints.

No Qt here. The CLI (`netwright train`) and the GUI's training controller both
use `plan_training` to go from a project to a `TrainingPlan`, then run a
`Trainer` with their own callbacks.
"""

from __future__ import annotations

from engine.training.callbacks import BatchEnd, Callback
from engine.training.checkpoints import (
    CheckpointEachEpoch,
    checkpoint_metadata,
    checkpoint_scaling,
    load_checkpoint,
    save_checkpoint,
)
from engine.training.devices import DeviceError, choose_threads, select_device
from engine.training.plan import PlanError, TrainingPlan, plan_training
from engine.training.reporting import MetricsWriter, ProgressPrinter
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
    "FitResult",
    "MetricsWriter",
    "PlanError",
    "ProgressPrinter",
    "Trainer",
    "TrainingPlan",
    "checkpoint_metadata",
    "checkpoint_scaling",
    "choose_threads",
    "load_checkpoint",
    "plan_training",
    "save_checkpoint",
    "select_device",
]
