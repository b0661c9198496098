"""Training: the one Trainer, its steps and callbacks, losses, optimizers, metrics and checkpoints.

No Qt here. The CLI (`netwright train`) and the GUI's training controller both
use `plan_training` to go from any project to a `TrainingPlan`, then run its
`Trainer` with their own callbacks. The names below load on first use, so a
torch-free corner (the window before its first paint, `netwright layers`) can
import this package's light modules without loading torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.lazy import lazy_names

if TYPE_CHECKING:
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
    from engine.training.status import COMPLETED, DIVERGED, EARLY_STOPPED, STATUSES, STOPPED
    from engine.training.step import Diverged, StepOutput, TrainingStep
    from engine.training.supervised import SupervisedStep
    from engine.training.trainer import Batches, FitResult, Trainer

_WHERE = {
    "BatchEnd": "engine.training.callbacks",
    "Batches": "engine.training.trainer",
    "COMPLETED": "engine.training.status",
    "Callback": "engine.training.callbacks",
    "CheckpointEachEpoch": "engine.training.checkpoints",
    "DIVERGED": "engine.training.status",
    "DeviceError": "engine.training.devices",
    "Diverged": "engine.training.step",
    "EARLY_STOPPED": "engine.training.status",
    "FitResult": "engine.training.trainer",
    "MetricsWriter": "engine.training.reporting",
    "PlanError": "engine.training.plan",
    "ProgressPrinter": "engine.training.reporting",
    "STATUSES": "engine.training.status",
    "STOPPED": "engine.training.status",
    "StepOutput": "engine.training.step",
    "SupervisedStep": "engine.training.supervised",
    "Trainer": "engine.training.trainer",
    "TrainingPlan": "engine.training.plan",
    "TrainingStep": "engine.training.step",
    "checkpoint_metadata": "engine.training.checkpoints",
    "checkpoint_scaling": "engine.training.checkpoints",
    "choose_threads": "engine.training.devices",
    "load_checkpoint": "engine.training.checkpoints",
    "load_networks": "engine.training.checkpoints",
    "plan_training": "engine.training.plan",
    "save_checkpoint": "engine.training.checkpoints",
    "save_networks": "engine.training.checkpoints",
    "select_device": "engine.training.devices",
}


__getattr__ = lazy_names(__name__, _WHERE)


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
