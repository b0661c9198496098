"""Settings declared once (engine.settings.declared) and the training section's table.

`from engine.settings import TrainingSettings, settings_problems` is what most
code needs; the table itself is `TRAINING`.
"""

from __future__ import annotations

from engine.settings.declared import DEVICE_PATTERN, MISSING, Section, Setting
from engine.settings.training import (
    BY_KEY,
    CLASSIFICATION_LOSSES,
    LOSSES,
    OPTIMIZERS,
    SCHEDULES,
    STOP_METRICS,
    TRAINING,
    TRAINING_SECTIONS,
    EarlyStopping,
    OptimizerSettings,
    Schedule,
    TrainingSettings,
    new_project_training,
    optimizer_settings,
    settings_problems,
)

__all__ = [
    "BY_KEY",
    "CLASSIFICATION_LOSSES",
    "DEVICE_PATTERN",
    "LOSSES",
    "MISSING",
    "OPTIMIZERS",
    "SCHEDULES",
    "STOP_METRICS",
    "TRAINING",
    "TRAINING_SECTIONS",
    "EarlyStopping",
    "OptimizerSettings",
    "Schedule",
    "Section",
    "Setting",
    "TrainingSettings",
    "new_project_training",
    "optimizer_settings",
    "settings_problems",
]
