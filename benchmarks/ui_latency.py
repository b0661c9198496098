"""Does the window stay responsive while it trains, and what do the live views cost training?

The real main window, off-screen, trains the digits CNN with the dashboard
showing (the tabs are cycled every 3 s so the curves, the activation views,
the weight charts and the Inside tab all draw; `--tabs` chooses) and the
activation swatches on the canvas,
while a 5 ms QTimer measures how late the event loop serves it. The plain
way, in the same process: the engine's Trainer in a thread with no GUI at
all. The two take turns in short stretches (plain, GUI, plain, ..., plain);
the window's one run is paused while the plain thread trains, so it goes on
as a user's would, its charts growing. Each GUI stretch is compared with the
mean of the plain stretches on either side, and the median of those ratios
is reported: this shared machine's speed drifts too much within seconds for
one long stretch of each to mean anything.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/ui_latency.py [--seconds 16]
        [--tabs cycle|cycle-without-inside|inside]

`cycle` (the default) shows Curves, Activations, Weights & gradients and Inside
in turn; `cycle-without-inside` the first three only (the views before the
Inside tab existed); `inside` keeps the Inside tab showing throughout (its
look into the run then goes on all the time).

Last line: JSON with p50_ms, p99_ms, max_ms (event-loop lateness), and
samples_per_s_dashboard, samples_per_s_plain and their ratio.
Goals: p99 <= 10 ms, no stall over 33 ms; the live views cost training <= 5%.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import torch

from engine.project import load_project
from engine.resources import example
from engine.training import plan_training

EXAMPLE = "digits-cnn"
TICK_MS = 5
EPOCHS = 100_000  # runs are stopped by time, never by running out of epochs


def project():
    loaded = load_project(example(EXAMPLE).path)
    loaded.path = None
    loaded.training["epochs"] = EPOCHS
    loaded.training["early_stopping"] = None
    loaded.training["device"] = "cpu"
    return loaded


def rate(trainer, seconds: float, samples_per_step: float) -> float:
    """Samples per second over `seconds` of a trainer already running."""
    while trainer.global_step == 0:
        time.sleep(0.01)
    start_step, start = trainer.global_step, time.perf_counter()
    time.sleep(seconds)
    steps = trainer.global_step - start_step
    return steps * samples_per_step / (time.perf_counter() - start)


def plain_run(seconds: float) -> float:
    """The engine's Trainer in a thread, no GUI: samples/s."""
    plan = plan_training(project())
    train, val = plan.batches()
    trainer = plan.trainer(reserve_core_for_ui=True)
    thread = threading.Thread(target=trainer.fit, args=(train, val))
    thread.start()
    try:
        return rate(trainer, seconds, plan.data.train_samples / len(train))
    finally:
        trainer.stop()
        thread.join()


class Window:
    """The real main window, reused for every measured stretch."""

    def __init__(self, tabs: str = "cycle") -> None:
        from PySide6.QtCore import QElapsedTimer, QSettings, QTimer

        from app.main_window import MainWindow, application

        self.app = application()
        scratch = tempfile.mkdtemp()
        settings = QSettings(str(Path(scratch) / "settings.ini"), QSettings.Format.IniFormat)
        settings.setValue("training/device", "cpu")
        self.window = MainWindow(project(), settings)
        self.window.resize(1600, 1000)
        self.window.show()
        self.window.view.zoom_to_fit()
        self.controller = self.window.training
        self.controller.quiet = True
        self.clock = QElapsedTimer()
        self.clock.start()
        self.lateness: list[float] = []
        self.measuring = False
        self.last = 0.0
        self.timer = QTimer()
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.timer.start()
        self.inside_ui: list[float] = []  # seconds the Inside tab took on the UI thread, per call
        self._time_inside()
        self.tabs = self.controller.dashboard.tabs
        inside = self.window.inside.index
        self.shown = {
            "cycle": [0, 1, 2, inside],
            "cycle-without-inside": [0, 1, 2],
            "inside": [inside],
        }[tabs]
        self.tabs.setCurrentIndex(self.shown[0])
        self.stretches = [0]  # stretches measured so far
        self.tabs_seen = {self.tabs.tabText(self.shown[0]).replace("&&", "&")}
        self.cycle = QTimer()
        self.cycle.setInterval(3000)  # a user looking at each tab in turn
        self.cycle.timeout.connect(self._next_tab)
        for _ in range(5):
            self.app.processEvents()

    def _time_inside(self) -> None:
        """Time what the Inside tab does on the UI thread (taking a look in, drawing views), and
        what its look costs the training thread: figures a busy machine disturbs far less than
        it disturbs the ratio of two training rates."""
        import app.inside.look as look_module

        page = self.window.inside.page
        for name in ("add", "refresh"):
            method = getattr(page, name)

            def timed(*args, method=method, **kwargs):
                started = time.perf_counter()
                try:
                    return method(*args, **kwargs)
                finally:
                    self.inside_ui.append(time.perf_counter() - started)

            setattr(page, name, timed)
        self.looks: list[float] = []
        original = look_module.InsideLook.look
        looks = self.looks

        def look(self_, epoch, final=False):
            started = time.perf_counter()
            original(self_, epoch, final)
            looks.append(time.perf_counter() - started)

        look_module.InsideLook.look = look

    def _next_tab(self) -> None:
        current = self.tabs.currentIndex()
        at = self.shown.index(current) if current in self.shown else -1
        self.tabs.setCurrentIndex(self.shown[(at + 1) % len(self.shown)])
        self.tabs_seen.add(self.tabs.tabText(self.tabs.currentIndex()).replace("&&", "&"))

    def _tick(self) -> None:
        now = self.clock.nsecsElapsed() / 1e6
        if self.measuring:
            self.lateness.append(max(0.0, now - self.last - TICK_MS))
        self.last = now

    def run(self, seconds: float) -> float:
        """Train from the window for `seconds` (after the first batch), then pause: samples/s.
        The first call presses Train, later ones Resume: one run goes on across the stretches,
        as a user's would, its charts growing, rather than restarting each time."""
        from PySide6.QtCore import QEventLoop, QTimer

        controller = self.controller
        loop = QEventLoop()
        result: dict[str, float] = {}
        stretch_index = self.stretches

        def measure() -> None:
            worker = controller.worker
            trainer = worker.trainer if worker is not None else None
            if trainer is None or trainer.global_step == 0:
                QTimer.singleShot(20, measure)  # still planning
                return
            info = controller.info
            result["per_step"] = info["train_samples"] / info["steps_per_epoch"]
            result["start_step"], result["start"] = trainer.global_step, time.perf_counter()
            self.measuring, self.last = True, self.clock.nsecsElapsed() / 1e6
            # each stretch shows the next tab (a stretch is shorter than the 3 s cycle, which
            # restarts with it: without this the first tab alone would ever be shown)
            if stretch_index[0] > 0:
                self._next_tab()
            stretch_index[0] += 1
            self.cycle.start()
            QTimer.singleShot(int(seconds * 1000), finish)

        def finish() -> None:
            steps = controller.worker.trainer.global_step - result["start_step"]
            result["rate"] = steps * result["per_step"] / (time.perf_counter() - result["start"])
            self.measuring = False
            self.cycle.stop()
            controller.toggle_pause()
            loop.quit()

        controller.train()  # starts, or resumes the paused run
        QTimer.singleShot(0, measure)
        loop.exec()
        self.app.processEvents()
        return result["rate"]

    def views(self) -> dict[str, int]:
        dashboard = self.controller.dashboard
        inside = self.window.inside.page
        ui = np.asarray(self.inside_ui or [0.0]) * 1000
        looks = np.asarray(self.looks[1:] or [0.0]) * 1000  # the first warms up
        return {
            "inside_ui_ms_max": round(float(ui.max()), 2),
            "inside_ui_ms_p99": round(float(np.percentile(ui, 99)), 2),
            "inside_look_ms_median": round(float(np.median(looks)), 1),
            "batch_points": dashboard.loss.points("batch"),
            "probe_looks": max(dashboard.activations.looks(n) for n in ("conv1", "conv2")),
            "canvas_swatches": self.controller.canvas.count(),
            "inside_looks": inside.frames,
            "inside_layer_drawings": sum(view.renders for view in inside.views),
        }

    def close(self) -> None:
        self.controller.shutdown()
        self.window.document.mark_saved()
        self.window.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=16.0, help="GUI training in all (>= 10)")
    parser.add_argument("--rounds", type=int, default=8, help="alternations of plain and GUI")
    parser.add_argument(
        "--tabs",
        choices=("cycle", "cycle-without-inside", "inside"),
        default="cycle",
        help="which dashboard tabs show while the window trains",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    window = Window(args.tabs)
    stretch = args.seconds / args.rounds
    plain_rates, gui_rates = [plain_run(stretch)], []
    for round_ in range(args.rounds):  # alternate, so a shared machine's drift hits both
        gui_rates.append(window.run(stretch))
        plain_rates.append(plain_run(stretch))
        print(
            f"round {round_ + 1}: main window with live views {gui_rates[-1]:,.0f} samples/s, "
            f"plain Trainer thread around it {plain_rates[-2]:,.0f} and {plain_rates[-1]:,.0f}",
            flush=True,
        )
    views: dict[str, object] = {**window.views(), "tabs_shown": sorted(window.tabs_seen)}
    window.close()
    ratios = [g / ((a + b) / 2) for g, a, b in zip(gui_rates, plain_rates, plain_rates[1:])]
    ratio = statistics.median(ratios)
    plain, with_views = statistics.median(plain_rates), statistics.median(gui_rates)
    late = np.asarray(window.lateness)
    figures = {
        "benchmark": "ui_latency",
        "example": EXAMPLE,
        "tabs": args.tabs,
        "gui_seconds": args.seconds,
        "ticks": len(late),
        "p50_ms": round(float(np.percentile(late, 50)), 2),
        "p99_ms": round(float(np.percentile(late, 99)), 2),
        "max_ms": round(float(late.max()), 2),
        "samples_per_s_dashboard": round(with_views),
        "samples_per_s_plain": round(plain),
        "rounds_dashboard": [round(r) for r in gui_rates],
        "rounds_plain": [round(r) for r in plain_rates],
        "ratios": [round(r, 3) for r in ratios],
        "dashboard_over_plain": round(ratio, 3),
        "training_cost_pct": round(100 * (1 - ratio), 1),
        "cpu_cores": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2),
        **views,
        "goals": {"p99_ms": 10, "max_ms": 33, "training_cost_pct": 5},
    }
    print(
        f"event-loop lateness p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms, "
        f"max {figures['max_ms']} ms over {len(late)} ticks of {TICK_MS} ms"
    )
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
