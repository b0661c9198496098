"""File > New from Example: every example with its picture, opened as an unsaved copy."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from windows import shown_window

from app import gallery
from app.gallery import ExampleGallery, gallery_entries, open_example_gallery
from app.thumbnails import THUMBNAIL_SIZE, cache_key, thumbnail
from designer import theme
from engine.project import load_project
from engine.resources import Example, example, examples


@pytest.fixture
def window(qtbot, tmp_path):
    with shown_window(load_project(example("perceptron").path), tmp_path) as made:
        yield made


@pytest.fixture
def shown_gallery(qtbot, tmp_path):
    def make(entries=None):
        dialog = ExampleGallery(None, entries, thumbnails_folder=tmp_path / "thumbs")
        qtbot.addWidget(dialog)
        dialog.show()
        return dialog

    return make


def gan_example(tmp_path) -> Example:
    """A two-network project like the GAN examples, written beside the test."""
    digits = json.loads(example("digits-mlp").path.read_text())
    path = tmp_path / "gan-2d.netwright.json"
    data = {
        "format": "netwright-project",
        "version": 1,
        "name": "gan-2d",
        "networks": {"generator": digits["graph"], "discriminator": digits["graph"]},
        "recipe": {"kind": "gan"},
        "dataset": {},
        "training": {},
    }
    path.write_text(json.dumps(data))
    return Example("gan-2d", "A generator and a critic learning a 2-D ring.", path)


def test_the_gallery_lists_every_bundled_example_with_its_description(shown_gallery):
    dialog = shown_gallery()
    assert dialog.visible_names() == [e.name for e in examples()]
    assert len(dialog.visible_names()) >= 10
    for i in range(dialog.cards.count()):
        entry = dialog.cards.item(i).data(gallery.ENTRY_ROLE)
        assert entry.description


def test_every_card_gets_a_picture_of_its_graph(shown_gallery):
    dialog = shown_gallery()
    dialog.draw_all_thumbnails()
    for i in range(dialog.cards.count()):
        picture = dialog.cards.item(i).data(Qt.ItemDataRole.DecorationRole)
        assert picture is not None and not picture.isNull(), dialog.cards.item(i).text()


def test_a_thumbnail_draws_the_graph_and_is_cached_by_the_files_contents(qtbot, tmp_path):
    source = tmp_path / "mine.netwright.json"
    source.write_bytes(example("digits-cnn").path.read_bytes())
    folder = tmp_path / "cache"
    image = thumbnail(source, THUMBNAIL_SIZE, 2.0, folder)
    assert image is not None and image.width() == 2 * THUMBNAIL_SIZE.width()
    canvas = QColor(theme.current().canvas).rgb()
    centre_row = [image.pixel(x, image.height() // 2) for x in range(image.width())]
    assert any(p != canvas for p in centre_row)  # nodes and wires were drawn
    cached = list(folder.glob("*.png"))
    assert [p.stem for p in cached] == [cache_key(source, THUMBNAIL_SIZE, 2.0)]
    source.write_bytes(example("perceptron").path.read_bytes())  # the example changed
    thumbnail(source, THUMBNAIL_SIZE, 2.0, folder)
    assert len(list(folder.glob("*.png"))) == 2  # a fresh picture, not the stale one


def test_opening_an_example_gives_its_graph_as_a_new_unsaved_project(window, monkeypatch):
    def choose_residual(dialog):
        dialog.search.setText("residual")
        dialog.open_current()
        return dialog.result()

    monkeypatch.setattr(ExampleGallery, "exec", choose_residual)
    assert open_example_gallery(window)
    expected = load_project(example("residual-cnn").path).graph
    assert sorted(window.document.graph.nodes) == sorted(expected.nodes)
    assert len(window.document.graph.edges) == len(expected.edges)
    assert window.document.project.path is None  # Save asks where; the bundled file is safe
    assert "residual-cnn" in window.windowTitle()


def test_the_file_menu_offers_new_from_example(window):
    action = window.action("new_from_example")
    assert action.text() == "New from E&xample…"
    assert action.shortcut().toString() == "Ctrl+Shift+N"


def test_typing_filters_and_enter_opens_the_match(shown_gallery, qtbot):
    dialog = shown_gallery()
    dialog.cards.setFocus()
    qtbot.keyClicks(dialog.cards, "lstm")
    assert dialog.search.text() == "lstm"
    assert dialog.visible_names() == ["digits-lstm"]
    qtbot.keyClick(dialog.search, Qt.Key.Key_Return)
    assert dialog.result() == ExampleGallery.DialogCode.Accepted
    assert dialog.chosen == example("digits-lstm").path


def test_arrows_move_between_cards_and_escape_closes(shown_gallery, qtbot):
    dialog = shown_gallery()
    assert dialog.current_entry().name == "perceptron"
    qtbot.keyClick(dialog.cards, Qt.Key.Key_Right)
    assert dialog.current_entry().name == "digits-mlp"
    qtbot.keyClick(dialog.search, Qt.Key.Key_Down)  # from the filter box into the cards
    assert dialog.cards.hasFocus() or dialog.current_entry().name != "digits-mlp"
    qtbot.keyClick(dialog.cards, Qt.Key.Key_Escape)
    assert dialog.result() == ExampleGallery.DialogCode.Rejected
    assert dialog.chosen is None


def test_a_filter_matching_nothing_says_so_and_disables_open(shown_gallery):
    dialog = shown_gallery()
    dialog.search.setText("no such network")
    assert dialog.visible_names() == []
    assert not dialog.open_button.isEnabled()
    assert "No example matches" in dialog.detail.text()


def test_a_multi_network_example_says_how_many_networks_it_holds(shown_gallery, tmp_path):
    found = [example("perceptron"), gan_example(tmp_path)]
    dialog = shown_gallery(gallery_entries(found))
    assert dialog.visible_names() == ["perceptron", "gan-2d"]
    dialog.cards.setCurrentRow(1)
    entry = dialog.current_entry()
    assert entry.networks == 2
    assert "in 2 networks" in dialog.detail.text()
    assert dialog.open_button.isEnabled()
    dialog.open_current()
    assert dialog.chosen == entry.path


def test_gan_examples_open_with_both_networks(window, monkeypatch):
    def choose_gan(dialog):
        dialog.search.setText("gan-2d")
        dialog.open_current()
        return dialog.result()

    monkeypatch.setattr(ExampleGallery, "exec", choose_gan)
    assert open_example_gallery(window)
    project = window.document.project
    expected = load_project(example("gan-2d").path)
    assert project.is_multi_network
    assert list(project.networks) == list(expected.networks)
    assert project.path is None
