"""GANs in the window: a tab per network, one undo history, problems that lead to their network,
and Train running the adversarial recipe with live losses, D(x) and generated samples."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QDialog, QFileDialog

from designer.problems import NETWORK_ROLE, NODE_ROLE
from engine.compiler import compile_graph
from engine.project import load_project
from engine.resources import example
from engine.training import load_networks

RUN_TIMEOUT_MS = 120_000  # a generous ceiling for a busy 2-core machine, never a speed claim


@pytest.fixture
def open_gan(qtbot, tmp_path, shown):
    """A window on a bundled GAN example with `epochs` epochs; closed (unsaved) afterwards."""
    from app.main_window import MainWindow

    windows = []

    def make(name="gan-digits", epochs=1):
        project = load_project(example(name).path)
        project.path = None
        project.training["epochs"] = epochs
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(project, settings)
        window.training.device_box.setCurrentIndex(0)  # the CPU
        window.resize(1400, 900)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.training.shutdown()
        window.document.mark_saved()
        window.close()
        window.deleteLater()


def node_ids(window) -> set[str]:
    return set(window.scene.nodes)


def test_a_gan_opens_with_a_tab_per_network_each_showing_its_layers(open_gan):
    window = open_gan()
    tabs = window.network_tabs
    project = window.document.project
    assert tabs.bar.isVisibleTo(window)
    assert [tabs.bar.tabText(i) for i in range(tabs.bar.count())] == ["Generator", "Discriminator"]
    assert node_ids(window) == set(project.networks["generator"].nodes)
    tabs.bar.setCurrentIndex(1)
    assert window.document.network == "discriminator"
    assert node_ids(window) == set(project.networks["discriminator"].nodes)
    assert "flatten" in node_ids(window)
    keys = {a.shortcut().toString(): a for a in tabs.actions()}
    keys["Ctrl+PgDown"].trigger()  # wraps round to the first network
    assert window.document.network == "generator"


def test_a_single_network_project_shows_no_tabs(qtbot, tmp_path):
    from app.main_window import MainWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(load_project(example("digits-mlp").path), settings)
    window.show()
    try:
        assert not window.network_tabs.bar.isVisibleTo(window)
        assert window.document.network is None
    finally:
        window.close()


def test_an_edit_in_the_discriminator_tab_undoes_there_even_from_the_other_tab(open_gan):
    window = open_gan()
    document, project = window.document, window.document.project
    window.network_tabs.show_network("discriminator")
    assert document.set_param("hidden1", "out_features", 64)
    assert project.networks["discriminator"].node("hidden1").params["out_features"] == 64
    assert project.networks["generator"].node("hidden1").params["out_features"] == 128
    window.network_tabs.show_network("generator")
    window.action("undo").trigger()
    assert document.network == "discriminator"  # undo shows where it undoes
    assert window.network_tabs.bar.currentIndex() == 1
    assert project.networks["discriminator"].node("hidden1").params["out_features"] == 256
    assert not document.modified


def test_a_shape_that_breaks_the_join_shows_on_its_node_and_its_problem_leads_there(open_gan):
    window = open_gan()
    document = window.document
    document.show_network("discriminator")
    document.set_param("image", "shape", [1, 8, 9])  # the generator makes 1x8x8
    document.analyse_now()
    assert window.scene.nodes["image"].severity == "error"
    document.show_network("generator")
    panel = window.problems
    rows = [panel.topLevelItem(i) for i in range(panel.topLevelItemCount())]
    row = next(r for r in rows if r.data(0, NETWORK_ROLE) == "discriminator")
    assert row.data(0, NODE_ROLE) == "image"
    assert row.text(1).startswith("discriminator · image")
    assert "generator makes 1x8x8" in row.text(0)
    panel.itemClicked.emit(row, 0)
    assert document.network == "discriminator"
    assert window.network_tabs.bar.currentIndex() == 1
    assert window.scene.selected_node_ids() == ["image"]


def test_a_latent_size_the_generator_input_does_not_take_marks_that_input(open_gan):
    window = open_gan()
    window.document.set_param("latent", "shape", [16])  # the recipe's latent size is 32
    window.document.analyse_now()
    assert window.scene.nodes["latent"].severity == "error"
    assert window.network_tabs.bar.tabIcon(0).isNull() is False  # the tab shows the error too


def test_saving_a_gan_writes_both_networks(open_gan, tmp_path, monkeypatch):
    window = open_gan()
    target = tmp_path / "mine.netwright.json"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), ""))
    )
    assert window.save_as()
    saved = load_project(target)
    assert list(saved.networks) == ["generator", "discriminator"]
    assert saved.recipe["kind"] == "gan"


def run_to_end(qtbot, controller):
    with qtbot.waitSignal(controller.run_finished, timeout=RUN_TIMEOUT_MS) as finished:
        assert controller.train()
    qtbot.waitUntil(lambda: not controller.running, timeout=RUN_TIMEOUT_MS)
    return finished.args[0]


def test_training_a_gan_from_the_window_draws_losses_scores_and_a_sample_grid(qtbot, open_gan):
    window = open_gan("gan-digits", epochs=2)
    controller, page = window.training, window.gan
    outcome = run_to_end(qtbot, controller)
    assert outcome.result.status == "completed"
    view = page.view
    assert controller.dashboard.tabs.currentIndex() == page.index
    assert view.losses.points("d_batch") > 10
    assert view.losses.points("g_batch") > 10
    assert view.losses.points("g") == 2
    assert view.scores.points("real") == 2
    assert view.scores.points("fake") == 2
    assert view.grid.count == 64  # the fixed latent vectors' samples
    assert view.grid.image is not None and view.grid.image.width() > 8 * 8
    assert any("epoch 2/2" in line and "D(real)" in line for line in controller.log.lines)
    assert not window.document.read_only
    assert controller.weights.has_weights  # the generator's, for Save and Export


def test_a_2d_gan_shows_its_points_over_the_real_data(qtbot, open_gan):
    window = open_gan("gan-2d", epochs=1)
    outcome = run_to_end(qtbot, window.training)
    assert outcome.result.status == "completed"
    view = window.gan.view
    assert view.samples.currentWidget() is view.scatter
    assert view.scatter.count > 100
    x, _y = view.scatter.real.getData()
    assert len(x) > 100
    assert np.isfinite(x).all()


def test_stop_ends_a_gan_run_and_unlocks_the_editor(qtbot, open_gan):
    window = open_gan("gan-digits", epochs=500)
    controller = window.training
    controller.train()
    qtbot.waitUntil(lambda: window.gan.view.losses.points("d_batch") >= 3, timeout=RUN_TIMEOUT_MS)
    with qtbot.waitSignal(controller.run_finished, timeout=RUN_TIMEOUT_MS) as finished:
        controller.stop()
    assert finished.args[0].result.status == "stopped"
    qtbot.waitUntil(lambda: not controller.running, timeout=RUN_TIMEOUT_MS)
    assert not window.document.read_only
    assert window.document.add_node("ReLU") is not None


def test_a_gan_whose_data_does_not_fit_fails_with_a_message(qtbot, open_gan, shown):
    window = open_gan("gan-digits")
    window.data_panel.set_source("builtin:iris")
    with qtbot.waitSignal(window.training.run_failed, timeout=RUN_TIMEOUT_MS) as failed:
        window.training.train()
    qtbot.waitUntil(lambda: not window.training.running, timeout=RUN_TIMEOUT_MS)
    assert "iris" in failed.args[0]
    assert any("Cannot train this project" in text for text in shown)
    assert not window.document.read_only


def test_after_training_export_writes_the_generator_and_save_keeps_both_networks(
    qtbot, open_gan, tmp_path, shown, monkeypatch
):
    window = open_gan("gan-digits", epochs=1)
    run_to_end(qtbot, window.training)
    window.network_tabs.show_network("discriminator")  # export still means the generator
    out = tmp_path / "generator.onnx"
    with qtbot.waitSignal(window.export_import.finished, timeout=RUN_TIMEOUT_MS):
        assert window.export_import.export_onnx(out)
    assert out.is_file()
    report = window.export_import.report  # the export's report window
    assert report is not None and report.windowTitle() == "Exported to ONNX"
    assert "trained weights from this session" in report.text()
    target = tmp_path / "mine.netwright.json"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), ""))
    )
    assert window.save_as()
    saved = load_project(target)
    networks = {name: compile_graph(graph) for name, graph in saved.networks.items()}
    metadata = load_networks(networks, tmp_path / "mine.safetensors")  # both, in one file
    assert metadata["netwright.status"] == "completed"


def test_opening_a_gan_then_one_network_switches_tabs_and_dashboard_pages(qtbot, tmp_path, shown):
    from app.main_window import MainWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(load_project(example("digits-mlp").path), settings)
    window.show()
    tabs = window.training.dashboard.tabs
    try:
        assert not tabs.isTabVisible(window.gan.index)
        assert window.open_project(example("gan-2d").path, as_template=True, ask=False)
        assert window.network_tabs.bar.isVisibleTo(window)
        assert window.document.network == "generator"
        assert tabs.isTabVisible(window.gan.index) and not tabs.isTabVisible(0)
        assert tabs.currentIndex() == window.gan.index
        assert window.open_project(example("digits-mlp").path, as_template=True, ask=False)
        assert not window.network_tabs.bar.isVisibleTo(window)
        assert set(window.scene.nodes) == set(window.document.project.graph.nodes)
        assert tabs.isTabVisible(0) and not tabs.isTabVisible(window.gan.index)
        qtbot.wait(10)  # the dashboard settles the Regions tab on the next turn of the loop
        assert not tabs.isTabVisible(window.training.dashboard.regions_index)  # no run yet
    finally:
        window.document.mark_saved()
        window.close()


def test_the_gallery_opens_a_gan_example(qtbot, open_gan, monkeypatch):
    import app.gallery as gallery

    window = open_gan("gan-digits")

    class Chooser:  # the dialog, with the user's choice made
        def __init__(self, _window, entries):
            self.chosen = next(e.path for e in entries if e.name == "gan-2d")

        def exec(self):
            return QDialog.DialogCode.Accepted

    monkeypatch.setattr(gallery, "ExampleGallery", Chooser)
    assert gallery.open_example_gallery(window)
    assert window.document.project.name == "gan-2d"
    assert window.network_tabs.networks() == ["generator", "discriminator"]


def test_the_data_panel_fits_the_data_to_the_discriminator_whichever_tab_shows(qtbot, open_gan):
    window = open_gan("gan-digits")
    panel = window.data_panel
    qtbot.waitUntil(lambda: "fits" in panel.fit_label.text(), timeout=RUN_TIMEOUT_MS)
    assert "Input 'image'" in panel.fit_label.text()  # the discriminator's, not the latent


def test_mode_collapse_and_divergence_are_shown_above_the_charts(qtbot):
    from types import SimpleNamespace

    from app.gan.view import GanView

    said: list[tuple[str, str]] = []
    view = GanView(lambda text, kind: said.append((text, kind)))
    qtbot.addWidget(view)
    view.begin()
    collapse = "mode collapse: the generator covers only 2 of the 8 modes"
    view._add_epoch({"epoch": 1, "d_loss": 1.2, "g_loss": 0.9, "d_real": 0.6, "d_fake": 0.4,
                     "modes_covered": 2, "modes": 8, "warnings": [collapse]})  # fmt: skip
    assert not view.warning.isHidden() and collapse in view.warning.text()
    assert (f"warning: {collapse}", "warning") in said
    assert "modes 2/8" in view.figures.text()
    view._add_epoch({"epoch": 2, "d_loss": 1.1, "g_loss": 0.8, "d_real": 0.6, "d_fake": 0.4,
                     "modes_covered": 8, "modes": 8, "warnings": []})  # fmt: skip
    assert view.warning.isHidden()  # gone once the generator covers every mode again
    result = SimpleNamespace(status="diverged", message="the generator's loss became nan")
    view.finish(SimpleNamespace(result=result))
    assert not view.warning.isHidden() and "diverged" in view.warning.text()
