"""Render the README's picture of a language model learning to write: the Writing tab.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_writing_screenshot.py [OUT.png] [SECONDS]

tiny-gpt trains from the window for SECONDS (170 by default: about four epochs on a quiet
2-core machine), then the picture shows the Writing tab with the samples it wrote as it
learnt, newest first, and the Generate box. `make screenshots` runs it with the others.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow
    from designer.view import GraphView
    from engine.project import load_project
    from engine.resources import example

    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots" / "writing.png"
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 170.0
    app = QApplication([])
    with tempfile.TemporaryDirectory() as folder:
        settings = QSettings(str(Path(folder) / "settings.ini"), QSettings.Format.IniFormat)
        project = load_project(example("tiny-gpt").path)
        project.path = None  # an unsaved copy: nothing is written beside the example
        window = MainWindow(project, settings)
        window.training.device_box.setCurrentIndex(0)  # the CPU, as the README's figures
        window.resize(1500, 950)
        window.show()
        app.processEvents()
        window.training.train()
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            app.processEvents()
            time.sleep(0.02)
        window.training.dashboard.tabs.setCurrentIndex(window.writing.index)
        for view in window.findChildren(GraphView):
            view.zoom_to_fit()
        for _ in range(30):
            app.processEvents()
            time.sleep(0.02)
        window.grab().save(str(out))
        window.training.stop()
        window.training.wait(20_000)
        window.training.shutdown()
        window.document.mark_saved()
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
