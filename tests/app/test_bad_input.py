"""Bad files in the GUI: a plain message naming the file, and nothing the user had is touched."""

from __future__ import annotations

import json
import os

import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox
from windows import shown_window

from engine.project import MAX_FILE_BYTES, VERSION, load_project
from engine.resources import example

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def window(qapp, tmp_path_factory):
    """One window for the module (windows are slow to build); each test loads its project."""
    folder = tmp_path_factory.mktemp("bad-input-window")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NETWRIGHT_RECOVERY_DIR", str(folder / "recovery"))
        with shown_window(None, folder) as made:
            yield made


@pytest.fixture
def digits(window):
    window.document.load(load_project(example("digits-cnn").path))
    return window.document.project


@pytest.fixture
def warnings(monkeypatch):
    shown: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "warning", staticmethod(lambda _p, title, text, *a, **k: shown.append(text))
    )
    return shown


def perceptron_json() -> dict:
    return json.loads(example("perceptron").path.read_text())


def hostile_files(folder):
    """name -> (file, what the message must say)."""
    newer = perceptron_json() | {"version": 99}
    not_ours = {"format": "something-else", "version": 1}
    files = {
        "malformed": ("{not json", "not valid JSON"),
        "newer": (json.dumps(newer), "saved by a newer Netwright"),
        "binary": (b"\x89PNG\r\n\x1a\n\xff\xfe\x00", "not a UTF-8 text file"),
        "not a project": (json.dumps(not_ours), "not a Netwright project"),
        "deep": ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        "nodes not a list": (
            json.dumps(perceptron_json() | {"graph": {"nodes": 7}}),
            '"graph.nodes" must be a list',
        ),
        "nan": (
            json.dumps(perceptron_json()).replace('"version": 1', '"version": 1, "x": NaN'),
            "NaN is not allowed",
        ),
    }
    made = {}
    for name, (content, expected) in files.items():
        path = folder / f"{name.replace(' ', '-')}.netwright.json"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        made[name] = (path, expected)
    huge = folder / "huge.netwright.json"
    with open(huge, "wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: costs no disk
    made["huge"] = (huge, "project files are at most")
    made["missing"] = (folder / "missing.netwright.json", "no such file")
    made["folder"] = (folder, "is a folder")
    return made


def test_opening_a_bad_project_says_why_and_leaves_everything_as_it_was(
    window, digits, warnings, tmp_path
):
    for name, (path, expected) in hostile_files(tmp_path).items():
        before = (path.read_bytes()[:4096], path.stat().st_size) if path.is_file() else None
        warnings.clear()
        assert not window.open_project(path), name
        assert len(warnings) == 1, name
        assert expected in warnings[0], (name, warnings[0])
        assert str(path) in warnings[0], name  # the file is named
        if before is not None:
            assert (path.read_bytes()[:4096], path.stat().st_size) == before, name
        assert window.document.project is digits, name  # the open project is untouched
        assert not window.document.modified


def test_a_bad_file_chosen_in_the_open_dialog_keeps_unsaved_work(
    window, digits, warnings, tmp_path, monkeypatch
):
    window.document.set_param("conv1", "out_channels", 5)
    bad = tmp_path / "bad.netwright.json"
    bad.write_text(json.dumps({"format": "netwright-project", "version": VERSION + 1}))
    monkeypatch.setattr(
        QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.StandardButton.Discard)
    )
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), ""))
    window.open_dialog()
    assert "newer Netwright" in warnings[0] and str(bad) in warnings[0]
    assert window.document.project is digits
    assert window.document.graph.node("conv1").params["out_channels"] == 5
    assert window.document.modified  # the edit is still there, still unsaved
    window.document.undo()


@pytest.mark.parametrize(
    "value, problem",
    [
        (10**400, "far too large"),
        (1e308, "far too large"),
        (10**12, "more than the"),
        ("many", "must be a number"),
        (-3, "at least 1"),
        (None, "needs a value"),
    ],
)
def test_a_project_with_hostile_values_opens_with_the_problems_listed(
    window, warnings, tmp_path, value, problem
):
    data = perceptron_json()
    data["graph"]["nodes"][1]["params"]["out_features"] = value
    path = tmp_path / "hostile.netwright.json"
    path.write_text(json.dumps(data))
    assert window.open_project(path)
    assert any(problem in text for text in window.problems.diagnostics_shown())
    window.reveal_node("linear")  # the inspector shows the layer without failing
    assert window.inspector.item.node_id == "linear"
    assert not warnings


@pytest.mark.parametrize("shape", ["abc", [1.5], ["a", 2], 7])
def test_a_project_with_a_nonsense_input_shape_opens_with_it_listed(
    window, warnings, tmp_path, shape
):
    data = perceptron_json()
    data["graph"]["nodes"][0]["params"]["shape"] = shape
    path = tmp_path / "shape.netwright.json"
    path.write_text(json.dumps(data))
    assert window.open_project(path)
    assert any("'shape'" in text for text in window.problems.diagnostics_shown())
    window.reveal_node("input")
    assert not warnings


@pytest.mark.parametrize(
    "key, value",
    [
        (("epochs",), 10**12),
        (("seed",), -(10**400)),
        (("loss",), 10**400),
        (("optimizer", "lr"), 10**400),
        (("optimizer", "name"), ["adam"]),
    ],
    ids=["epochs", "seed", "loss", "lr", "optimizer"],
)
def test_hostile_training_settings_open_with_the_problem_listed(
    window, warnings, tmp_path, key, value
):
    data = perceptron_json()
    section = data.setdefault("training", {})
    for part in key[:-1]:
        section = section.setdefault(part, {})
    section[key[-1]] = value
    path = tmp_path / "training.netwright.json"
    path.write_text(json.dumps(data))
    assert window.open_project(path)
    assert window.problems.diagnostics_shown()  # named there, not raised from the panel
    assert not warnings


def test_an_unknown_layer_type_opens_marked_as_an_error(window, warnings, tmp_path):
    data = perceptron_json()
    data["graph"]["nodes"][1]["type"] = "Wibble"
    path = tmp_path / "unknown.netwright.json"
    path.write_text(json.dumps(data))
    assert window.open_project(path)
    assert window.scene.nodes["linear"].severity == "error"
    assert any("unknown layer type 'Wibble'" in t for t in window.problems.diagnostics_shown())
    window.reveal_node("linear")


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("letters.csv", "a,b,label\n1,x,0\n2,3,1\n", "letters.csv"),
        ("empty.csv", "", "empty.csv"),
        ("bad.npz", "not a zip archive", "bad.npz"),
    ],
)
def test_choosing_an_unusable_data_file_shows_the_data_error(
    window, digits, tmp_path, monkeypatch, qtbot, name, content, expected
):
    path = tmp_path / name
    path.write_text(content)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    panel = window.data_panel
    panel.open_file("npz" if name.endswith(".npz") else "csv")
    qtbot.waitUntil(lambda: expected in panel.summary.text(), timeout=5000)
    message = panel.summary.text()
    assert "Traceback" not in message
    window.document.undo()  # back to the bundled data


def test_opening_never_changes_the_file_on_disk(window, warnings, tmp_path):
    source = example("digits-cnn").path
    path = tmp_path / "mine.netwright.json"
    path.write_bytes(source.read_bytes())
    os.utime(path, (1_000_000, 1_000_000))
    assert window.open_project(path)
    assert path.read_bytes() == source.read_bytes()
    assert path.stat().st_mtime == 1_000_000
