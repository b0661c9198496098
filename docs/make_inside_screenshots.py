"""Render the README's pictures of seeing inside with the real application, off-screen.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_inside_screenshots.py

(`make screenshots` runs it after the window shots.) Each picture is the app's
own widget grabbed after real training: the Inside tab on paper-ball (every
layer, and one layer large), the Neurons view on the spirals, and the Explain
dialog on a misread digit, on an iris flower and on the marker task's
attention (the marker network is trained headless first: about 3 minutes).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QSettings, Qt  # noqa: E402

from app.main_window import MainWindow, application  # noqa: E402
from engine.project import load_project  # noqa: E402
from engine.resources import example  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
WAIT_S = 240


class Shots:
    def __init__(self) -> None:
        self.app = application()
        self.scratch = Path(tempfile.mkdtemp())

    def window(self, project_path: Path, keep_path: bool = False) -> MainWindow:
        project = load_project(project_path)
        if not keep_path:
            project.path = None
        project.training["device"] = "cpu"
        settings = QSettings(str(self.scratch / "settings.ini"), QSettings.Format.IniFormat)
        settings.setValue("training/device", "cpu")
        window = MainWindow(project, settings)
        window.resize(1600, 1000)
        window.show()
        window.training.dashboard.build()
        window.training.quiet = True
        dock = window.training.docks["dashboard"]
        window.resizeDocks([dock], [470], Qt.Orientation.Vertical)
        self.turn(10)
        return window

    def turn(self, times: int = 1, pause: float = 0.0) -> None:
        for _ in range(times):
            self.app.processEvents()
            if pause:
                time.sleep(pause)

    def until(self, done: object, seconds: float = WAIT_S) -> None:
        deadline = time.perf_counter() + seconds
        while not done() and time.perf_counter() < deadline:  # type: ignore[operator]
            self.turn(pause=0.01)

    def train(self, window: MainWindow, show_inside: bool = True) -> None:
        controller = window.training
        controller.train()
        tabs = controller.dashboard.tabs
        while controller.running:
            if show_inside and tabs.currentIndex() != window.inside.index:
                tabs.setCurrentIndex(window.inside.index)  # the Regions tab takes the front
            self.turn(pause=0.005)
        self.turn(10)

    def close(self, window: MainWindow) -> None:
        window.inside.shutdown()
        window.training.shutdown()
        window.document.mark_saved()
        window.close()

    def save(self, widget: object, name: str) -> None:
        self.turn(10)
        target = OUT / name
        widget.grab().save(str(target))  # type: ignore[attr-defined]
        print(f"wrote {target.relative_to(ROOT)}")

    # ------------------------------------------------------------ the shots
    def inside(self) -> None:
        window = self.window(example("paper-ball").path)
        self.train(window)
        page = window.inside.page
        self.until(lambda: page.final)
        page.refresh(everything=True)
        dock = window.training.docks["dashboard"]
        self.save(dock, "inside.png")
        page.set_mode("single")
        page.set_depth(len(page.layers) - 2)  # tanh3: the sheets laid side by side
        page.refresh(everything=True)
        self.save(dock, "inside-layer.png")
        self.close(window)

    def neurons(self) -> None:
        window = self.window(example("deep-mlp").path)
        self.train(window)
        page = window.inside.page
        self.until(lambda: page.final)
        page.set_mode("neurons")
        page.refresh(everything=True)
        self.save(window.training.docks["dashboard"], "neurons.png")
        self.close(window)

    def explain(self, window: MainWindow, index: int, method: str, layer: str | None) -> object:
        window.inside.explain_validation(index)
        dialog = window.inside.dialog
        self.until(lambda: dialog.answers >= 1)
        seen = dialog.answers
        dialog.method.setCurrentIndex(dialog.method.findData(method))
        if layer is not None:
            dialog.layer.setCurrentIndex(dialog.layer.findData(layer))
        self.until(lambda: dialog.answers > seen and not dialog.busy and not dialog.pending)
        return dialog

    def misread_digit(self) -> None:
        window = self.window(example("digits-cnn").path)
        self.train(window, show_inside=False)
        found = window.training.last_outcome.predictions  # type: ignore[union-attr]
        wrong = [i for i, (p, t) in enumerate(zip(found["predicted"], found["true"])) if p != t]
        dialog = self.explain(window, wrong[0] if wrong else 0, "integrated_gradients", None)
        self.save(dialog, "explain-digit.png")
        self.close(window)

    def iris(self) -> None:
        window = self.window(example("perceptron").path)
        self.train(window, show_inside=False)
        self.save(self.explain(window, 5, "integrated_gradients", None), "explain-iris.png")
        self.close(window)

    def attention(self) -> None:
        from engine.cli import run

        project = self.scratch / "transformer-marker.netwright.json"
        project.write_bytes(example("transformer-marker").path.read_bytes())
        weights = self.scratch / "transformer-marker.safetensors"
        if run(["train", str(project), "--weights-out", str(weights)]) != 0:
            raise SystemExit("training transformer-marker failed")
        window = self.window(project, keep_path=True)  # explains with the saved weights
        self.save(self.explain(window, 3, "attention", "encoder2"), "attention.png")
        self.close(window)


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    shots = Shots()
    chosen = sys.argv[1:] or ["inside", "neurons", "misread_digit", "iris", "attention"]
    for name in chosen:
        getattr(shots, name)()
    return 0


if __name__ == "__main__":
    sys.exit(main())
