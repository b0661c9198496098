"""Render the README's picture of the block library, driving the real window.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_block_library_screenshot.py [OUT_FOLDER]

Opens the residual-blocks example with a temporary data folder, saves its BasicBlock to
the library as "SmallBasic" (so "My blocks" has an entry), drops the bundled
SqueezeExcite onto the canvas, collapses the layer categories so the palette shows its
Blocks and My blocks sections, and grabs the window (block-library.png).
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
    from PySide6.QtCore import QPointF, QSettings
    from PySide6.QtWidgets import QApplication, QDockWidget

    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    app = QApplication([])
    with tempfile.TemporaryDirectory() as folder:
        os.environ["NETWRIGHT_DATA_DIR"] = str(Path(folder) / "data")
        from app.main_window import MainWindow
        from designer import block_library
        from designer.palette import BLOCK_ROLE, BLOCKS, MY_BLOCKS
        from engine.project import load_project
        from engine.resources import example

        settings = QSettings(str(Path(folder) / "settings.ini"), QSettings.Format.IniFormat)
        project = load_project(example("residual-blocks").path)
        project.path = None  # an unsaved copy: nothing is written beside the example
        window = MainWindow(project, settings)
        window.resize(1500, 860)
        for dock in window.findChildren(QDockWidget):
            if dock.objectName() not in ("PaletteDock", "InspectorDock"):
                dock.close()
        window.show()
        app.processEvents()
        block_library.ask_details = lambda parent, name, text: (  # type: ignore[assignment]
            "SmallBasic",
            "The example's 16-channel basic block",
        )
        window.editor.save_to_library("block1", window)
        palette = window.layer_palette
        squeeze = next(i for i in palette.block_items() if i.text(0) == "SqueezeExcite")
        below = window.scene.itemsBoundingRect()
        spot = QPointF(below.center().x(), below.bottom() + 160)
        window.view.add_block(str(palette.blocks[squeeze.data(0, BLOCK_ROLE)].path), spot)
        app.processEvents()
        window.scene.clearSelection()
        window.view.zoom_to_fit()
        window.scene.select_nodes(["block4"])
        tree = palette.tree
        for i in range(tree.topLevelItemCount()):
            group = tree.topLevelItem(i)
            if group is not None:
                group.setExpanded(group.text(0) in (BLOCKS, MY_BLOCKS))
        tree.setCurrentItem(squeeze)
        app.processEvents()
        out.mkdir(parents=True, exist_ok=True)
        window.grab().save(str(out / "block-library.png"))
        print(out / "block-library.png")
        window.document.mark_saved()
        window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
