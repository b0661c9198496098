"""How the editor keeps up with big graphs: one edit on 200 nodes, opening 1,000 nodes,
panning and zooming 1,000 nodes, auto-layout of 2,000, and an imported DenseNet-121.

Goals (issue 4): after an edit, shape inference plus repaint of a 200-node
graph in under 16 ms (one frame at 60 Hz); opening a 1,000-node project in
under a second. Each figure is set beside the engine alone doing the same
work without the editor (analysis only; loading only), so the ratio shows
what the editor adds. Goals (issue 15): a 1,000-node graph, everything expanded,
pans and zooms at one frame per 16 ms, at fit (drawn as one picture far out:
designer/overview.py) and at 100% (a zoom gesture scales the nodes' pictures:
GraphView.set_zoom); auto-layout of 2,000 nodes in under a second.

Also from issue 15: torchvision's DenseNet-121 (random weights, 1x3x224x224) written to
ONNX by torch's TorchScript exporter (opset 17, as tests/engine/real_models.py does) into
a temporary folder, then imported twice: as blocks (the default, about 7 nodes at the
top) and flat (about 370 nodes). Each import is timed beside onnx.load + onnx.checker +
an onnxruntime session on the same file; each project is opened in the editor beside
load_project + analyse alone; pan and zoom frames are timed on the flat one at fit and
at 100% (centred on its middle node). Without torchvision that part is skipped, with
the reason printed and `densenet_skipped` in the JSON.
Runs off-screen in a few minutes; prints one JSON line last.

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
from typing import Any

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
IMPORTS = 3


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
        editor = Editor()
        editor.view.resize(1280, 800)
        editor.view.show()
        app.processEvents()
        load_only, opens = open_timings(app, editor, path)
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


def pan_and_zoom(editor: Editor, pan_key: str, zoom_key: str) -> dict[str, float]:
    """FRAMES pan steps, then FRAMES zoom steps (10% in and back), from where the view is."""
    view = editor.view
    view.settle()  # the user pauses: no zoom gesture is under way while panning
    view.viewport().repaint()
    base = view.zoom()

    def pan(i: int) -> None:
        view.pan_by(40 if i % 2 else -40, 25)

    def zoom(i: int) -> None:
        view.set_zoom(base * (1.1 if i % 2 == 0 else 1.0))

    figures = summary(pan_key, frame_times(editor, pan))
    figures.update(summary(zoom_key, frame_times(editor, zoom)))
    return figures


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
        figures.update(pan_and_zoom(editor, f"pan_1000_{where}", f"zoom_1000_{where}"))
        figures[f"zoom_at_{where}"] = round(view.zoom(), 3)
    editor.document.undo_stack.clear()
    return figures


def open_timings(app: QApplication, editor: Editor, path: Path) -> tuple[list[float], list[float]]:
    """Opening `path` in the editor, and the engine alone doing the same (load + analyse)."""
    engine_only, opens = [], []
    for _ in range(OPENS):
        start = time.perf_counter()
        analyse(load_project(path).graph)
        engine_only.append(time.perf_counter() - start)
        start = time.perf_counter()
        editor.document.load(load_project(path))
        editor.view.zoom_to_fit()
        editor.view.viewport().repaint()
        opens.append(time.perf_counter() - start)
        app.processEvents()
    return engine_only, opens


def bench_densenet(app: QApplication) -> dict[str, object]:
    """torchvision's DenseNet-121 through the importer, as blocks and flat, then in the editor."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "engine"))
    try:
        import onnx
        import onnxruntime as ort
        import torch
        from real_models import export, torchvision_models

        densenet121 = torchvision_models().densenet121
    except (ImportError, RuntimeError, OSError) as error:
        reason = f"torchvision's DenseNet-121 is not available: {error}"
        print(f"skipping the DenseNet-121 figures: {reason}", flush=True)
        return {"densenet_skipped": reason}
    from engine.onnx_import import import_onnx

    figures: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        torch.manual_seed(0)
        model = densenet121(weights=None).eval()
        start = time.perf_counter()
        source = export(model, torch.randn(1, 3, 224, 224), "torchscript", folder / "d.onnx")
        figures["densenet_torch_export_s"] = round(time.perf_counter() - start, 2)
        del model
        plain = []
        for _ in range(IMPORTS):
            start = time.perf_counter()
            loaded = onnx.load(str(source))
            onnx.checker.check_model(loaded)
            ort.InferenceSession(str(source), providers=["CPUExecutionProvider"])
            plain.append(time.perf_counter() - start)
        figures["densenet_onnx_operators"] = len(loaded.graph.node)
        figures["densenet_plain_onnx_open_median_ms"] = ms(statistics.median(plain))
        paths: dict[str, Path] = {}
        for kind, flat in (("collapsed", False), ("expanded", True)):
            imports = []
            for i in range(IMPORTS):
                start = time.perf_counter()
                result = import_onnx(source, folder / f"{kind}{i}.netwright.json", flat=flat)
                imports.append(time.perf_counter() - start)
            paths[kind] = result.project_path
            figures[f"densenet_import_{kind}_median_ms"] = ms(statistics.median(imports))
            figures[f"densenet_import_{kind}_vs_plain_open_ratio"] = round(
                statistics.median(imports) / statistics.median(plain), 2
            )
            figures[f"densenet_import_{kind}_max_abs_difference"] = result.max_abs_difference
        editor = Editor()
        editor.view.resize(1280, 800)
        editor.view.show()
        app.processEvents()
        for kind, path in paths.items():
            engine_only, opens = open_timings(app, editor, path)
            project = load_project(path)
            figures[f"densenet_nodes_{kind}"] = len(project.graph)
            figures[f"densenet_block_definitions_{kind}"] = len(project.blocks)
            figures[f"densenet_open_{kind}_median_ms"] = ms(statistics.median(opens))
            figures[f"densenet_open_{kind}_max_ms"] = ms(max(opens))
            figures[f"densenet_load_analyse_{kind}_median_ms"] = ms(statistics.median(engine_only))
            figures[f"densenet_open_vs_load_{kind}_ratio"] = round(
                statistics.median(opens) / statistics.median(engine_only), 2
            )
            assert len(editor.scene.nodes) == len(project.graph)
        editor.document.undo_stack.clear()
        # pan and zoom frames on the expanded (flat) network; the engine has no part in it
        editor.document.load(load_project(paths["expanded"]))
        view = editor.view
        app.processEvents()
        items = sorted(editor.scene.nodes.values(), key=lambda item: (item.y(), item.x()))
        middle = items[len(items) // 2]
        for where in ("fit", "100pct"):
            if where == "fit":
                view.zoom_to_fit()
            else:
                view.set_zoom(1.0)
                view.centerOn(middle)
            app.processEvents()
            base = view.zoom()
            figures.update(pan_and_zoom(editor, f"densenet_pan_{where}", f"densenet_zoom_{where}"))
            figures[f"densenet_zoom_at_{where}"] = round(base, 3)
            if where == "100pct":
                view.set_zoom(1.0)
                view.centerOn(middle)
                app.processEvents()
                seen = view.mapToScene(view.viewport().rect())
                figures["densenet_nodes_visible_at_100pct"] = sum(
                    1
                    for item in editor.scene.nodes.values()
                    if seen.intersects(item.sceneBoundingRect())
                )
        editor.document.undo_stack.clear()
        editor.view.close()
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
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(["editor_scale"])
    figures: dict[str, Any] = {"platform": os.environ.get("QT_QPA_PLATFORM", "")}
    figures.update(bench_edit(app))
    figures.update(bench_open(app))
    figures.update(bench_frames(app))
    figures.update(bench_layout(app))
    figures.update(bench_densenet(app))
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
