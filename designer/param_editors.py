"""One editor widget per parameter kind, generated from a `Param` declaration.

Numbers get spin boxes bounded by the declared range, choices a combo box,
flags a check box, tuples and optional values a text field parsed and checked
with `Param.check`, so an invalid value is refused with the declaration's own
reason before it reaches the graph.
"""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from engine.layers.base import Param

INT_LIMIT = 2**31 - 1


class ParamEditor(QWidget):
    """Emits `edited(value, merge)` for acceptable values, `refused(reason)` otherwise."""

    edited = Signal(object, bool)
    refused = Signal(str)
    finished = Signal()

    def __init__(self, param: Param, value: Any) -> None:
        super().__init__()
        self.param = param
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.field = self._make_field()
        self.field.setToolTip(f"{param.help}\nAccepts: {param.describe()}")
        layout.addWidget(self.field)
        self.set_value(value)

    # ---------------------------------------------------------------- build
    def _make_field(self) -> QWidget:
        p = self.param
        if p.kind == "bool":
            box = QCheckBox()
            box.toggled.connect(lambda on: self.edited.emit(bool(on), False))
            return box
        if p.kind == "choice":
            combo = QComboBox()
            combo.addItems([str(c) for c in p.choices])
            combo.activated.connect(lambda i: self.edited.emit(p.choices[i], False))
            return combo
        if p.kind == "int" and not p.optional:
            spin = QSpinBox()
            spin.setRange(_bound(p.minimum, -INT_LIMIT), _bound(p.maximum, INT_LIMIT))
            spin.setAccelerated(True)
            spin.valueChanged.connect(lambda v: self.edited.emit(int(v), True))
            spin.editingFinished.connect(self.finished)
            return spin
        if p.kind == "float" and not p.optional:
            number = NumberSpinBox()
            number.setRange(
                p.minimum if p.minimum is not None else -1e12,
                p.maximum if p.maximum is not None else 1e12,
            )
            number.valueChanged.connect(lambda v: self.edited.emit(float(v), True))
            number.editingFinished.connect(self.finished)
            return number
        line = QLineEdit()
        line.setPlaceholderText("default (automatic)" if p.optional else p.describe())
        line.editingFinished.connect(self._line_finished)
        return line

    # ---------------------------------------------------------------- value
    def set_value(self, value: Any) -> None:
        """Show `value` without emitting an edit (used when the graph changed elsewhere)."""
        field = self.field
        field.blockSignals(True)
        try:
            if isinstance(field, QCheckBox):
                field.setChecked(bool(value))
            elif isinstance(field, QComboBox):
                index = next((i for i, c in enumerate(self.param.choices) if c == value), -1)
                field.setCurrentIndex(index)
            elif isinstance(field, (QSpinBox, QDoubleSpinBox)):
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    # a hostile file's 10**12 shows as the limit (the Problems list names it)
                    shown = max(field.minimum(), min(field.maximum(), value))
                    if isinstance(field, QSpinBox):
                        field.setValue(int(shown))
                    else:
                        field.setValue(float(shown))
            elif isinstance(field, QLineEdit):
                field.setText(value_text(value))
                field.setProperty("invalid", False)
                restyle(field)
        finally:
            field.blockSignals(False)

    def _line_finished(self) -> None:
        line = self.field
        assert isinstance(line, QLineEdit)
        try:
            value = parse_text(self.param, line.text())
            problem = self.param.check(value)
        except ValueError as error:
            problem = str(error)
        line.setProperty("invalid", problem is not None)
        restyle(line)
        if problem:
            self.refused.emit(problem)
            return
        self.edited.emit(value, False)
        self.finished.emit()


class NumberSpinBox(QDoubleSpinBox):
    """A spin box that shows 1e-05 and 0.0001 as people write them (no fixed decimals)."""

    def __init__(self) -> None:
        super().__init__()
        self.setDecimals(10)
        self.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        self.setAccelerated(True)

    def textFromValue(self, value: float) -> str:
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        return self._state(text), text, pos

    def _state(self, text: str) -> QValidator.State:
        stripped = text.strip()
        if re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d*)?", stripped) or stripped in (
            "",
            "-",
            "+",
            ".",
        ):
            try:
                value = float(stripped)
            except ValueError:
                return QValidator.State.Intermediate
            if self.minimum() <= value <= self.maximum():
                return QValidator.State.Acceptable
            return QValidator.State.Intermediate
        return QValidator.State.Invalid


def value_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def parse_text(param: Param, text: str) -> Any:
    """Read what someone typed for `param`: ``3``, ``3, 3``, ``1x8x8``, or empty for default."""
    text = text.strip()
    if not text:
        if param.optional:
            return None
        raise ValueError(f"'{param.name}' needs a value ({param.describe()})")
    if param.kind == "str":
        return text
    parts = [p for p in re.split(r"[\s,x×\[\]()]+", text) if p]
    try:
        numbers = (
            [int(p) for p in parts]
            if param.kind in ("ints", "size", "int")
            else [float(p) for p in parts]
        )
    except ValueError:
        raise ValueError(f"'{param.name}' must be {param.describe()} (got '{text}')") from None
    if param.kind == "ints":
        return numbers
    if len(numbers) == 1:
        return numbers[0]
    if param.kind == "size":
        return numbers
    raise ValueError(f"'{param.name}' takes one number (got '{text}')")


def _bound(value: float | None, default: int) -> int:
    if value is None:
        return default
    return int(max(min(value, INT_LIMIT), -INT_LIMIT))


def restyle(widget: QWidget) -> None:
    """Re-read the style sheet after a dynamic property changed."""
    widget.style().unpolish(widget)
    widget.style().polish(widget)
