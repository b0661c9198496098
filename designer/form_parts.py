"""The pieces the inspector's forms are made of, laid out alike wherever they appear."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QLabel, QWidget


def text_label(text: str, name: str) -> QLabel:
    """A wrapping, selectable label styled by its object name (InspectorDim, ...)."""
    label = QLabel(text)
    label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def set_text(label: QLabel, text: str) -> None:
    """Change a label only when its text changes: a relayout of the dock costs a frame."""
    if label.text() != text:
        label.setText(text)


def form_box(top: int) -> tuple[QWidget, QFormLayout]:
    """A box holding a form laid out as every form in the inspector is."""
    box = QWidget()
    form = QFormLayout(box)
    form.setContentsMargins(0, top, 0, 0)
    form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setVerticalSpacing(4)
    return box, form
