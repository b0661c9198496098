"""torch's two ONNX exporters side by side, on every bundled example and catalogue layer.

For each network, `export_onnx` runs once with `exporter="torchscript"` and once with
`exporter="dynamo"`, each verified in onnxruntime as users' exports are; the figures
are the median of a few runs of the whole export (compile, trace, check, verify,
write), and the largest absolute difference each file shows against torch. One
warm-up export per exporter comes first, so the first network does not pay for
torch's imports. Prints one line per network as it goes and one JSON line of
figures last. `--layers` adds one small network per catalogue layer (minutes more).
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "engine"))

from test_export_cases import LAYER_CASES, layer_project  # noqa: E402

from engine.export import ExportError, export_onnx  # noqa: E402
from engine.export.options import EXPORTERS  # noqa: E402
from engine.project import Project, load_project  # noqa: E402
from engine.resources import examples  # noqa: E402

REPEATS = 3


def measure(project: Project, exporter: str, folder: Path) -> dict[str, object]:
    times: list[float] = []
    difference = None
    for _ in range(REPEATS):
        out = folder / f"{exporter}.onnx"
        start = time.perf_counter()
        try:
            result = export_onnx(project, out, verify=True, exporter=exporter)
        except ExportError as error:
            return {"ok": False, "error": str(error).splitlines()[0][:200]}
        times.append(time.perf_counter() - start)
        difference = result.max_abs_difference
        written = result.exporter
    return {
        "ok": True,
        "seconds": round(statistics.median(times), 3),
        "max_abs_difference": difference,
        "written_by": written,
    }


def main() -> None:
    networks: list[tuple[str, Project]] = [
        (f"example:{e.name}", load_project(e.path)) for e in examples()
    ]
    if "--layers" in sys.argv:
        networks += [(f"layer:{name}", layer_project(name)) for name in sorted(LAYER_CASES)]
    figures: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for exporter in EXPORTERS:  # warm-up: torch's imports and first-call costs
            measure(layer_project("Linear"), exporter, Path(folder))
        for name, project in networks:
            figures[name] = {e: measure(project, e, Path(folder)) for e in EXPORTERS}
            cells = [
                f"{e} {r['seconds']:.2f} s" if r["ok"] else f"{e} FAILED: {r['error']}"
                for e, r in figures[name].items()
            ]
            print(f"{name:36s} " + " | ".join(cells), flush=True)
    summary: dict[str, object] = {"networks": len(figures)}
    for exporter in EXPORTERS:
        done = [f[exporter] for f in figures.values() if f[exporter]["ok"]]
        seconds = [float(str(d["seconds"])) for d in done]
        summary[f"{exporter}_exported"] = len(done)
        summary[f"{exporter}_median_s"] = round(statistics.median(seconds), 3) if seconds else None
        summary[f"{exporter}_total_s"] = round(sum(seconds), 2)
        worst = [float(str(d["max_abs_difference"])) for d in done]
        summary[f"{exporter}_worst_difference"] = max(worst) if worst else None
    summary["per_network"] = figures
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
