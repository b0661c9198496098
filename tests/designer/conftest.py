"""Fixtures for the editor's tests: an editor on a real example, shown off-screen."""

from __future__ import annotations

import pytest

from designer.editor import Editor
from designer.inspector import Inspector
from engine.project import Project, load_project
from engine.resources import example


def example_project(name: str = "digits-cnn") -> Project:
    found = example(name)
    assert found is not None
    return load_project(found.path)


@pytest.fixture
def project_named():
    """Load a bundled example by name (a fresh copy each call)."""
    return example_project


def shown_editor(qtbot, project: Project) -> Editor:  # type: ignore[no-untyped-def]
    """An editor on `project`, its view shown at 800x600 (its fixture clears the undo stack
    after the test)."""
    made = Editor(project)
    qtbot.addWidget(made.view)
    made.view.resize(800, 600)
    made.view.show()
    return made


@pytest.fixture
def editor(qtbot):
    """An editor on the digits CNN, its view shown at 800x600."""
    made = shown_editor(qtbot, example_project())
    made.view.zoom_to_fit()
    yield made
    made.document.undo_stack.clear()


@pytest.fixture
def empty_editor(qtbot):
    made = Editor(Project(name="untitled"))
    qtbot.addWidget(made.view)
    made.view.resize(800, 600)
    made.view.show()
    yield made


@pytest.fixture
def inspector(editor, qtbot):
    """An inspector on `editor` (the module's own, where it has one), shown at 380x900."""
    panel = Inspector(editor.document, editor.scene)
    qtbot.addWidget(panel)
    panel.resize(380, 900)
    panel.show()
    return panel
