"""Render the README's pictures of blocks on the canvas, driving the real window.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_blocks_screenshots.py [OUT_FOLDER]

Opens the residual-blocks example (one BasicBlock definition used three times),
selects the stem's three layers and presses Ctrl+G, names the new block "Stem"
(blocks-grouped.png), then double-clicks block2 to open BasicBlock: the canvas
shows the definition with the breadcrumb bar above it (blocks-inside.png). Then both
convolutions' out_channels become the block parameter `channels` (Set per use…), conv2
selected (blocks-per-use.png). The dashboard dock is closed so the canvas has the room.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    from PySide6.QtCore import QSettings, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QDockWidget

    from app.main_window import MainWindow
    from engine.project import load_project
    from engine.resources import example

    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    app = QApplication([])
    with tempfile.TemporaryDirectory() as folder:
        settings = QSettings(str(Path(folder) / "settings.ini"), QSettings.Format.IniFormat)
        project = load_project(example("residual-blocks").path)
        project.path = None  # an unsaved copy: nothing is written beside the example
        window = MainWindow(project, settings)
        window.resize(1600, 900)
        window.show()
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        for dock in window.findChildren(QDockWidget):
            if window.dockWidgetArea(dock) == bottom and dock is not window.problems_dock:
                dock.hide()
        window.problems_dock.show()
        window.resizeDocks([window.problems_dock], [150], Qt.Orientation.Vertical)
        settle(app)
        window.scene.select_nodes(["stem", "stem_bn", "stem_relu"])
        QTest.keyClick(window.view, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
        window.document.rename_block("Block1", "Stem")
        window.document.auto_layout()
        window.scene.select_nodes(["block4"])
        window.view.set_zoom(0.8)
        window.view.centerOn(window.scene.nodes["block1"])
        settle(app)
        window.grab().save(str(out / "blocks-grouped.png"))
        item = window.scene.nodes["block2"]
        point = window.view.mapFromScene(item.sceneBoundingRect().center())
        QTest.mouseDClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=point)
        window.scene.select_nodes(["conv2"])
        window.view.set_zoom(0.7)
        window.view.centerOn(window.scene.nodes["relu1"])
        settle(app)
        window.grab().save(str(out / "blocks-inside.png"))
        # both convolutions' widths per use: the inspector shows the link and the use's value
        for conv in ("conv1", "conv2"):
            problem = window.document.link_param(conv, "out_channels", "channels", 16)
            assert problem is None, problem
        window.scene.select_nodes(["conv2"])
        window.document.analyse_now()
        settle(app)
        window.grab().save(str(out / "blocks-per-use.png"))
        print(
            f"wrote {out / 'blocks-grouped.png'}, {out / 'blocks-inside.png'}, blocks-per-use.png"
        )
        print("crumbs:", window.editor.breadcrumbs.texts())
        window.document.mark_saved()
        window.close()
    return 0


def settle(app: object) -> None:
    for _ in range(6):
        app.processEvents()  # type: ignore[attr-defined]
    for widget in app.topLevelWidgets():  # type: ignore[attr-defined]
        view = getattr(widget, "view", None)
        if hasattr(view, "settle"):
            view.settle()  # a zoom just set: render the nodes crisp now, not 200 ms later
    app.processEvents()  # type: ignore[attr-defined]


if __name__ == "__main__":
    sys.exit(main())
