"""Render the README's pictures of the Runs and Search panels and of the learning-rate finder.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_runs_screenshot.py [OUT.png]

A copy of the digits-cnn example in a temporary folder trains twice from the
window (the example's settings, then a higher learning rate and a wider first
convolution), then a short search runs from the Search panel; the picture shows
the Runs panel with the two runs compared (their curves overlaid, the
differences named and marked on the canvas) and the Search panel's results.
`make screenshots` runs it with the other pictures.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def wait_until(app: object, done: Callable[[], bool], seconds: float = 600.0) -> None:
    deadline = time.perf_counter() + seconds
    while not done() and time.perf_counter() < deadline:
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.01)


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots" / "runs.png"
    from PySide6.QtCore import QSettings, Qt

    from app.main_window import MainWindow, application
    from engine.project import load_project
    from engine.resources import example

    app = application()
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["NETWRIGHT_DATA_DIR"] = str(Path(scratch) / "data")
        path = Path(scratch) / "digits-cnn.netwright.json"
        shutil.copy(example("digits-cnn").path, path)
        settings = QSettings(str(Path(scratch) / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(load_project(path), settings)
        window.resize(1600, 1000)
        window.training.dashboard.build()
        window.training.quiet = True
        window.show()
        controller, document = window.training, window.document

        def train() -> None:
            controller.train()
            wait_until(app, lambda: not controller.running)

        train()
        document.set_value("training.optimizer.lr", 0.003)
        document.set_param("conv1", "out_channels", 48)
        train()
        document.undo()
        document.undo()
        search = window.runs.search
        search.dimension_table.setRowCount(0)
        for spec in ("lr=3e-4..1e-2:log", "batch_size=32,64,128", "dropout.p=0.1..0.5"):
            search.add_dimension(spec)
        search.trials_box.setValue(10)
        search.epochs_box.setValue(8)
        window.runs.search_dock.raise_()
        window.resizeDocks([window.runs.search_dock], [430], Qt.Orientation.Horizontal)
        search.start()
        wait_until(app, lambda: not controller.running)
        panel = window.runs.panel
        window.runs.runs_dock.raise_()
        panel.refresh()
        first, second = [r for r in panel.runs() if r.data.get("source") == "window"][:2]
        panel.table.sortByColumn(3, Qt.SortOrder.AscendingOrder)  # the best validation loss first
        panel.select([first.id, second.id])
        panel.compare_selected()
        window.view.zoom_to_fit()
        for _ in range(10):
            app.processEvents()
        ok = window.grab().save(str(out), "PNG")
        dialog = window.runs.find_lr(window)  # the learning-rate finder on the example
        assert dialog is not None
        wait_until(app, lambda: dialog.finding is not None)
        for _ in range(10):
            app.processEvents()
        ok = ok and dialog.grab().save(str(out.with_name("lr-finder.png")), "PNG")
        dialog.close()
        document.mark_saved()
        window.close()
    print(f"wrote {out}" if ok else f"cannot write {out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
