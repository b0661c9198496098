"""How long the designer takes from `netwright gui` to its first paint, beside Qt alone.

Each run starts a fresh Python process (as a user's start does) that opens the
main window on the default example off-screen and reports the moment of its
first paint, and whether torch was loaded by then (it must not be: the window
loads it on a thread after painting). Beside it, in the same run, the time of
`python -c "import PySide6.QtWidgets"`: the floor no Qt program goes below.
Medians of RUNS starts after one that fills Python's bytecode cache, as a
second start of an installed program finds it; the last line is the JSON figures.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/startup.py
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 5

FIRST_PAINT = """
import sys, time
started = float(sys.argv[1])
from PySide6.QtCore import QEvent, QObject
from app.main_window import MainWindow, application
from app.gui import open_project
app = application()
window = MainWindow(open_project(None))
class Painted(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint:
            print(time.time() - started, "torch" in sys.modules, flush=True)
            app.quit()
        return False
painted = Painted()
window.installEventFilter(painted)
window.show()
app.exec()
"""


def timed(code: str) -> tuple[float, str]:
    """Seconds from launching `python -c code` to its end, and what it printed."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # a user's Python keeps its compiled modules
    started = time.time()
    done = subprocess.run(
        [sys.executable, "-c", code, str(started)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return time.time() - started, done.stdout.strip()


def main() -> None:
    qt, paint, torch_loaded = [], [], []
    timed(FIRST_PAINT)  # not counted: the first start compiles and caches the modules
    for _ in range(RUNS):
        qt.append(timed("import PySide6.QtWidgets")[0])
        _, printed = timed(FIRST_PAINT)
        seconds, loaded = printed.split()[-2:]
        paint.append(float(seconds))
        torch_loaded.append(loaded == "True")
        print(f"first paint {paint[-1]:.2f} s (torch loaded: {loaded}); Qt alone {qt[-1]:.2f} s")
    figures = {
        "first_paint_s": round(statistics.median(paint), 3),
        "import_qt_widgets_s": round(statistics.median(qt), 3),
        "ratio": round(statistics.median(paint) / statistics.median(qt), 2),
        "torch_loaded_before_paint": any(torch_loaded),
        "runs": RUNS,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
