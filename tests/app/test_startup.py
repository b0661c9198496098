"""A start, in order: the window paints, recovered work is offered, a first start is greeted,
torch loads in the background."""

from __future__ import annotations

import pytest
from windows import shown_window

import app.recovery as recovery
import app.welcome as welcome
from app.startup import TorchWarmUp, after_first_paint
from engine.project import load_project
from engine.resources import example


@pytest.fixture
def window(qapp, tmp_path):
    with shown_window(load_project(example("digits-mlp").path), tmp_path) as made:
        made.settings.remove(welcome.SETTINGS_KEY)  # as on a first start
        yield made


@pytest.fixture
def steps(monkeypatch):
    """What the start does, in order, with the recovery offer and the greeting recorded."""
    done: list[str] = []
    monkeypatch.setattr(TorchWarmUp, "start", lambda self: done.append("torch"))
    monkeypatch.setattr(welcome, "greet_on_start", lambda window: done.append("greeting"))
    monkeypatch.setattr(recovery, "offer_recovery", lambda window: done.append("recovery"))
    return done


def start(qtbot, window, steps, named: bool) -> None:
    after_first_paint(window, named_project=named)
    window.update()  # the first paint starts it all
    qtbot.waitUntil(lambda: "torch" in steps, timeout=10_000)


def test_a_first_start_is_greeted_after_the_window_paints(qtbot, window, steps):
    start(qtbot, window, steps, named=False)
    assert steps == ["recovery", "greeting", "torch"]


def test_work_left_by_a_crash_is_offered_first_and_nothing_stands_in_front(
    qtbot, window, steps, monkeypatch
):
    monkeypatch.setattr(recovery, "recovery_entries", lambda folder=None: ["left behind"])
    start(qtbot, window, steps, named=False)
    assert steps == ["recovery", "torch"]  # no greeting over (or after) the offer


def test_a_project_named_on_the_command_line_is_never_greeted(qtbot, window, steps):
    start(qtbot, window, steps, named=True)
    assert steps == ["recovery", "torch"]


def test_what_can_wait_starts_after_the_first_paint_and_once(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from app.main_window import MainWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(load_project(example("digits-mlp").path), settings)
    called: list[int] = []
    window.first_painted.connect(lambda: called.append(1))
    assert called == [] and not window.training.dashboard.is_built
    window.show()
    qtbot.waitUntil(lambda: called == [1], timeout=5000)
    assert window.training.dashboard.is_built  # the charts come right after
    window.repaint()
    qtbot.wait(50)
    assert called == [1]  # once
    window.document.mark_saved()
    window.close()


def test_the_warm_up_lists_the_devices_when_torch_is_in(qtbot, window):
    warm_up = TorchWarmUp(window)
    with qtbot.waitSignal(warm_up.ready, timeout=60_000):
        warm_up.start()
    box = window.training.device_box
    assert box.findData("cpu") >= 0
