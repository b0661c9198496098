"""File > Export (ONNX, PyTorch code) and File > Import ONNX, driven through the window's menus."""

from __future__ import annotations

import ast
import dataclasses
import threading

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from PySide6.QtWidgets import QFileDialog, QMessageBox
from windows import shown_window

from app.export_menu import IN_MEMORY_WEIGHTS, OnnxChoice, OnnxExportDialog
from app.training.weights_keeper import structure
from engine import layers
from engine.compiler import compile_graph, example_input
from engine.project import load_project, save_project
from engine.resources import example
from engine.weights import save_weights

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def window(qapp, tmp_path_factory):
    """One window for the module (windows are slow to build); each test loads its project."""
    folder = tmp_path_factory.mktemp("export-window")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NETWRIGHT_RECOVERY_DIR", str(folder / "recovery"))
        with shown_window(None, folder) as made:
            yield made


@pytest.fixture
def perceptron(window, tmp_path):
    """The perceptron example saved as the user's project and open in the window."""
    project = load_project(example("perceptron").path)
    save_project(project, tmp_path / "perceptron.netwright.json")
    window.training.weights.forget()
    window.document.load(project)
    return project


@pytest.fixture
def dialogs(monkeypatch):
    """Message boxes recorded instead of shown; file and number dialogs answered from lists."""
    shown: list[tuple[str, str, str]] = []
    for kind in ("information", "warning", "question", "critical"):
        monkeypatch.setattr(
            QMessageBox,
            kind,
            staticmethod(
                lambda _p, title, text, *a, _k=kind, **kw: (
                    shown.append((_k, title, text)) or QMessageBox.StandardButton.Discard
                )
            ),
        )
    return shown


def answer_files(monkeypatch, save=(), open_=()):
    saves, opens = list(save), list(open_)
    monkeypatch.setattr(
        QFileDialog,
        "getSaveFileName",
        lambda *a, **k: (str(saves.pop(0)), "") if saves else ("", ""),
    )
    monkeypatch.setattr(
        QFileDialog,
        "getOpenFileName",
        lambda *a, **k: (str(opens.pop(0)), "") if opens else ("", ""),
    )


def run_action(window, qtbot, name: str) -> None:
    with qtbot.waitSignal(window.export_import.finished, timeout=60_000):
        window.action(name).trigger()


def choose(window, monkeypatch, choice: OnnxChoice) -> None:
    """Answer the ONNX export dialog with `choice`."""
    monkeypatch.setattr(window.export_import, "ask_onnx_options", lambda: choice)


def shown_report(window) -> tuple[str, str, str]:
    report = window.export_import.report
    assert report is not None and report.isVisible()
    return "information", report.windowTitle(), report.text()


def onnx_output(path, x: np.ndarray) -> np.ndarray:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def test_the_file_menu_has_export_and_import(window):
    file_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    texts = [a.text() for a in file_menu.actions()]
    assert "&Export" in texts and "&Import ONNX…" in texts
    assert texts.index("&Export") < texts.index("&Quit")
    export = next(a.menu() for a in file_menu.actions() if a.text() == "&Export")
    assert [a.text() for a in export.actions()] == ["&ONNX…", "&PyTorch Code…"]


def test_export_onnx_writes_a_verified_file_and_shows_the_difference(
    window, perceptron, qtbot, tmp_path, monkeypatch, dialogs
):
    out = tmp_path / "model"  # the suffix is added
    answer_files(monkeypatch, save=[out])
    choose(window, monkeypatch, OnnxChoice(opset=15))
    run_action(window, qtbot, "export_onnx")
    kind, title, text = shown_report(window)
    assert (kind, title) == ("information", "Exported to ONNX")
    written = tmp_path / "model.onnx"
    assert f"wrote {written}" in text
    assert "opset 15" in text and "exporter" in text
    assert "largest absolute difference" in text
    assert "weights: initial weights" in text
    model = onnx.load(str(written))
    onnx.checker.check_model(model)
    assert model.opset_import[0].version == 15


def test_an_int8_export_shows_its_report_computed_off_the_ui_thread(
    window, qtbot, tmp_path, monkeypatch, dialogs
):
    import engine.export.onnx_export as onnx_export

    project = load_project(example("digits-cnn").path)
    save_project(project, tmp_path / "digits-cnn.netwright.json")
    window.training.weights.forget()
    window.document.load(project)
    threads = []
    real = onnx_export.export_onnx

    def recorded(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    import engine.export

    monkeypatch.setattr(engine.export, "export_onnx", recorded, raising=False)
    answer_files(monkeypatch, save=[tmp_path / "digits.onnx"])
    choose(window, monkeypatch, OnnxChoice(form="int8", calibration=32))
    run_action(window, qtbot, "export_onnx")
    _, title, text = shown_report(window)
    assert title == "Exported to ONNX"
    assert threads and threads[0] is not threading.main_thread()
    assert "int8: static quantization" in text and "calibrated on 32 training samples" in text
    assert "file size" in text and "validation accuracy" in text and "CPU latency" in text
    assert "deployment check: opset ai.onnx 17" in text and "onnxruntime" in text
    assert "input scaling:" in text
    assert (tmp_path / "digits.onnx").is_file()
    report = window.export_import.report
    report.grab().save(str(tmp_path / "report.png"))
    assert (tmp_path / "report.png").stat().st_size > 0


def test_the_onnx_dialog_offers_forms_and_calibration_only_for_int8(qapp):
    dialog = OnnxExportDialog()
    assert dialog.choice() == OnnxChoice()
    assert not dialog.calibration.isEnabled()
    dialog.form.setCurrentIndex(1)
    assert dialog.choice().form == "int8" and dialog.calibration.isEnabled()
    dialog.form.setCurrentIndex(2)
    dialog.scaling.setChecked(False)
    assert dialog.choice().form == "fp16" and not dialog.choice().scaling
    dialog.deleteLater()


def test_export_uses_the_weights_training_left_in_memory(
    window, perceptron, qtbot, tmp_path, monkeypatch, dialogs
):
    module = compile_graph(perceptron.graph, seed=123)
    state = {k: v.clone() for k, v in module.state_dict().items()}
    keeper = window.training.weights
    keeper.states, keeper.trained = {"network": state}, structure(perceptron.named_graphs())
    answer_files(monkeypatch, save=[tmp_path / "trained.onnx"])
    choose(window, monkeypatch, OnnxChoice(opset=17))
    run_action(window, qtbot, "export_onnx")
    assert f"weights: {IN_MEMORY_WEIGHTS}" in shown_report(window)[2]
    x = example_input(perceptron.graph, batch=3, seed=1)
    module.eval()
    with torch.no_grad():
        expected = module(x).numpy()
    got = onnx_output(tmp_path / "trained.onnx", x.numpy())
    assert np.allclose(got, expected, atol=1e-5)


def test_export_uses_the_projects_weights_file_otherwise(
    window, perceptron, qtbot, tmp_path, monkeypatch, dialogs
):
    save_weights(compile_graph(perceptron.graph, seed=5), perceptron.weights_path())
    answer_files(monkeypatch, save=[tmp_path / "saved.py"])
    run_action(window, qtbot, "export_python")
    kind, title, text = dialogs[-1]
    assert (kind, title) == ("information", "Exported PyTorch code")
    assert f"trained weights from {perceptron.weights_path()}" in text
    source = (tmp_path / "saved.py").read_text()
    assert "class Perceptron" in source and "def forward" in source
    ast.parse(source)


def test_a_failed_export_says_why_and_writes_nothing(
    window, perceptron, qtbot, tmp_path, monkeypatch, dialogs
):
    window.document.set_param("input", "shape", [0])
    answer_files(monkeypatch, save=[tmp_path / "bad.onnx"])
    choose(window, monkeypatch, OnnxChoice(opset=17))
    run_action(window, qtbot, "export_onnx")
    kind, title, text = dialogs[-1]
    assert (kind, title) == ("warning", "ONNX export failed")
    assert "fix them before exporting" in text
    assert not (tmp_path / "bad.onnx").exists()
    window.document.undo()


def test_import_onnx_opens_the_new_project(
    window, perceptron, qtbot, tmp_path, monkeypatch, dialogs
):
    model = tmp_path / "tiny.onnx"
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    torch.onnx.export(net, (torch.randn(1, 4),), str(model), dynamo=False, opset_version=17)
    target = tmp_path / "imported.netwright.json"
    answer_files(monkeypatch, open_=[model], save=[target])
    run_action(window, qtbot, "import_onnx")
    kind, title, text = dialogs[-1]
    assert (kind, title) == ("information", "Imported ONNX model"), text
    assert f"wrote {target}" in text and "largest absolute difference" in text
    assert window.document.project.path == target
    assert sum(n.type == "Linear" for n in window.document.graph) == 2
    assert not window.document.modified


def test_importing_a_malformed_onnx_file_shows_the_engine_message(
    window, perceptron, qtbot, tmp_path, monkeypatch, dialogs
):
    model = tmp_path / "broken.onnx"
    model.write_bytes(b"\x08\x07garbage that is not a protobuf" * 10)
    target = tmp_path / "never.netwright.json"
    answer_files(monkeypatch, open_=[model], save=[target])
    run_action(window, qtbot, "import_onnx")
    kind, title, text = dialogs[-1]
    assert (kind, title) == ("warning", "ONNX import failed")
    assert "broken.onnx" in text
    assert not target.exists()
    assert window.document.project.name == "perceptron"  # the open project is untouched


def test_a_layer_that_cannot_export_is_marked_on_the_canvas(window, perceptron, monkeypatch):
    node = next(n for n in window.document.graph if n.type == "Linear")
    patched = dataclasses.replace(
        layers.CATALOGUE["Linear"], exports_onnx=False, onnx_note="(test: pretend it cannot)"
    )
    monkeypatch.setitem(layers.CATALOGUE, "Linear", patched)
    window.document.analyse_now()
    item = window.scene.nodes[node.id]
    assert item.severity == "warning"
    assert "cannot be exported to ONNX" in item.toolTip()
    assert any("cannot be exported to ONNX" in t for t in window.problems.diagnostics_shown())


def test_an_export_the_system_refuses_names_the_file(
    window, perceptron, qtbot, tmp_path, monkeypatch, dialogs
):
    folder = tmp_path / "taken.py"
    folder.mkdir()  # a folder where the file should go
    answer_files(monkeypatch, save=[folder])
    run_action(window, qtbot, "export_python")
    assert dialogs[-1] == (
        "warning",
        "PyTorch code export failed",
        f"{folder}: cannot be written (Is a directory)",
    )


def test_an_unexpected_failure_in_the_worker_is_logged_and_shown(
    window, perceptron, qtbot, tmp_path, monkeypatch, dialogs
):
    from app import error_log
    from engine.export import python_export

    def broken(*_args, **_kwargs):
        raise RuntimeError("exporter bug")

    error_log.start_log_file()
    monkeypatch.setattr(python_export, "export_python", broken)
    answer_files(monkeypatch, save=[tmp_path / "x.py"])
    run_action(window, qtbot, "export_python")
    kind, _title, text = dialogs[-1]
    assert kind == "warning" and "RuntimeError: exporter bug" in text
    assert str(error_log.log_path()) in text
    assert "exporter bug" in error_log.log_path().read_text()
