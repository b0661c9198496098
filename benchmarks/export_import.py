"""Export and import speed and fidelity on model-zoo-sized networks.

Builds a ResNet-18-style and a DenseNet-264-style network in plain torch
(torchvision does not import with this torch build), exports each with
torch.onnx.export (BatchNorm kept, as training-mode exports and model-zoo
files have them: the DenseNet file has 1,000+ operators), imports it with
Netwright, exports it again with Netwright (verified), and compares the
final ONNX file's outputs with the original torch model.

Side by side with the plain PyTorch way: Netwright's export against a bare
torch.onnx.export of the same model, and Netwright's import against just
loading and checking the file with onnx and opening it in onnxruntime.
torchvision's DenseNet-121 (at 64x64) and ViT-B/16 (at 224x224), random weights, are measured
as their own ONNX files the same way; a model that does not import yet says so in the JSON
(`..._imports`: false, `..._refused`: why) instead of stopping the benchmark.
Quantized and half-precision files: two bundled examples (digits-cnn, trained for a few
epochs; digits-lstm, quantized dynamically) exported as float32, int8 and fp16, with each
file's size, validation accuracy and onnxruntime CPU latency per batch (1 thread, median).
Prints one JSON line of figures last. Runs in about three minutes.
"""

from __future__ import annotations

import io
import json
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "engine"))

from real_models import TORCHVISION, export  # noqa: E402
from test_import_architectures import DenseNet, ResNet18, onnx_bytes, randomise_batch_norms  # noqa: E402

from engine.analysis import analyse  # noqa: E402
from engine.export import export_onnx  # noqa: E402
from engine.layout import layered_positions  # noqa: E402
from engine.onnx_import import OnnxImportError, import_onnx  # noqa: E402
from engine.project import load_project  # noqa: E402

# (densenet264 below: blocks 6/12/64/64, 1,000+ ONNX operators with BatchNorm kept)

REPEATS = 3
SHAPE = (3, 32, 32)


def timed(function, repeats: int = REPEATS) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def plain_torch_export(model: torch.nn.Module) -> bytes:
    buffer = io.BytesIO()
    torch.onnx.export(
        model,
        (torch.randn(2, *SHAPE),),
        buffer,
        dynamo=False,
        dynamic_axes={"input": {0: "batch"}},
        input_names=["input"],
        opset_version=17,
    )
    return buffer.getvalue()


def plain_onnx_open(path: Path) -> None:
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def measure(name: str, model: torch.nn.Module, folder: Path) -> dict[str, float | int]:
    model = randomise_batch_norms(model).eval()
    source = folder / f"{name}.onnx"
    source.write_bytes(onnx_bytes(model, SHAPE, training=True))
    operators = len(onnx.load(str(source)).graph.node)

    counter = iter(range(10**6))

    def do_import():
        return import_onnx(source, folder / f"{name}_{next(counter)}.netwright.json")

    import_s, result = timed(do_import)
    project = load_project(result.project_path)  # type: ignore[attr-defined]
    baseline_open_s, _ = timed(lambda: plain_onnx_open(source))
    analyse_s, _ = timed(lambda: analyse(project.graph))
    layout_s, _ = timed(lambda: layered_positions(project.graph))
    export_s, exported = timed(
        lambda: export_onnx(project, folder / f"{name}_again.onnx", verify=True)
    )
    export_unverified_s, _ = timed(
        lambda: export_onnx(project, folder / f"{name}_fast.onnx", verify=False)
    )
    torch_export_s, _ = timed(lambda: plain_torch_export(model))

    x = torch.randn(4, *SHAPE, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = model(x).numpy()
    session = ort.InferenceSession(
        str(folder / f"{name}_again.onnx"), providers=["CPUExecutionProvider"]
    )
    got = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    max_abs = float(np.abs(got - expected).max())
    relative = max_abs / max(1e-12, float(np.abs(expected).max()))
    figures = {
        "onnx_operators": operators,
        "layers": len(project.graph) - 2,
        "import_s": round(import_s, 3),
        "plain_onnx_load_check_session_s": round(baseline_open_s, 3),
        "import_vs_plain_open": round(import_s / baseline_open_s, 2),
        "analyse_ms": round(analyse_s * 1000, 1),
        "layout_ms": round(layout_s * 1000, 1),
        "export_verified_s": round(export_s, 3),
        "export_unverified_s": round(export_unverified_s, 3),
        "plain_torch_onnx_export_s": round(torch_export_s, 3),
        "export_vs_plain_torch": round(export_unverified_s / torch_export_s, 2),
        "verify_max_abs_difference": exported.max_abs_difference,  # type: ignore[attr-defined]
        "round_trip_max_abs_difference": max_abs,
        "round_trip_relative_difference": relative,
    }
    print(f"{name}: " + ", ".join(f"{k}={v}" for k, v in figures.items()), flush=True)
    return figures


def measure_torchvision(name: str, folder: Path) -> dict[str, object]:
    """A torchvision model's own ONNX file (TorchScript exporter, dynamic batch, random
    weights): Netwright's import and export against onnx's load + check + session."""
    spec = TORCHVISION[name]
    torch.manual_seed(0)
    model = spec.build().eval()
    source = export(model, spec.example(2), "torchscript", folder / f"{name}.onnx")
    figures: dict[str, object] = {
        "onnx_operators": len(onnx.load(str(source)).graph.node),
        "file_mb": round(source.stat().st_size / 2**20, 1),
    }
    baseline_open_s, _ = timed(lambda: plain_onnx_open(source))
    figures["plain_onnx_load_check_session_s"] = round(baseline_open_s, 3)
    counter = iter(range(10**6))
    try:
        import_s, result = timed(
            lambda: import_onnx(source, folder / f"{name}_{next(counter)}.netwright.json")
        )
    except OnnxImportError as error:
        figures["imports"] = False
        figures["refused"] = " ".join(str(error).split(":", 1)[-1].split())[:300]
        print(f"{name}: " + ", ".join(f"{k}={v}" for k, v in figures.items()), flush=True)
        return figures
    project = load_project(result.project_path)  # type: ignore[attr-defined]
    export_s, exported = timed(
        lambda: export_onnx(project, folder / f"{name}_again.onnx", verify=True), repeats=1
    )
    x = spec.example(3)
    with torch.no_grad():
        expected = model(x).numpy()
    session = ort.InferenceSession(
        str(folder / f"{name}_again.onnx"), providers=["CPUExecutionProvider"]
    )
    got = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    figures.update(
        {
            "imports": True,
            "layers": len(project.graph) - 2,
            "import_s": round(import_s, 3),
            "import_vs_plain_open": round(import_s / baseline_open_s, 2),
            "export_verified_s": round(export_s, 3),
            "export_vs_plain_open": round(export_s / baseline_open_s, 2),
            "verify_max_abs_difference": exported.max_abs_difference,  # type: ignore[attr-defined]
            "round_trip_relative_difference": float(
                np.abs(got - expected).max() / max(1.0, float(np.abs(expected).max()))
            ),
        }
    )
    print(f"{name}: " + ", ".join(f"{k}={v}" for k, v in figures.items()), flush=True)
    return figures


FORMS_EXAMPLES = ("digits-cnn", "digits-lstm")


def measure_forms(name: str, folder: Path) -> dict[str, object]:
    """float32 beside int8 and fp16 for one example, trained briefly first."""
    from engine.cli import run
    from engine.export import export_onnx

    project_path = folder / f"{name}.netwright.json"
    run(["new", str(project_path), "--example", name])
    run(["train", str(project_path), "--epochs", "5", "--seed", "0"])
    project = load_project(project_path)
    figures: dict[str, object] = {}
    for form, options in (("int8", {"quantize": "int8"}), ("fp16", {"precision": "fp16"})):
        result = export_onnx(project, folder / f"{name}.{form}.onnx", **options)
        report = result.comparison
        assert report is not None
        figures.update(
            {
                "float32_bytes": report.float_size_bytes,
                "float32_latency_ms": round(report.float_latency_ms, 4),
                "float32_val_accuracy": report.float_metric,
                f"{form}_bytes": report.size_bytes,
                f"{form}_latency_ms": round(report.latency_ms, 4),
                f"{form}_val_accuracy": report.exported_metric,
                f"{form}_size_ratio": round(report.size_ratio, 2),
                f"{form}_latency_ratio": round(report.latency_ms / report.float_latency_ms, 2),
                f"{form}_method": report.method.split(" (")[0],
            }
        )
    print(f"{name}: " + ", ".join(f"{k}={v}" for k, v in figures.items()), flush=True)
    return figures


def main() -> None:
    warnings.filterwarnings("ignore")  # torch's notice that the TorchScript exporter is legacy
    torch.set_num_threads(1)
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as folder:
        results = {
            "resnet18": measure("resnet18", ResNet18(width=32), Path(folder)),
            "densenet264": measure(
                "densenet264", DenseNet(blocks=(6, 12, 64, 64), growth=8), Path(folder)
            ),
            "torchvision_densenet121": measure_torchvision("densenet121", Path(folder)),
            "torchvision_vit_b_16": measure_torchvision("vit_b_16", Path(folder)),
        }
        for name in FORMS_EXAMPLES:
            results[name.replace("-", "_")] = measure_forms(name, Path(folder))
    summary = {
        "benchmark": "export_import",
        "torch": torch.__version__,
        "threads": 1,
        "repeats_median_of": REPEATS,
        **{
            f"{model}_{key}": value
            for model, figures in results.items()
            for key, value in figures.items()
        },
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
