"""The Training settings dock: the project's `training` section as a form, every edit undoable.

The form is generated from the settings table (engine.settings.TRAINING): each
setting with a label gets a row, an editor that fits its kind and range, and
its help as the tooltip. Each edit goes through the Document (`set_value`), so
it is one step on the one undo stack (typing merges into one step) and is
refused while training runs. A value the engine would refuse is not written:
the field turns red and the reason shows under the form. The form re-reads the
project after every analysis, so undo, redo and opening another project show
up here too.
"""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from designer.document import Document
from engine.project import Project
from engine.settings import (
    BY_KEY,
    MISSING,
    TRAINING,
    TRAINING_SECTIONS,
    Setting,
    settings_problems,
)
from engine.settings.declared import given, read_path, write_path

OFF = "off"
SPIN_LIMIT = 2**31 - 1  # a QSpinBox holds 32-bit numbers
NULLABLE = {s.key for s in TRAINING_SECTIONS if s.off is not None}
SHOWN = [s for s in TRAINING if s.label]


def section_of(setting: Setting) -> str:
    return setting.key.rpartition(".")[0]


def switches() -> dict[str, Setting]:
    """For each section that can be off, the row that switches it (its first on the form)."""
    found: dict[str, Setting] = {}
    for setting in SHOWN:
        found.setdefault(section_of(setting), setting)
    return {section: setting for section, setting in found.items() if section in NULLABLE}


SWITCHES = switches()


def problem_for(training: dict[str, Any], key: str) -> str | None:
    """Why the engine would refuse `training` at `key` (or inside it), or None."""
    path = "training." + key
    for diagnostic in settings_problems(Project("check", training=training)):
        if diagnostic.param == path or (diagnostic.param or "").startswith(path + "."):
            return diagnostic.message + (f" ({diagnostic.hint})" if diagnostic.hint else "")
    return None


class TrainingSettingsPanel(QWidget):
    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TrainingSettings")
        self.document = document
        self.fields: dict[str, QWidget] = {}  # by setting key ("optimizer.lr")
        self._loading = False
        form = QFormLayout()
        form.setContentsMargins(10, 8, 10, 4)
        form.setVerticalSpacing(6)
        for setting in SHOWN:
            widget = self._editor(setting)
            widget.setToolTip(setting.help)
            self.fields[setting.key] = widget
            form.addRow(setting.label, widget)
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

    def field(self, key: str) -> Any:
        """The editor of one setting, by its key (``"optimizer.lr"``)."""
        return self.fields[key]

    # --------------------------------------------------------- widgets
    def _editor(self, setting: Setting) -> QWidget:
        key = setting.key
        if setting.kind == "choice":
            box = QComboBox()
            if SWITCHES.get(section_of(setting)) is setting:
                box.addItem("Off", OFF)
            for value, label in setting.choices.items():
                box.addItem(label, value)
            box.currentIndexChanged.connect(lambda _i: self._chosen(setting, box.currentData()))
            return box
        if setting.kind == "int":
            spin = QSpinBox()
            low = int(setting.minimum if setting.minimum is not None else -SPIN_LIMIT)
            high = int(setting.maximum if setting.maximum is not None else SPIN_LIMIT)
            spin.setRange(max(low, -SPIN_LIMIT), min(high, SPIN_LIMIT))
            spin.setKeyboardTracking(True)
            spin.valueChanged.connect(lambda value: self.set_value(key, int(value), merge=True))
            spin.editingFinished.connect(self.document.end_merge)
            return spin
        if setting.kind == "bool":
            check = QCheckBox()
            check.toggled.connect(lambda on: self.set_value(key, bool(on)))
            return check
        edit = QLineEdit()
        edit.setPlaceholderText(f"{setting.default:g}" if setting.default is not None else "")
        edit.textEdited.connect(lambda text: self._typed(key, edit, text))
        edit.editingFinished.connect(lambda: self._finished_typing(edit))
        return edit

    def _typed(self, key: str, edit: QLineEdit, text: str) -> None:
        try:
            value = float(text)
        except ValueError:
            self._mark(edit, f"'{text}' is not a number" if text.strip() else "a number is needed")
            return
        self.set_value(key, value, merge=True)

    def _finished_typing(self, edit: QLineEdit) -> None:
        self.document.end_merge()
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
    def _chosen(self, setting: Setting, value: Any) -> None:
        section = section_of(setting)
        if value == OFF:
            self._write(section, None, f"Turn training {section.replace('_', ' ')} off")
        else:
            self.set_value(setting.key, value)

    def set_value(self, key: str, value: Any, merge: bool = False) -> bool:
        """Write one setting as an undoable step; False (with the reason shown) if refused."""
        if self._loading or value == self._shown(key):
            return False
        section = key.rpartition(".")[0]
        if self._off(section):  # writing into a section that is off turns it on
            whole = {
                s.key.rpartition(".")[2]: self._shown(s.key)
                for s in SHOWN
                if section_of(s) == section
            }
            whole[key.rpartition(".")[2]] = value
            return self._write(section, whole, f"Set training {key} to {_text(value)}", key)
        return self._write(key, value, f"Set training {key} to {_text(value)}", merge=merge)

    def _write(
        self, key: str, value: Any, text: str, shown: str | None = None, merge: bool = False
    ) -> bool:
        if self.document.read_only:
            self.refusal.setText("Training settings are locked while training runs.")
            self.load()
            return False
        candidate = copy.deepcopy(self.document.project.training)
        write_path(candidate, tuple(key.split(".")), value)
        problem = problem_for(candidate, key)
        widget = self.fields.get(shown or key)
        if problem is not None:
            if widget is not None:
                self._mark(widget, problem)
            else:
                self.refusal.setText(problem)
            return False
        if widget is not None:
            self._mark(widget, None)
        self.refusal.setText("")
        return self.document.set_value("training." + key, value, merge=merge, text=text)

    # ------------------------------------------------------------ load
    def _off(self, section: str) -> bool:
        value = read_path(self.document.project.training, tuple(section.split(".")))
        return section in NULLABLE and (value is None or value is False)

    def _shown(self, key: str) -> Any:
        """The value in force: the file's when it has one, else the default."""
        setting = BY_KEY[key]
        if self._off(section_of(setting)):
            return OFF if SWITCHES.get(section_of(setting)) is setting else setting.default
        value = given(self.document.project.training, key, TRAINING_SECTIONS)
        return setting.default if value is MISSING else value

    def load(self) -> None:
        """Show the project's values (after undo, redo, another project, any analysis)."""
        self._loading = True
        try:
            for setting in SHOWN:
                widget = self.fields[setting.key]
                self._show(widget, self._shown(setting.key))
                switch = SWITCHES.get(section_of(setting))
                widget.setEnabled(
                    switch is None or switch is setting or not self._off(section_of(setting))
                )
        finally:
            self._loading = False

    @staticmethod
    def _show(widget: QWidget, value: Any) -> None:
        if isinstance(widget, QComboBox):
            index = widget.findData(value) if isinstance(value, str) else -1
            if index >= 0 and index != widget.currentIndex():
                widget.setCurrentIndex(index)  # a file's 10**400 is no name: Problems says so
        elif isinstance(widget, QSpinBox):
            if isinstance(value, int) and not isinstance(value, bool) and widget.value() != value:
                widget.setValue(max(widget.minimum(), min(widget.maximum(), value)))
        elif isinstance(widget, QCheckBox):
            if isinstance(value, bool) and widget.isChecked() != value:
                widget.setChecked(value)
        elif isinstance(widget, QLineEdit):
            if widget.property("invalid"):
                return  # the user is mid-way through fixing it
            try:
                if widget.text() and float(widget.text()) == value:
                    return  # keep what was typed ("1e-3" stays "1e-3")
            except (TypeError, ValueError):
                pass
            widget.setText(f"{value:g}" if isinstance(value, float) else str(value))


def _text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


__all__ = ["TrainingSettingsPanel", "problem_for"]
