"""The Training settings dock: the project's `training` section as a form, every edit undoable.

Each field writes one key through a `SetProjectValue` command on the
document's undo stack (typing merges into one step). A value the engine would
refuse (engine.settings reports it) is not written: the field turns red and
the reason shows under the form. The form re-reads the project after every
analysis, so undo, redo and opening another project show up here too.
"""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.panels.commands import MISSING, SetProjectValue, close_merging, read, write
from engine.project import Project
from engine.settings import LOSSES, OPTIMIZERS, SCHEDULES, STOP_METRICS, settings_problems

LABELS = {
    "cross_entropy": "Cross-entropy (classes)",
    "bce_with_logits": "Binary cross-entropy",
    "mse": "Mean squared error",
    "l1": "Mean absolute error (L1)",
    "huber": "Huber",
    "sgd": "SGD (momentum)",
    "adam": "Adam",
    "adamw": "AdamW",
    "rmsprop": "RMSprop",
    "adagrad": "Adagrad",
    "none": "Constant",
    "step": "Step decay",
    "cosine": "Cosine",
    "one_cycle": "One-cycle",
    "plateau": "On plateau",
    "val_loss": "Validation loss",
    "val_accuracy": "Validation accuracy",
    "train_loss": "Training loss",
}
OFF = "off"


def problem_for(training: dict[str, Any], path: tuple[str, ...]) -> str | None:
    """Why the engine would refuse `training` at `path`, or None."""
    key = "training." + ".".join(path)
    for diagnostic in settings_problems(Project("check", training=training)):
        if diagnostic.param == key or (diagnostic.param or "").startswith(key + "."):
            return diagnostic.message + (f" ({diagnostic.hint})" if diagnostic.hint else "")
    return None


class TrainingSettingsPanel(QWidget):
    def __init__(self, document: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TrainingSettings")
        self.document = document
        self.fields: dict[tuple[str, ...], QWidget] = {}
        self._loading = False
        form = QFormLayout()
        form.setContentsMargins(10, 8, 10, 4)
        form.setVerticalSpacing(6)
        self.loss = self._combo(("loss",), LOSSES)
        self.optimizer = self._combo(("optimizer", "name"), OPTIMIZERS)
        self.lr = self._number(("optimizer", "lr"), "0.001")
        self.weight_decay = self._number(("optimizer", "weight_decay"), "0")
        self.batch_size = self._spin(("batch_size",), 1, 1_000_000)
        self.epochs = self._spin(("epochs",), 1, 1_000_000)
        self.schedule = QComboBox()
        for name in SCHEDULES:
            self.schedule.addItem(LABELS.get(name, name), name)
        self.schedule.currentIndexChanged.connect(lambda _i: self._schedule_chosen())
        self.stopping = QComboBox()
        self.stopping.addItem("Off", OFF)
        for name in STOP_METRICS:
            self.stopping.addItem(LABELS.get(name, name), name)
        self.stopping.currentIndexChanged.connect(lambda _i: self._stopping_chosen())
        self.patience = self._spin(("early_stopping", "patience"), 1, 100_000)
        self.split = self._number(("validation_split",), "0.2")
        self.seed = self._spin(("seed",), 0, 2**31 - 1)
        stop_row = QHBoxLayout()
        stop_row.addWidget(self.stopping, 1)
        stop_row.addWidget(QLabel("patience"))
        stop_row.addWidget(self.patience)
        for label, widget in (
            ("Loss", self.loss),
            ("Optimizer", self.optimizer),
            ("Learning rate", self.lr),
            ("Weight decay", self.weight_decay),
            ("Batch size", self.batch_size),
            ("Epochs", self.epochs),
            ("LR schedule", self.schedule),
        ):
            form.addRow(label, widget)
        form.addRow("Early stopping", stop_row)
        form.addRow("Validation split", self.split)
        form.addRow("Seed", self.seed)
        self.refusal = QLabel("")
        self.refusal.setObjectName("InspectorRefusal")
        self.refusal.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.refusal)
        layout.addStretch(1)
        document.analysed.connect(lambda _a: self.load())
        document.project_replaced.connect(self.load)
        document.project_replaced.connect(lambda: self.refusal.setText(""))
        document.undo_stack.indexChanged.connect(lambda _i: self.load())
        document.read_only_changed.connect(lambda locked: self.setEnabled(not locked))
        self.load()

    # --------------------------------------------------------- widgets
    def _combo(self, path: tuple[str, ...], names: tuple[str, ...]) -> QComboBox:
        box = QComboBox()
        for name in names:
            box.addItem(LABELS.get(name, name), name)
        box.currentIndexChanged.connect(lambda _i: self.set_value(path, box.currentData()))
        self.fields[path] = box
        return box

    def _spin(self, path: tuple[str, ...], low: int, high: int) -> QSpinBox:
        box = QSpinBox()
        box.setRange(low, high)
        box.setKeyboardTracking(True)
        box.valueChanged.connect(lambda value: self.set_value(path, int(value), merge=True))
        box.editingFinished.connect(lambda: close_merging(self.document))
        self.fields[path] = box
        return box

    def _number(self, path: tuple[str, ...], placeholder: str) -> QLineEdit:
        edit = QLineEdit()
        edit.setPlaceholderText(placeholder)
        edit.textEdited.connect(lambda text: self._typed(path, edit, text))
        edit.editingFinished.connect(lambda: self._finished_typing(path, edit))
        self.fields[path] = edit
        return edit

    def _typed(self, path: tuple[str, ...], edit: QLineEdit, text: str) -> None:
        try:
            value = float(text)
        except ValueError:
            self._mark(edit, f"'{text}' is not a number" if text.strip() else "a number is needed")
            return
        self.set_value(path, value, merge=True)

    def _finished_typing(self, path: tuple[str, ...], edit: QLineEdit) -> None:
        close_merging(self.document)
        if edit.property("invalid"):  # show the value in force again; the reason stays
            reason = self.refusal.text()
            self._mark(edit, None)
            self.load()
            self.refusal.setText(reason)

    def _mark(self, widget: QWidget, problem: str | None) -> None:
        widget.setProperty("invalid", problem is not None)
        widget.style().unpolish(widget)
        widget.style().polish(widget)
        self.refusal.setText(problem or "")

    # ----------------------------------------------------------- edits
    def set_value(self, path: tuple[str, ...], value: Any, merge: bool = False) -> bool:
        """Write one setting as an undoable step; False (with the reason shown) if refused."""
        if self._loading:
            return False
        training = self.document.project.training
        if read(training, path) == value:
            return False
        if self.document.read_only:
            self.refusal.setText("Training settings are locked while training runs.")
            self.load()
            return False
        candidate = copy.deepcopy(training)
        write(candidate, path, value)
        problem = problem_for(candidate, path)
        widget = self.fields.get(path)
        if problem is not None:
            if widget is not None:
                self._mark(widget, problem)
            else:
                self.refusal.setText(problem)
            return False
        if widget is not None:
            self._mark(widget, None)
        self.refusal.setText("")
        text = f"Set training {'.'.join(path)} to {_short(value)}"
        self.document.undo_stack.push(
            SetProjectValue(self.document, "training", path, value, text, merge)
        )
        return True

    def _schedule_chosen(self) -> None:
        name = self.schedule.currentData()
        current = read(self.document.project.training, ("schedule",))
        if isinstance(current, dict):
            value: Any = {**current, "name": name}
        else:
            value = {"name": name}
        if name == "none" and current is MISSING:
            return
        self.set_value(("schedule",), value)

    def _stopping_chosen(self) -> None:
        metric = self.stopping.currentData()
        current = read(self.document.project.training, ("early_stopping",))
        if metric == OFF:
            self.set_value(("early_stopping",), None)
        elif isinstance(current, dict):
            self.set_value(("early_stopping", "metric"), metric)
        else:
            self.set_value(
                ("early_stopping",), {"metric": metric, "patience": self.patience.value()}
            )

    # ------------------------------------------------------------ load
    def load(self) -> None:
        """Show the project's values (after undo, redo, another project, any analysis)."""
        self._loading = True
        try:
            t = self.document.project.training
            self._show_combo(self.loss, t.get("loss", "cross_entropy"))
            optimizer = t.get("optimizer") if isinstance(t.get("optimizer"), dict) else {}
            self._show_combo(self.optimizer, optimizer.get("name", "adam"))
            self._show_number(self.lr, optimizer.get("lr", 0.001))
            self._show_number(self.weight_decay, optimizer.get("weight_decay", 0.0))
            self._show_spin(self.batch_size, t.get("batch_size", 64))
            self._show_spin(self.epochs, t.get("epochs", 10))
            schedule = t.get("schedule")
            name = schedule.get("name") if isinstance(schedule, dict) else schedule
            self._show_combo(self.schedule, name or "none")
            stopping = t.get("early_stopping", {"metric": "val_loss", "patience": 3})
            on = isinstance(stopping, dict)
            self._show_combo(self.stopping, stopping.get("metric", "val_loss") if on else OFF)
            self.patience.setEnabled(on)
            self._show_spin(self.patience, stopping.get("patience", 3) if on else 3)
            self._show_number(self.split, t.get("validation_split", 0.2))
            self._show_spin(self.seed, t.get("seed", 0))
        finally:
            self._loading = False

    @staticmethod
    def _show_combo(box: QComboBox, value: Any) -> None:
        index = box.findData(value) if isinstance(value, str) else -1  # a file's 10**400 is no name
        if index >= 0 and index != box.currentIndex():
            box.setCurrentIndex(index)

    @staticmethod
    def _show_spin(box: QSpinBox, value: Any) -> None:
        if isinstance(value, int) and not isinstance(value, bool) and box.value() != value:
            box.setValue(max(box.minimum(), min(box.maximum(), value)))  # Problems names it

    @staticmethod
    def _show_number(edit: QLineEdit, value: Any) -> None:
        if edit.property("invalid"):
            return  # the user is mid-way through fixing it
        try:
            if edit.text() and float(edit.text()) == value:
                return  # keep what was typed ("1e-3" stays "1e-3")
        except ValueError:
            pass
        edit.setText(f"{value:g}" if isinstance(value, float) else str(value))


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("name", value.get("metric", "…")))
    return "off" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


__all__ = ["TrainingSettingsPanel", "problem_for"]
