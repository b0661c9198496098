"""The training log: one timestamped line per thing that happened, errors in full."""

from __future__ import annotations

import time

from PySide6.QtWidgets import QPlainTextEdit, QWidget

from designer import theme

MAX_LINES = 5000


class LogPanel(QPlainTextEdit):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TrainingLog")
        self.setReadOnly(True)
        self.setMaximumBlockCount(MAX_LINES)
        self.setFont(theme.mono_font(8.5))
        self.lines: list[str] = []

    def say(self, text: str, level: str = "info") -> None:
        stamp = time.strftime("%H:%M:%S")
        mark = {"error": "✖ ", "warning": "⚠ "}.get(level, "")
        for i, line in enumerate(text.rstrip().splitlines() or [""]):
            shown = f"{stamp}  {mark}{line}" if i == 0 else f"          {line}"
            self.lines.append(shown)
            self.appendPlainText(shown)
        del self.lines[:-MAX_LINES]
