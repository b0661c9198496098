"""The Writing page: what a language model writes while it learns, and a Generate box.

Samples arrive from the run (app.text.live) through the live buffer, newest
first, each with the moment of training it was written at, so a student sees
noise become words. The Generate box continues any prompt with the trained
weights, on a thread of its own (a long text must not freeze the window);
its settings are the project's ``generation`` section, so the command line's
`netwright generate` writes the same.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QThread, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from designer import theme
from engine.settings.generation import GENERATION, GenerationSettings

SAMPLES_KEPT = 60
BY_KEY = {s.key: s for s in GENERATION}


class GenerateThread(QThread):
    """Writes one continuation off the UI thread."""

    written = Signal(str)
    failed = Signal(str)

    def __init__(self, make_writer: Callable[[], Any], settings: GenerationSettings) -> None:
        super().__init__()
        self.make_writer = make_writer
        self.settings = settings

    def run(self) -> None:
        from engine.text.generate import GenerationError, Sampling

        chosen = self.settings
        try:
            writer = self.make_writer()
            sampling = Sampling(chosen.temperature, chosen.top_k, chosen.seed)
            self.written.emit(writer.continuation(chosen.prompt, chosen.tokens, sampling))
        except GenerationError as error:
            self.failed.emit(str(error))
        except Exception as error:  # a message in the box, never a crash of the window
            self.failed.emit(f"{type(error).__name__}: {error}")


class WritingView(QWidget):
    """`set_value(key, value)` stores a generation setting in the project (one undo step);
    `make_writer()` gives the trained model (raises GenerationError when there is none)."""

    def __init__(
        self,
        set_value: Callable[[str, Any], bool],
        make_writer: Callable[[], Any],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("WritingView")
        self.set_value = set_value
        self.make_writer = make_writer
        self.samples: list[tuple[float, str]] = []
        self.prompt_text = ""
        self.writing: GenerateThread | None = None
        self.heading = QLabel("A language model's writing appears here while it trains.")
        self.heading.setObjectName("ChartTitle")
        self.heading.setWordWrap(True)
        self.heading.setTextFormat(Qt.TextFormat.PlainText)  # a prompt may hold < or &
        self.live = QTextBrowser()
        self.live.setObjectName("LiveWriting")
        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.heading)
        column.addWidget(self.live, 1)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(self._generate_box())
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(splitter)

    # ------------------------------------------------------------ the box
    def _generate_box(self) -> QWidget:
        box = QGroupBox("Generate")
        form = QFormLayout()
        self.prompt = QPlainTextEdit()
        self.prompt.setObjectName("GeneratePrompt")
        self.prompt.setPlaceholderText("the text to continue, e.g. def ")
        self.prompt.setFixedHeight(54)
        self.prompt.setToolTip(BY_KEY["prompt"].help)
        self.prompt.textChanged.connect(lambda: self.set_value("prompt", self.prompt.toPlainText()))
        self.tokens = self._spin("tokens")
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(0.0, 10.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setDecimals(2)
        self.temperature.setToolTip(BY_KEY["temperature"].help)
        self.temperature.valueChanged.connect(lambda v: self.set_value("temperature", float(v)))
        self.top_k = self._spin("top_k")
        self.top_k.setSpecialValueText("all tokens")
        self.seed = self._spin("seed")
        form.addRow("Prompt", self.prompt)
        form.addRow("Tokens", self.tokens)
        form.addRow("Temperature", self.temperature)
        form.addRow("Top-k", self.top_k)
        form.addRow("Seed", self.seed)
        self.button = QPushButton("Generate")
        self.button.setObjectName("GenerateButton")
        self.button.setToolTip("Continue the prompt with the trained weights (Ctrl+Return)")
        self.button.clicked.connect(self.generate)
        self.prompt.installEventFilter(self)  # Ctrl+Return writes (the editor takes Return)
        self.status = QLabel("")
        self.status.setObjectName("InspectorDim")
        self.status.setWordWrap(True)
        self.output = QPlainTextEdit()
        self.output.setObjectName("GenerateOutput")
        self.output.setReadOnly(True)
        self.output.setFont(theme.mono_font(9))
        column = QVBoxLayout(box)
        column.addLayout(form)
        row = QHBoxLayout()
        row.addWidget(self.button)
        row.addWidget(self.status, 1)
        column.addLayout(row)
        column.addWidget(self.output, 1)
        return box

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.prompt
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and event.modifiers() & Qt.KeyboardModifier.ControlModifier
        ):
            self.generate()
            return True
        return super().eventFilter(watched, event)

    def _spin(self, key: str) -> QSpinBox:
        setting = BY_KEY[key]
        spin = QSpinBox()
        spin.setRange(int(setting.minimum or 0), int(min(setting.maximum or 2**31 - 1, 2**31 - 1)))
        spin.setToolTip(setting.help)
        spin.valueChanged.connect(lambda v, k=key: self.set_value(k, int(v)))
        return spin

    def show_settings(self, chosen: GenerationSettings) -> None:
        """The project's generation settings in the box (no edit is recorded)."""
        set_value, self.set_value = self.set_value, lambda _k, _v: False
        try:
            if self.prompt.toPlainText() != chosen.prompt:
                self.prompt.setPlainText(chosen.prompt)
            self.tokens.setValue(chosen.tokens)
            self.temperature.setValue(chosen.temperature)
            self.top_k.setValue(chosen.top_k)
            self.seed.setValue(chosen.seed)
        finally:
            self.set_value = set_value

    def chosen(self) -> GenerationSettings:
        return GenerationSettings(
            self.prompt.toPlainText(),
            self.tokens.value(),
            self.temperature.value(),
            self.top_k.value(),
            self.seed.value(),
        )

    def generate(self) -> None:
        if self.writing is not None and self.writing.isRunning():
            return
        chosen = self.chosen()
        self.prompt_text = chosen.prompt
        self.button.setEnabled(False)
        self.status.setText(f"Writing {chosen.tokens} tokens…")
        thread = GenerateThread(self.make_writer, chosen)
        thread.written.connect(self._written)
        thread.failed.connect(self._failed)
        thread.finished.connect(lambda: self.button.setEnabled(True))
        self.writing = thread
        thread.start()

    def _written(self, text: str) -> None:
        self.output.setPlainText(self.prompt_text + text)
        self.status.setText(f"{len(text):,} characters written")

    def _failed(self, message: str) -> None:
        self.output.setPlainText("")
        self.status.setText(message)

    def wait(self, milliseconds: int = 10_000) -> bool:
        return self.writing is None or self.writing.wait(milliseconds)

    # -------------------------------------------------------- live samples
    def begin(self, chosen: GenerationSettings) -> None:
        self.samples = []
        sampling = f"temperature {chosen.temperature:g}" + (
            f", top-k {chosen.top_k}" if chosen.top_k else ""
        )
        prompt = repr(chosen.prompt) if chosen.prompt else "a new line"
        self.heading.setText(
            f"What the model writes after {prompt} as it learns ({sampling}), newest first"
        )
        self.live.setHtml("")

    def add(self, texts: list[tuple[float, str]]) -> None:
        if not texts:
            return
        self.samples = (self.samples + texts)[-SAMPLES_KEPT:]
        colours = theme.current()
        blocks = [
            f"<div style='color:{colours.text_dim}'>epoch {epoch:.2f}</div>"
            f"<pre style='margin:0 0 12px 0; white-space:pre-wrap; color:{colours.text}'>"
            f"{escape(text)}</pre>"
            for epoch, text in reversed(self.samples)
        ]
        self.live.setHtml("".join(blocks))

    @property
    def latest(self) -> str | None:
        return self.samples[-1][1] if self.samples else None
