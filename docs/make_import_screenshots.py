"""Render the README's pictures of an imported torchvision ResNet-18, as blocks and flat.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_import_screenshots.py [OUT_FOLDER]

ResNet-18 (random weights, nothing downloaded) is written by torch's TorchScript exporter
as its users write it, imported twice with `netwright import` (as blocks, the default, and
`--flat`), and each project opened in the window with the whole network in view:
import-blocks.png and import-flat.png. The bottom docks are closed so the canvas has the
room. Needs the dev dependencies (torchvision).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "engine"))  # real_models: torchvision without its ops
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    import torch
    from PySide6.QtCore import QSettings, Qt
    from PySide6.QtWidgets import QApplication, QDockWidget
    from real_models import TORCHVISION, export

    from app.main_window import MainWindow
    from engine.onnx_import import import_onnx
    from engine.project import load_project

    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    app = QApplication([])
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        spec = TORCHVISION["resnet18"]
        torch.manual_seed(0)
        onnx_file = export(spec.build().eval(), spec.example(2), "torchscript", work / "r.onnx")
        settings = QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat)
        for name, flat in (("import-blocks.png", False), ("import-flat.png", True)):
            target = work / ("flat" if flat else "blocks") / "resnet18.netwright.json"
            target.parent.mkdir()
            result = import_onnx(onnx_file, target, flat=flat)
            window = MainWindow(load_project(result.project_path), settings)
            window.resize(1600, 900)
            for dock in window.findChildren(QDockWidget):  # the canvas gets the height
                if window.dockWidgetArea(dock) == Qt.DockWidgetArea.BottomDockWidgetArea:
                    dock.close()
            window.show()
            for _ in range(20):
                app.processEvents()
            window.view.zoom_to_fit()
            for _ in range(20):
                app.processEvents()
            window.grab().save(str(out / name))
            print(f"wrote {out / name} ({len(window.document.graph.nodes)} nodes at the top)")
            window.document.mark_saved()
            window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
