"""`netwright gui [PROJECT] [--screenshot OUT.png] [--train-seconds S]`.

Opens the designer on PROJECT, or on the default example when none is given
(as an unsaved copy, so Save asks where to put it). With `--screenshot` the
window is rendered off-screen, saved as a PNG, and the program exits: for
documentation and for checking what the editor looks like.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from engine.project import Project, ProjectError, load_project
from engine.resources import DEFAULT_EXAMPLE, example

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow

SCREENSHOT_SIZE = (1600, 1000)
READABLE_ZOOM = 0.85


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="netwright gui", description="Open the Netwright designer."
    )
    parser.add_argument("project", nargs="?", help="a .netwright.json project file")
    parser.add_argument(
        "--screenshot", metavar="OUT.png", help="render the window to OUT.png and exit"
    )
    parser.add_argument(
        "--train-seconds",
        type=float,
        metavar="S",
        help="train S seconds with the live charts before the screenshot "
        "(without --screenshot: start training as the window opens)",
    )
    return parser.parse_args(list(argv))


def open_project(path: str | None) -> Project:
    """The project to show; raises ProjectError with a plain message."""
    if path is not None:
        return load_project(path)
    bundled = example(DEFAULT_EXAMPLE)
    if bundled is None:
        return Project(name="untitled")
    project = load_project(bundled.path)
    project.path = None  # a copy: never overwrite the bundled example
    return project


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        project = open_project(args.project)
    except ProjectError as error:
        print(f"netwright: {error}", file=sys.stderr)
        return 2
    if args.screenshot:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # rendered off-screen, per contract
    from app.main_window import MainWindow, application

    app = application()
    if args.screenshot:
        return _screenshot(app, project, Path(args.screenshot), args.train_seconds)
    from app.error_log import install_error_handling
    from app.startup import after_first_paint

    install_error_handling()  # an uncaught error is logged and shown, never fatal
    window = MainWindow(project)
    if args.project is not None:
        window.remember(Path(args.project))
    # then: recovered work first, the greeting on a first start, torch in the background
    after_first_paint(window, named_project=args.project is not None)
    window.show()
    window.view.zoom_to_fit()
    if args.train_seconds is not None:  # start training as soon as the window is up
        from PySide6.QtCore import QTimer

        QTimer.singleShot(0, window.training.train)
    return int(app.exec())


def _screenshot(
    app: QApplication, project: Project, out: Path, train_seconds: float | None = None
) -> int:
    """Render the window with default settings (not the user's) and save it; with
    `train_seconds`, after training that long with the live charts showing."""
    from PySide6.QtCore import QSettings

    from app.main_window import MainWindow

    with tempfile.TemporaryDirectory() as scratch:
        settings = QSettings(str(Path(scratch) / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(project, settings)
        window.resize(*SCREENSHOT_SIZE)
        window.training.dashboard.build()  # a picture has no first paint to wait for
        window.show()
        _settle(app)
        _frame(window)
        _settle(app)
        failed = None
        if train_seconds:
            from app.training.screenshot import train_for

            failed = train_for(window, app, train_seconds)
        picture = window.grab()
        ok = picture.save(str(out), "PNG")
        window.document.mark_saved()
        window.close()
    if not ok:
        print(f"netwright: cannot write the screenshot to {out}", file=sys.stderr)
        return 2
    print(f"saved {out}")
    return 1 if failed else 0


def _frame(window: MainWindow) -> None:
    """Fit the network; if that makes it too small to read, show its start up close instead,
    with the first layer that has parameters selected so the inspector shows it too."""
    view, scene, graph = window.view, window.scene, window.document.graph
    view.zoom_to_fit()
    if view.zoom() >= READABLE_ZOOM or not scene.nodes:
        return
    analysis = window.document.analysis
    order = analysis.order or list(graph.nodes)
    first = scene.nodes[order[0]]
    chosen = next((n for n in order if graph.node(n).params and n != analysis.input_id), None)
    if chosen is not None:
        scene.select_nodes([chosen])
    view.resetTransform()
    view.scale(READABLE_ZOOM, READABLE_ZOOM)
    left = first.sceneBoundingRect()
    width = view.viewport().width() / READABLE_ZOOM
    view.centerOn(left.left() - 40 + width / 2, left.center().y() + 60)
    view.zoom_changed.emit(view.zoom())


def _settle(app: QApplication) -> None:
    for _ in range(5):
        app.processEvents()
