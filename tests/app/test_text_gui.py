"""Text in the window: the Data panel shows how the network reads it, a language model's Writing
page shows it learning to write, and the Generate box continues a prompt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt

from engine.project import load_project
from engine.resources import example

RUN_TIMEOUT_MS = 120_000  # a generous ceiling for a busy 2-core machine, never a speed claim
VERSE = "the cat sat on the mat.\nthe dog sat on the log.\n"


def verse_project(folder: Path) -> Path:
    """A small recurrent language model on a text file (quick to train, and it cannot cheat)."""
    (folder / "verse.txt").write_text(VERSE * 40, encoding="utf-8")
    nodes = [
        ("input", "Input", {"shape": [16], "dtype": "int64"}),
        ("tokens", "Embedding", {"num_embeddings": 32, "embedding_dim": 24}),
        ("memory", "LSTM", {"hidden_size": 64, "output": "sequence"}),
        ("head", "Linear", {"out_features": 32}),
        ("output", "Output", {}),
    ]
    listed = [{"id": i, "type": t, "params": p} for i, t, p in nodes]
    edges = [
        {"source": {"node": a["id"]}, "target": {"node": b["id"]}}
        for a, b in zip(listed, listed[1:])
    ]
    data = {
        "format": "netwright-project",
        "version": 1,
        "name": "verse",
        "graph": {"nodes": listed, "edges": edges},
        "dataset": {"source": "text:verse.txt"},
        "training": {
            "loss": "next_token",
            "optimizer": {"name": "adam", "lr": 0.01},
            "epochs": 8,
            "batch_size": 16,
            "validation_split": 0.1,
            "early_stopping": None,
        },
        "generation": {"prompt": "the ", "tokens": 24, "temperature": 0},
    }
    path = folder / "verse.netwright.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture
def open_window(qtbot, tmp_path, shown):
    from app.main_window import MainWindow

    windows = []

    def make(path: Path):
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(load_project(path), settings)
        window.training.device_box.setCurrentIndex(0)  # the CPU
        window.resize(1400, 900)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.training.shutdown()
        if window.writing._view is not None:
            window.writing.view.wait()
        window.document.mark_saved()
        window.close()
        window.deleteLater()


def test_a_language_model_writes_as_it_learns_and_on_request(qtbot, tmp_path, open_window):
    window = open_window(verse_project(tmp_path))
    page, controller = window.writing, window.training
    tabs = controller.dashboard.tabs
    assert tabs.isTabVisible(page.index) and tabs.tabText(page.index) == "Writing"
    view = page.view
    assert view.prompt.toPlainText() == "the " and view.tokens.value() == 24

    with qtbot.waitSignal(controller.run_finished, timeout=RUN_TIMEOUT_MS) as finished:
        assert controller.train()
    qtbot.waitUntil(lambda: not controller.running, timeout=RUN_TIMEOUT_MS)
    assert finished.args[0].result.status == "completed"
    qtbot.waitUntil(lambda: len(view.samples) >= 2, timeout=RUN_TIMEOUT_MS)
    first, last = view.samples[0][1], view.samples[-1][1]
    assert first.startswith("the ") and last.startswith("the ")
    assert "sat on the" in last and first != last  # noise at the start, the verse at the end
    assert "epoch" in view.live.toPlainText()
    assert "after 'the ' as it learns" in view.heading.text()  # the prompt as typed
    assert any("val_perplexity" in line for line in controller.log.lines)

    view.tokens.setValue(30)
    assert window.document.project.value("generation.tokens") == 30  # kept in the project
    qtbot.keyClick(view.prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: view.output.toPlainText().startswith("the "), timeout=RUN_TIMEOUT_MS)
    assert "sat on the" in view.output.toPlainText()
    assert view.button.isEnabled()


def test_generate_without_trained_weights_says_what_to_do(qtbot, tmp_path, open_window):
    window = open_window(verse_project(tmp_path))
    view = window.writing.view
    view.generate()
    qtbot.waitUntil(lambda: "train" in view.status.text().lower(), timeout=RUN_TIMEOUT_MS)
    assert view.output.toPlainText() == ""


def test_other_projects_have_no_writing_page(qtbot, tmp_path, open_window):
    window = open_window(example("digits-mlp").path)
    tabs = window.training.dashboard.tabs
    assert not tabs.isTabVisible(window.writing.index)
    window.document.set_value("training.loss", "next_token")
    qtbot.waitUntil(lambda: tabs.isTabVisible(window.writing.index))
    window.document.undo_stack.undo()
    qtbot.waitUntil(lambda: not tabs.isTabVisible(window.writing.index))


def test_the_data_panel_shows_text_as_the_network_reads_it(qtbot, tmp_path, open_window):
    from app.panels.data_panel import DataPanel

    window = open_window(example("tiny-gpt").path)
    panel = window.findChild(DataPanel)
    qtbot.waitUntil(lambda: "windows of 64 tokens" in panel.fit_label.text(), timeout=60_000)
    assert "files" in panel.summary.text() and "characters" in panel.summary.text()
    assert "chars tokenizer, vocabulary 128" in panel.fit_label.text()
    assert "unigram" in panel.fit_label.text()
    assert panel.text_samples.isVisibleTo(panel) and len(panel.text_samples.toPlainText()) > 100

    window.document.set_value("dataset.source", "builtin:python-modules")  # labelled texts
    qtbot.waitUntil(lambda: "choose cross_entropy" in panel.fit_label.text(), timeout=60_000)
    assert panel.fit_label.text().startswith("✖")
