"""File > Export (ONNX, PyTorch code) and File > Import ONNX: the engine's exports, from the GUI.

The work runs in a background thread on a snapshot of the project (the user may
go on looking at the canvas) under a busy indicator; the result comes back as
the engine's own summary (path, size, opset, exporter, largest difference,
weights source) or its plain error message. Trained weights win: those the
training dashboard left in memory, else the project's ``NAME.safetensors``.

An ONNX export first asks for the opset and the form (float32, int8 or fp16,
with the number of calibration samples, and whether the fitted input scaling
goes in the file); its result is a report window: the engine's summary, the
int8/fp16 comparison with float32 (size, validation accuracy, CPU latency)
and the deployment check (opset, operators, the runtimes that read it), all
computed in the background job.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtGui import QAction, QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QProgressDialog,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.error_log import log_path
from engine.export.options import DEFAULT_OPSET, MAX_OPSET, MIN_OPSET
from engine.project import SUFFIX, Project, project_from_json

if TYPE_CHECKING:
    from app.main_window import MainWindow

log = logging.getLogger("netwright.export")

IN_MEMORY_WEIGHTS = "trained weights from this session's training (not saved to a file yet)"
DEFAULT_CALIBRATION = 256  # as engine.export.quantize (not imported here: it loads torch)
FORMS = {  # the form's words in the dialog -> the engine's name for it
    "float32 (as trained)": "float32",
    "int8 (quantized: about 4x smaller)": "int8",
    "fp16 (half precision: about 2x smaller)": "fp16",
}


@dataclasses.dataclass(frozen=True)
class OnnxChoice:
    """What the ONNX export dialog asked for."""

    opset: int = DEFAULT_OPSET
    form: str = "float32"  # "float32", "int8" or "fp16"
    calibration: int = DEFAULT_CALIBRATION
    scaling: bool = True


class OnnxExportDialog(QDialog):
    """Opset, form (float32, int8, fp16), calibration samples and the input scaling switch."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export to ONNX")
        self.opset = QSpinBox()
        self.opset.setRange(MIN_OPSET, MAX_OPSET)
        self.opset.setValue(DEFAULT_OPSET)
        self.opset.setToolTip("newer runtimes read newer opsets")
        self.form = QComboBox()
        self.form.addItems(list(FORMS))
        self.calibration = QSpinBox()
        self.calibration.setRange(1, 100_000)
        self.calibration.setValue(DEFAULT_CALIBRATION)
        self.calibration.setToolTip(
            "training samples that calibrate int8's value ranges (recurrent, attention and text "
            "networks are quantized dynamically and need none)"
        )
        self.scaling = QCheckBox("The file scales its input as training did (reads raw samples)")
        self.scaling.setChecked(True)
        form = QFormLayout()
        form.addRow(f"Opset ({MIN_OPSET}-{MAX_OPSET}):", self.opset)
        form.addRow("Form:", self.form)
        form.addRow("Calibration samples:", self.calibration)
        form.addRow(self.scaling)
        note = QLabel(
            "int8 and fp16 files are compared with float32 on the validation split: size, "
            "accuracy and CPU latency."
        )
        note.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.form.currentIndexChanged.connect(self._enable)
        self._enable()

    def _enable(self) -> None:
        self.calibration.setEnabled(self.choice().form == "int8")

    def choice(self) -> OnnxChoice:
        return OnnxChoice(
            self.opset.value(),
            FORMS[self.form.currentText()],
            self.calibration.value(),
            self.scaling.isChecked(),
        )


class ExportReport(QDialog):
    """The export's report in a fixed-width font: the table's columns stay aligned."""

    def __init__(self, title: str, lines: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.view = QPlainTextEdit("\n".join(lines))
        self.view.setReadOnly(True)
        self.view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view)
        layout.addWidget(buttons)
        self.resize(900, 420)

    def text(self) -> str:
        return self.view.toPlainText()


class Job(QThread):
    """Runs one engine call off the GUI thread; `succeeded(result)` or `failed(message)`."""

    succeeded = Signal(object)
    failed = Signal(str)

    def __init__(
        self, work: Callable[[], Any], target: Path | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.work = work
        self.target = target  # the file it writes, named when the system refuses it

    def run(self) -> None:
        from engine.atomic import WriteError
        from engine.data import DataError
        from engine.export import ExportError
        from engine.onnx_import import OnnxImportError
        from engine.project import ProjectError
        from engine.weights import WeightsError

        try:
            result = self.work()
        except (ExportError, OnnxImportError, ProjectError, WeightsError, DataError) as error:
            self.failed.emit(str(error))
        except WriteError as error:  # names the file and why: disk full, a folder in the way
            self.failed.emit(str(error))
        except OSError as error:
            reason = error.strerror or str(error)
            if self.target is not None:
                self.failed.emit(f"cannot write {self.target}: {reason}")
            else:
                self.failed.emit(f"{error.filename2 or error.filename}: {reason}")
        except Exception as error:  # never kill the app: log it, tell the user
            log.exception("unexpected error in a background job")
            self.failed.emit(
                f"an unexpected error stopped it ({type(error).__name__}: {error}); "
                f"the details are in the log, {log_path()}"
            )
        else:
            self.succeeded.emit(result)


class ExportImport(QObject):
    """The File menu's Export submenu and Import ONNX action for one window."""

    finished = Signal()  # a job ended and its dialog was shown (for tests and scripts)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.job: Job | None = None
        self.busy: QProgressDialog | None = None
        self.report: ExportReport | None = None  # the last ONNX export's report window
        self.actions = {
            "export_onnx": self._action("Export to &ONNX…", self.export_onnx_dialog),
            "export_python": self._action("Export as &PyTorch Code…", self.export_python_dialog),
            "import_onnx": self._action("&Import ONNX…", self.import_onnx_dialog),
        }
        self.actions["export_onnx"].setText("&ONNX…")
        self.actions["export_python"].setText("&PyTorch Code…")
        self._install_menu()

    def _action(self, text: str, slot: Callable[[], object]) -> QAction:
        action = QAction(text, self.window)
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _install_menu(self) -> None:
        for name, action in self.actions.items():
            self.window.add_action(name, action)
        file_menu = self.window.menus["file"]
        export = QMenu("&Export", file_menu)
        export.addAction(self.actions["export_onnx"])
        export.addAction(self.actions["export_python"])
        anchor = _separator_before(file_menu, self.window.action("quit"))
        file_menu.insertMenu(anchor, export)
        file_menu.insertAction(anchor, self.actions["import_onnx"])
        file_menu.insertSeparator(anchor)

    # ------------------------------------------------------------ dialogs
    @property
    def project(self) -> Project:
        return self.window.document.project

    def _suggested(self, suffix: str) -> str:
        project = self.project
        folder = project.path.parent if project.path is not None else Path.home()
        return str(folder / f"{project.name}{suffix}")

    def export_onnx_dialog(self) -> bool:
        path, _ = QFileDialog.getSaveFileName(
            self.window, "Export to ONNX", self._suggested(".onnx"), "ONNX models (*.onnx)"
        )
        if not path:
            return False
        choice = self.ask_onnx_options()
        if choice is None:
            return False
        return self.export_onnx(_with_suffix(Path(path), ".onnx"), choice)

    def ask_onnx_options(self) -> OnnxChoice | None:
        """The opset, form and scaling switch, or None when the user cancels."""
        dialog = OnnxExportDialog(self.window)
        return dialog.choice() if dialog.exec() == QDialog.DialogCode.Accepted else None

    def export_python_dialog(self) -> bool:
        path, _ = QFileDialog.getSaveFileName(
            self.window, "Export as PyTorch code", self._suggested(".py"), "Python files (*.py)"
        )
        if not path:
            return False
        return self.export_python(_with_suffix(Path(path), ".py"))

    def import_onnx_dialog(self) -> bool:
        if not self.window.maybe_save():
            return False
        source, _ = QFileDialog.getOpenFileName(
            self.window, "Import ONNX model", "", "ONNX models (*.onnx);;All files (*)"
        )
        if not source:
            return False
        model = Path(source)
        stem = model.name[: -len(".onnx")] if model.name.endswith(".onnx") else model.stem
        target, _ = QFileDialog.getSaveFileName(
            self.window,
            "Save the imported project as",
            str(model.with_name(stem + SUFFIX)),
            f"Netwright projects (*{SUFFIX})",
            options=QFileDialog.Option.DontConfirmOverwrite,  # import never overwrites
        )
        if not target:
            return False
        return self.import_onnx(model, Path(target))

    # --------------------------------------------------------------- work
    def export_onnx(self, out: Path, choice: OnnxChoice | int | None = None) -> bool:
        """Export in the background; `choice` an OnnxChoice, or just an opset."""
        from engine.export import export_onnx

        if not isinstance(choice, OnnxChoice):
            choice = OnnxChoice(opset=DEFAULT_OPSET if choice is None else choice)
        picked = choice
        snapshot, weights = self._snapshot()
        busy = "Exporting to ONNX and checking it with onnxruntime…"
        if picked.form != "float32":
            busy = f"Exporting to ONNX, making the {picked.form} file and measuring it…"

        def work(w: Path | None) -> Any:
            return export_onnx(
                snapshot,
                out,
                w,
                picked.opset,
                verify=True,
                quantize="int8" if picked.form == "int8" else None,
                precision="fp16" if picked.form == "fp16" else "fp32",
                calibration=picked.calibration,
                scaling=picked.scaling,
                check_deploy=True,
            )

        return self._start(
            busy,
            lambda: _in_memory_note(weights, work),
            "Exported to ONNX",
            "ONNX export failed",
            target=out,
            report=True,
        )

    def export_python(self, out: Path) -> bool:
        from engine.export import export_python

        snapshot, weights = self._snapshot()
        return self._start(
            "Writing PyTorch code…",
            lambda: _in_memory_note(weights, lambda w: export_python(snapshot, out, w)),
            "Exported PyTorch code",
            "PyTorch code export failed",
            target=out,
        )

    def import_onnx(self, model: Path, target: Path) -> bool:
        from engine.onnx_import import import_onnx

        def opened(result: Any) -> None:
            self.window.open_project(result.project_path, ask=False)

        return self._start(
            f"Importing {model.name}…",
            lambda: import_onnx(model, target),
            "Imported ONNX model",
            "ONNX import failed",
            before_result=opened,
            target=target,
        )

    def _snapshot(self) -> tuple[Project, dict[str, Any] | None]:
        """A copy of the project for the worker, and trained weights left in memory (if any)."""
        project = self.project
        snapshot = project_from_json(copy.deepcopy(project.to_json()), project.name)
        snapshot.path = project.path
        return snapshot, trained_state(self.window)

    def _start(
        self,
        busy_text: str,
        work: Callable[[], Any],
        done_title: str,
        failed_title: str,
        before_result: Callable[[Any], None] | None = None,
        target: Path | None = None,
        report: bool = False,
    ) -> bool:
        if self.job is not None and self.job.isRunning():
            QMessageBox.information(self.window, "Busy", "Another export or import is running.")
            return False
        self.busy = QProgressDialog(busy_text, "", 0, 0, self.window)
        self.busy.setCancelButton(None)  # torch's exporter cannot be interrupted safely
        self.busy.setWindowModality(Qt.WindowModality.WindowModal)
        self.busy.setMinimumDuration(0)
        self.busy.setWindowTitle("Netwright")
        self.busy.show()
        self.job = Job(work, target, self)

        def succeeded(result: Any) -> None:
            self._done()
            if before_result is not None:
                before_result(result)
            if report:
                self.show_report(done_title, result.summary_lines())
            else:
                QMessageBox.information(self.window, done_title, "\n".join(result.summary_lines()))
            self.finished.emit()

        def failed(message: str) -> None:
            self._done()
            QMessageBox.warning(self.window, failed_title, message)
            self.finished.emit()

        self.job.succeeded.connect(succeeded)
        self.job.failed.connect(failed)
        self.job.start()
        return True

    def show_report(self, title: str, lines: list[str]) -> ExportReport:
        """The report in its own window (not modal: the user may compare it with the canvas)."""
        if self.report is not None:
            self.report.close()
            self.report.deleteLater()
        self.report = ExportReport(title, lines, self.window)
        self.report.show()
        return self.report

    def _done(self) -> None:
        if self.busy is not None:
            self.busy.reset()
            self.busy.close()
            self.busy.deleteLater()
            self.busy = None
        if self.job is not None:
            self.job.wait()


def trained_state(window: MainWindow) -> dict[str, Any] | None:
    """Weights the last training run left in memory (CPU copies), if they fit the graph.

    The training controller keeps them in ``window.training.weights`` (a
    WeightsKeeper) until they are saved beside the project; once the network
    changes they no longer fit and the project's own weights file is used.
    """
    keeper = window.training.weights
    if not keeper.fits():  # first: regrouped since training, the weights take new names
        return None
    state = keeper.state
    if not state:
        return None
    saved_to = keeper.saved_to
    if saved_to is not None and saved_to == window.document.project.weights_path():
        return None  # written beside the project: the file says the same, and names itself
    return {k: v.detach().to("cpu").clone() for k, v in state.items()}


def _in_memory_note(state: dict[str, Any] | None, export: Callable[[Path | None], Any]) -> Any:
    """Run `export` with in-memory weights written to a temporary safetensors file."""
    if state is None:
        return export(None)
    from safetensors.torch import save_file

    with tempfile.TemporaryDirectory(prefix="netwright-export-") as scratch:
        path = Path(scratch) / "trained.safetensors"
        save_file({k: v.contiguous() for k, v in state.items()}, str(path))
        result = export(path)
    return dataclasses.replace(result, weights=IN_MEMORY_WEIGHTS)


def _with_suffix(path: Path, suffix: str) -> Path:
    return path if path.name.endswith(suffix) else path.with_name(path.name + suffix)


def _separator_before(menu: QMenu, action: QAction) -> QAction:
    """The separator just above `action` (Quit), so new entries sit above it."""
    actions = menu.actions()
    index = actions.index(action)
    if index > 0 and actions[index - 1].isSeparator():
        return actions[index - 1]
    return action


def install_export_menus(window: MainWindow) -> ExportImport:
    """Add File > Export (ONNX, PyTorch code) and File > Import ONNX to `window`."""
    return ExportImport(window)
