"""Explain: why the network answered as it did for one sample, a right-click away from it.

Opened from a sample in the Results tab (a validation sample) or in the Data
tab (any sample of the data set). The method, the layer (Grad-CAM's conv
layer, an attention layer) and the class to explain (the predicted one, or
any other) are chosen here; every change is computed again on a thread of its
own (engine.explain, the same code as `netwright explain`), one at a time, the
latest request winning. The window only draws the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from app.inside.explanation_view import ExplanationView, Shown
from app.inside.jobs import Jobs

METHOD_TITLES = {
    "saliency": "Saliency",
    "integrated_gradients": "Integrated gradients",
    "occlusion": "Occlusion",
    "gradcam": "Grad-CAM",
    "attention": "Attention",
}
METHOD_TIPS = {
    "saliency": "How much a small change of each input moves the answer (the gradient's size)",
    "integrated_gradients": "The answer's change from an all-zero input, shared out among the "
    "inputs; the shares add up to it",
    "occlusion": "How much the answer drops when a patch of the input is blanked out",
    "gradcam": "Where in a conv layer's feature maps the answer comes from",
    "attention": "Which tokens each token looks at, per head of an attention layer",
}


class ExplainDialog(QDialog):
    """See the module docstring. `prepare_subject` (on the UI thread, when the network is
    needed) takes what the window holds and gives the function that builds the network and
    its samples on a job's thread; `forget` drops them when the weights or the project change."""

    def __init__(
        self, parent: QWidget | None, prepare_subject: Callable[[], Callable[[], Any]]
    ) -> None:
        super().__init__(parent)
        self.setObjectName("ExplainDialog")
        self.setWindowTitle("Explain a sample")
        self.resize(900, 470)
        self.prepare_subject = prepare_subject
        self.jobs = Jobs()
        self.subject: Any = None
        self.loading = False
        self.busy = False
        self.pending = False
        self.index: int | None = None
        self.raw: np.ndarray | None = None
        self.where = ""
        self.shown: Shown | None = None
        self.answers = 0  # explanations shown (tests wait on it)
        self._filling = False
        self._build()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.summary = QLabel("")
        self.summary.setObjectName("ExplainSummary")
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        row = QHBoxLayout()
        self.method = QComboBox()
        self.method.setObjectName("ExplainMethod")
        self.layer = QComboBox()
        self.layer.setObjectName("ExplainLayer")
        self.target = QComboBox()
        self.target.setObjectName("ExplainTarget")
        for label, box in (("Method", self.method), ("Layer", self.layer), ("Class", self.target)):
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            box.setMinimumContentsLength(10)
            caption = QLabel(label)
            caption.setObjectName("InspectorDim")
            row.addWidget(caption)
            row.addWidget(box)
            box.currentIndexChanged.connect(lambda _i, b=box: self._changed(b))
        row.addStretch(1)
        self.state = QLabel("")
        self.state.setObjectName("InspectorDim")
        row.addWidget(self.state)
        layout.addLayout(row)
        self.view = ExplanationView()
        layout.addWidget(self.view, 1)
        self.details = QLabel("")
        self.details.setObjectName("InspectorDim")
        self.details.setWordWrap(True)
        layout.addWidget(self.details)

    # ---------------------------------------------------------------- API
    def explain_validation(self, index: int) -> None:
        """Validation sample `index` (the Results tab's numbering, as `netwright explain`'s)."""
        self._open(index, None, f"validation sample {index}")

    def explain_raw(self, raw: np.ndarray, where: str) -> None:
        """A sample as the data set holds it (the Data tab's), scaled as training scales it."""
        self._open(None, np.asarray(raw), where)

    def forget(self) -> None:
        """The weights or the project changed: load them again at the next request."""
        self.subject = None

    def _open(self, index: int | None, raw: np.ndarray | None, where: str) -> None:
        self.index, self.raw, self.where = index, raw, where
        self.show()
        self.raise_()
        self.activateWindow()
        if self.subject is None:
            self._load()
        else:
            self.request()

    # ------------------------------------------------------------ loading
    def _load(self) -> None:
        if self.loading:
            return
        self.loading = True
        self.state.setText("Loading the network…")
        self.view.show_explanation(None, "Loading the network and its validation samples…")
        self.jobs.start(self.prepare_subject(), self._loaded, self._failed)

    def _loaded(self, subject: Any) -> None:
        from engine.explain.methods import METHODS, attention_layers, conv_layers

        self.loading = False
        self.subject = subject
        self.conv = conv_layers(subject)
        self.attention = attention_layers(subject)
        self._filling = True
        try:
            chosen = self.method.currentData()
            self.method.clear()
            for name in METHODS:
                if (name == "gradcam" and not self.conv) or (
                    name == "attention" and not self.attention
                ):
                    continue
                self.method.addItem(METHOD_TITLES[name], name)
                self.method.setItemData(
                    self.method.count() - 1, METHOD_TIPS[name], Qt.ItemDataRole.ToolTipRole
                )
            self.method.setCurrentIndex(max(self.method.findData(chosen), 0))
            self._fill_layers()
            self.target.clear()
            self.target.addItem("the predicted class", None)
            for i in range(subject.outputs):
                self.target.addItem(
                    subject.class_name(i) if subject.classification else f"output {i}", i
                )
        finally:
            self._filling = False
        self.request()

    def _fill_layers(self) -> None:
        method = self.method.currentData()
        layers = (
            self.conv if method == "gradcam" else self.attention if method == "attention" else []
        )
        chosen = self.layer.currentData()
        self.layer.clear()
        for node in layers:
            self.layer.addItem(node, node)
        if layers:  # the last conv layer is Grad-CAM's usual choice, the last attention's too
            index = self.layer.findData(chosen)
            self.layer.setCurrentIndex(index if index >= 0 else len(layers) - 1)
        self.layer.setEnabled(bool(layers))

    def _changed(self, box: QComboBox) -> None:
        if self._filling or self.subject is None:
            return
        if box is self.method:
            self._filling = True
            try:
                self._fill_layers()
            finally:
                self._filling = False
        self.request()

    # ------------------------------------------------------------ explaining
    def request(self) -> None:
        """Explain the current sample with the current choices (queued while one runs)."""
        if self.subject is None:
            self._load()
            return
        if self.busy:
            self.pending = True
            return
        subject, method = self.subject, str(self.method.currentData() or "saliency")
        layer = self.layer.currentData() if method in ("gradcam", "attention") else None
        target = self.target.currentData()
        index, raw = self.index, self.raw
        self.busy, self.pending = True, False
        self.state.setText("Working…")

        def work() -> tuple[Any, np.ndarray]:
            from engine.explain.methods import explain

            x = subject.prepared(raw) if raw is not None else subject.sample(int(index or 0))
            found = explain(subject, method, index, x=x, layer=layer, target=target)
            return found, x[0].numpy()

        self.jobs.start(work, self._explained, self._failed)

    def _explained(self, answer: tuple[Any, np.ndarray]) -> None:
        found, sample = answer
        self.busy = False
        subject = self.subject
        if subject is None:
            return
        self.shown = Shown(
            found,
            sample,
            len(subject.input_shape) == 3,
            subject.tokens,
            subject.feature_names() if len(subject.input_shape) == 1 and not subject.tokens else (),
            [subject.class_name(i) for i in range(subject.outputs)]
            if subject.classification
            else [],
        )
        self.view.show_explanation(self.shown)
        self.summary.setText(self._summary(found, subject))
        self.details.setText(self._details(found, subject))
        self.state.setText("")
        self.answers += 1
        if self.pending:
            self.request()

    def _failed(self, message: str) -> None:
        self.busy = self.loading = False
        self.state.setText("")
        self.view.show_explanation(None, f"Cannot explain this sample: {message}")
        if self.pending:
            self.pending = False

    def _summary(self, found: Any, subject: Any) -> str:
        parts = [f"<b>{subject.project.name}</b> · {self.where}"]
        if found.truth is not None:
            parts.append(f"true class <b>{subject.class_name(found.truth)}</b>")
        if found.probabilities is not None:
            right = found.truth is None or found.truth == found.prediction
            colour = "#5fd08a" if right else "#ff5c5c"
            parts.append(
                f"predicted <b style='color:{colour}'>{found.prediction_name}</b> "
                f"({found.probabilities[found.prediction]:.0%})"
            )
        else:
            parts.append(f"output {float(found.scores[found.target]):.4g}")
        what = METHOD_TITLES[found.method] + (f" on {found.layer}" if found.layer else "")
        parts.append(f"{what} for <b>{found.target_name}</b>")
        return " · ".join(parts)

    def _details(self, found: Any, subject: Any) -> str:
        lines = []
        if found.method == "integrated_gradients":
            lines.append(
                f"The shares add up to {float(np.sum(found.attributions)):.4g}; the answer moved "
                f"{found.output_change:.4g} from an all-zero input (convergence delta "
                f"{found.convergence_delta:.2g}, {found.steps} steps)."
            )
        if found.method == "gradcam":
            shape = "×".join(map(str, np.shape(found.attributions)))
            lines.append(f"{found.layer}'s map is {shape}, stretched over the sample.")
        if subject.tokens and found.method != "attention":
            lines.append("Computed on the embedded tokens: one share per token.")
        lines.append(f"Weights: {subject.weights}.")
        return " ".join(lines)

    def done_waiting(self) -> None:
        self.jobs.wait()
