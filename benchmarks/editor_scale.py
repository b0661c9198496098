"""How the editor keeps up with big graphs: one edit on 200 nodes, opening 1,000 nodes,
panning and zooming 1,000 nodes, auto-layout of 2,000.

Goals (issue 4): after an edit, shape inference plus repaint of a 200-node
graph in under 16 ms (one frame at 60 Hz); opening a 1,000-node project in
under a second. Each figure is set beside the engine alone doing the same
work without the editor (analysis only; loading only), so the ratio shows
what the editor adds. Goals (issue 15): a 1,000-node graph, everything expanded,
pans and zooms at one frame per 16 ms, at fit (drawn as one picture far out:
designer/overview.py) and at 100% (a zoom gesture scales the nodes' pictures: GraphView.set_zoom);
auto-layout of 2,000 nodes in under a second.
Runs off-screen; prints one JSON line last.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/editor_scale.py
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from app.main_window import MainWindow
from designer.editor import Editor
from engine.analysis import analyse
from engine.graph import Graph, PortRef
from engine.layout import layered_positions
from engine.project import Project, load_project, save_project

EDITS = 40
OPENS = 5
PER_ROW = 25
FRAMES = 40


def network(count: int) -> Project:
    """A valid chain of Linear/ReLU/LayerNorm layers with a residual Add every 12 layers,
    laid out in rows the way a person would arrange a long network."""
    graph = Graph()
    previous = graph.add_node("Input", "input", {"shape": [64]}).id
    block_start = previous
    kinds = ("Linear", "ReLU", "LayerNorm")
    for i in range(count - 2):
        if i % 12 == 11:
            node = graph.add_node("Add", f"add{i}")
            graph.connect(PortRef(block_start, "out"), PortRef(node.id, "in"))
            block_start = node.id
        else:
            kind = kinds[i % 3]
            params = {"out_features": 64} if kind == "Linear" else {}
            node = graph.add_node(kind, f"{kind.lower()}{i}", params)
        node.position = ((i + 1) % PER_ROW * 260.0, (i + 1) // PER_ROW * 150.0)
        graph.connect(PortRef(previous, "out"), PortRef(node.id, "in"))
        previous = node.id
    out = graph.add_node("Output", "output")
    out.position = (0.0, ((count - 1) // PER_ROW + 1) * 150.0)
    graph.connect(PortRef(previous, "out"), PortRef(out.id, "in"))
    return Project(name=f"bench-{count}", graph=graph)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def edit_timings(app: QApplication, editor: Editor, node_id: str, full: bool) -> list[float]:
    """set_param -> analysis -> items updated -> painted.

    `full=False` is what happens after an edit: Qt repaints only the regions of
    items that changed (flushed here with processEvents). `full=True` forces the
    whole viewport to repaint, as a pan or zoom does: the worst case per frame.
    """
    doc, viewport = editor.document, editor.view.viewport()
    times = []
    for i in range(EDITS):
        start = time.perf_counter()
        doc.set_param(node_id, "out_features", 64 + (i % 2))
        doc.analyse_now()
        if full:
            viewport.repaint()
        app.processEvents()
        times.append(time.perf_counter() - start)
    return times


def summary(prefix: str, times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        f"{prefix}_median_ms": ms(statistics.median(times)),
        f"{prefix}_p90_ms": ms(ordered[int(0.9 * len(ordered))]),
    }


def bench_edit(app: QApplication) -> dict[str, float]:
    project = network(200)
    window = MainWindow(
        project, QSettings(tempfile.mktemp(suffix=".ini"), QSettings.Format.IniFormat)
    )
    window.resize(1600, 1000)
    window.show()
    editor = window.editor
    app.processEvents()
    target = next(n.id for n in project.graph if n.type == "Linear" and n.position[1] == 300.0)
    editor.scene.select_nodes([target])  # the inspector shows it, as while editing
    engine_only = []
    for _ in range(EDITS):
        start = time.perf_counter()
        analyse(project.graph)
        engine_only.append(time.perf_counter() - start)
    figures: dict[str, float] = {}
    editor.view.zoom_to_fit()
    app.processEvents()
    figures.update(summary("edit_200_fit", edit_timings(app, editor, target, False)))
    figures.update(summary("edit_200_fit_full_repaint", edit_timings(app, editor, target, True)))
    editor.view.resetTransform()
    editor.view.centerOn(editor.scene.nodes[target])
    app.processEvents()
    close = edit_timings(app, editor, target, False)
    figures.update(summary("edit_200_at_100pct", close))
    figures.update(
        summary("edit_200_at_100pct_full_repaint", edit_timings(app, editor, target, True))
    )
    view_rect = editor.view.mapToScene(editor.view.viewport().rect())
    figures["nodes_visible_at_100pct"] = sum(
        1 for item in editor.scene.nodes.values() if view_rect.intersects(item.sceneBoundingRect())
    )
    figures["analysis_only_200_median_ms"] = ms(statistics.median(engine_only))
    figures["edit_vs_analysis_ratio"] = round(
        statistics.median(close) / statistics.median(engine_only), 2
    )
    window.document.mark_saved()
    window.close()
    return figures


def bench_open(app: QApplication) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "big.netwright.json"
        save_project(network(1000), path)
        load_only, opens = [], []
        editor = Editor()
        editor.view.resize(1280, 800)
        editor.view.show()
        app.processEvents()
        for _ in range(OPENS):
            start = time.perf_counter()
            project = load_project(path)
            analyse(project.graph)
            load_only.append(time.perf_counter() - start)
            start = time.perf_counter()
            editor.document.load(load_project(path))
            editor.view.zoom_to_fit()
            editor.view.viewport().repaint()
            opens.append(time.perf_counter() - start)
        assert len(editor.scene.nodes) == 1000
    return {
        "open_1000_median_ms": ms(statistics.median(opens)),
        "open_1000_max_ms": ms(max(opens)),
        "load_and_analyse_only_1000_median_ms": ms(statistics.median(load_only)),
        "open_vs_load_ratio": round(statistics.median(opens) / statistics.median(load_only), 2),
    }


def frame_times(editor: Editor, step: Callable[[int], None]) -> list[float]:
    """One pan or zoom step, then the viewport painted: one frame, as a user sees it."""
    viewport, times = editor.view.viewport(), []
    for i in range(FRAMES):
        start = time.perf_counter()
        step(i)
        viewport.repaint()
        times.append(time.perf_counter() - start)
    return times


def bench_frames(app: QApplication) -> dict[str, float]:
    """Pan and zoom steps on 1,000 nodes, at fit and at 100%; the engine has no part in it."""
    editor = Editor(network(1000))
    view = editor.view
    view.resize(1280, 800)
    view.show()
    app.processEvents()
    figures: dict[str, float] = {}
    for where in ("fit", "100pct"):
        if where == "fit":
            view.zoom_to_fit()
        else:
            view.set_zoom(1.0)
            view.centerOn(editor.scene.nodes["linear300"])
        app.processEvents()
        view.settle()  # the user pauses: no zoom gesture is under way while panning
        view.viewport().repaint()
        base = view.zoom()
        pan = frame_times(editor, lambda i: view.pan_by(40 if i % 2 else -40, 25))
        zoom = frame_times(
            editor, lambda i, b=base: view.set_zoom(b * (1.1 if i % 2 == 0 else 1.0))
        )
        figures.update(summary(f"pan_1000_{where}", pan))
        figures.update(summary(f"zoom_1000_{where}", zoom))
        figures[f"zoom_at_{where}"] = round(base, 3)
    editor.document.undo_stack.clear()
    return figures


def bench_layout(app: QApplication) -> dict[str, float]:
    """Auto-layout (Ctrl+L) of 2,000 nodes in the editor, beside engine.layout alone."""
    project = network(2000)
    engine_only, in_editor = [], []
    for _ in range(OPENS):
        start = time.perf_counter()
        layered_positions(project.graph)
        engine_only.append(time.perf_counter() - start)
    editor = Editor(project)
    editor.view.resize(1280, 800)
    editor.view.show()
    app.processEvents()
    for _ in range(OPENS):
        editor.document.undo_stack.undo() if editor.document.undo_stack.canUndo() else None
        app.processEvents()
        start = time.perf_counter()
        editor.auto_layout()
        editor.view.viewport().repaint()
        in_editor.append(time.perf_counter() - start)
    editor.document.undo_stack.clear()
    return {
        "layout_2000_median_ms": ms(statistics.median(in_editor)),
        "layout_only_2000_median_ms": ms(statistics.median(engine_only)),
        "layout_vs_engine_ratio": round(
            statistics.median(in_editor) / statistics.median(engine_only), 2
        ),
    }


def main() -> None:
    app = QApplication.instance() or QApplication(["editor_scale"])
    figures = {"platform": os.environ.get("QT_QPA_PLATFORM", "")}
    figures.update(bench_edit(app))
    figures.update(bench_open(app))
    figures.update(bench_frames(app))
    figures.update(bench_layout(app))
    figures["edit_goal_ms"] = 16
    figures["open_goal_ms"] = 1000
    figures["edit_goal_met"] = (
        max(figures["edit_200_at_100pct_median_ms"], figures["edit_200_fit_median_ms"]) < 16
    )
    figures["open_goal_met"] = figures["open_1000_median_ms"] < 1000
    figures["frame_goal_ms"] = 16
    figures["frame_goal_met"] = all(
        figures[f"{kind}_1000_{where}_median_ms"] < 16
        for kind in ("pan", "zoom")
        for where in ("fit", "100pct")
    )
    figures["layout_goal_ms"] = 1000
    figures["layout_goal_met"] = figures["layout_2000_median_ms"] < 1000
    for key, value in figures.items():
        print(f"{key:40s} {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
