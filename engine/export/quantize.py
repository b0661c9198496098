"""Smaller, faster ONNX files: int8 quantization and half precision, with what they cost.

int8 is static where it can be: onnxruntime's `quantize_static` in the QDQ
format with per-channel weights, its activation ranges calibrated on N
samples of the project's own training data, prepared exactly as training
prepares them (raw when the scaling is in the graph). Recurrent and attention
networks, and networks reading token ids, are quantized dynamically
(`quantize_dynamic`: weights int8, activation ranges measured per batch at
run time), because static ranges for their gates, softmax and embeddings
lose too much. Biases stay float32: onnxruntime folds them into its fused
QLinearConv and QGemm when it loads the file (the same kernels run), and an
int32 copy with its own scale and zero point takes three times the room.
fp16 is onnxruntime's `convert_float_to_float16` with
float32 inputs and outputs kept, so callers feed what they fed before.

A quantized file cannot match torch within 1e-4, so instead of that proof
it must pass onnx's checker and run in onnxruntime, and the report states
what changed: file size, the validation accuracy (or loss) of the float file
and the new one on the project's validation split, and onnxruntime's CPU
latency per batch for both (1 thread, median of repeats).
"""

from __future__ import annotations

import logging
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from engine.export.model import ExportError, size_text
from engine.layers import layer_type

if TYPE_CHECKING:
    from engine.analysis import Analysis
    from engine.export.standalone import InputScaling
    from engine.project import Project

DEFAULT_CALIBRATION = 256  # training samples that calibrate a static int8 file
CALIBRATION_BATCH = 32
LATENCY_REPEATS = 30
DYNAMIC_CATEGORIES = ("Recurrent", "Attention")
DYNAMIC_OPS = ["MatMul", "Gemm", "Attention", "LSTM", "Gather"]  # what ORT quantizes dynamically


@dataclass(frozen=True)
class Comparison:
    """The float32 file and the exported one side by side, as the report prints them."""

    form: str  # "int8" or "fp16"
    method: str  # in words: static or dynamic, calibrated on how many samples
    float_size_bytes: int
    size_bytes: int
    metric: str | None  # "validation accuracy" or "validation loss (mse)"; None: not measured
    float_metric: float | None
    exported_metric: float | None
    val_samples: int
    batch_size: int
    float_latency_ms: float
    latency_ms: float
    threads: int = 1
    repeats: int = LATENCY_REPEATS
    note: str = ""  # why no metric, when there is none

    @property
    def size_ratio(self) -> float:
        return self.float_size_bytes / max(1, self.size_bytes)

    @property
    def speedup(self) -> float:
        return self.float_latency_ms / max(1e-9, self.latency_ms)

    def lines(self) -> list[str]:
        rows = [("", "float32", self.form, "change")]
        rows.append(
            (
                "file size",
                size_text(self.float_size_bytes),
                size_text(self.size_bytes),
                _times(self.size_ratio, "smaller", "larger"),
            )
        )
        if self.metric is not None and self.float_metric is not None:
            assert self.exported_metric is not None
            accuracy = "accuracy" in self.metric
            if accuracy:
                before, after = f"{self.float_metric:.2%}", f"{self.exported_metric:.2%}"
                change = f"{(self.exported_metric - self.float_metric) * 100:+.2f} points"
            else:
                before, after = f"{self.float_metric:.4g}", f"{self.exported_metric:.4g}"
                change = f"{self.exported_metric - self.float_metric:+.3g}"
            rows.append((self.metric, before, after, f"{change} ({self.val_samples} samples)"))
        rows.append(
            (
                "CPU latency / batch",
                f"{self.float_latency_ms:.3f} ms",
                f"{self.latency_ms:.3f} ms",
                f"{_times(self.speedup, 'faster', 'slower')} (batch {self.batch_size}, "
                f"{self.threads} thread, "
                f"median of {self.repeats})",
            )
        )
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        table = [
            "  ".join(c.ljust(w) for c, w in zip(row[:3], widths)) + "  " + row[3] for row in rows
        ]
        lines = [f"{self.form}: {self.method}", *(t.rstrip() for t in table)]
        if self.note:
            lines.append(self.note)
        return lines

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "size_ratio": self.size_ratio, "speedup": self.speedup}


def _times(ratio: float, better: str, worse: str) -> str:
    """``3.05x smaller``, or ``1.19x slower`` rather than ``0.84x faster``."""
    return f"{ratio:.2f}x {better}" if ratio >= 1 else f"{1 / ratio:.2f}x {worse}"


@dataclass
class Samples:
    """The project's data as the exported file reads it: calibration and validation."""

    calibration: np.ndarray | None
    val_x: np.ndarray | None
    val_y: np.ndarray | None
    classification: bool
    loss: str
    note: str = ""  # why there is no validation data


def dynamic_reason(project: Project, analysis: Analysis) -> str | None:
    """Why static int8 does not apply to this network (None when it does)."""
    if analysis.reads_tokens:
        return "it reads token ids"
    for node in project.graph.nodes.values():
        layer = layer_type(node.type)
        if layer is not None and layer.category in DYNAMIC_CATEGORIES:
            return f"it has a {layer.category.lower()} layer ('{node.id}', {node.type})"
    return None


def project_samples(
    project: Project,
    analysis: Analysis,
    metadata: dict[str, str],
    scaling: InputScaling | None,
    calibration: int,
) -> Samples:
    """Training samples for calibration and the validation split, prepared as training
    prepares them, then un-scaled to raw values when `scaling` is in the graph. A GAN's
    generator calibrates on the standard normal noise it reads. Raises DataError."""
    from engine.data.loading import load_training_data
    from engine.data.prepare import PreparedData
    from engine.settings import TrainingSettings

    settings = TrainingSettings.from_project(project)
    if project.is_multi_network:
        rng = np.random.default_rng(settings.seed)
        noise = rng.standard_normal((calibration, *(analysis.input_shape or ()))).astype(np.float32)
        return Samples(
            noise, None, None, False, settings.loss, "a generator has no validation targets"
        )
    tokenizer = None
    if "netwright.tokenizer" in metadata:
        from engine.text.tokenizers import tokenizer_from_json

        tokenizer = tokenizer_from_json(metadata["netwright.tokenizer"])
    from engine.data.dataset import DataError

    data = load_training_data(project, settings, analysis, None, tokenizer)
    if not isinstance(data, PreparedData):
        raise DataError(
            "the data set streams from an image folder too large to hold in memory, which the "
            "quantization report cannot read yet; use a smaller folder or --precision fp16",
            code=1,
        )

    def raw(x: torch.Tensor) -> np.ndarray:
        values = x.numpy()
        if scaling is None or data.scaling is None or values.dtype.kind != "f":
            return values
        from engine.data.scaling import scaling_affine

        offset, scale = scaling_affine(data.scaling, tuple(values.shape[1:]))
        return (values * scale + offset).astype(np.float32)

    has_val = data.val_x is not None and data.val_y is not None and len(data.val_x) > 0
    return Samples(
        raw(data.train_x[:calibration]),
        raw(data.val_x) if has_val else None,  # type: ignore[arg-type]
        data.val_y.numpy() if has_val else None,  # type: ignore[union-attr]
        data.classification,
        settings.loss,
        "" if has_val else "the project keeps no validation split (validation_split is 0)",
    )


def quantize_int8(
    float_bytes: bytes, input_name: str, samples: Samples | None, dynamic: str | None
) -> tuple[bytes, str]:
    """The int8 file and how it was made, in words. `dynamic`: why static does not apply."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_dynamic,
        quantize_static,
    )

    class Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self, x: np.ndarray) -> None:
            self.batches = iter(
                [x[i : i + CALIBRATION_BATCH] for i in range(0, len(x), CALIBRATION_BATCH)]
            )

        def get_next(self) -> dict[str, np.ndarray] | None:
            batch = next(self.batches, None)
            return None if batch is None else {input_name: batch}

    with tempfile.TemporaryDirectory(prefix="netwright-quantize-") as scratch:
        source, target = Path(scratch) / "float.onnx", Path(scratch) / "int8.onnx"
        source.write_bytes(float_bytes)
        previous = logging.root.manager.disable
        logging.disable(logging.WARNING)  # its advice to pre-process is for its own developers
        try:
            if dynamic is not None:
                quantize_dynamic(
                    source, target, weight_type=QuantType.QInt8, op_types_to_quantize=DYNAMIC_OPS
                )
                method = (
                    "dynamic quantization (int8 weights, activation ranges per batch at run "
                    f"time), because {dynamic}"
                )
            else:
                assert samples is not None and samples.calibration is not None
                quantize_static(
                    source,
                    target,
                    Reader(samples.calibration),
                    quant_format=QuantFormat.QDQ,
                    per_channel=True,
                    activation_type=QuantType.QInt8,
                    weight_type=QuantType.QInt8,
                    extra_options={"QuantizeBias": False},
                )
                method = (
                    "static quantization (QDQ, int8 per-channel weights), calibrated on "
                    f"{len(samples.calibration)} training samples"
                )
        except Exception as error:  # onnxruntime's tools raise many kinds
            raise ExportError(
                f"onnxruntime could not quantize the network to int8: {_first_line(error)}"
            ) from None
        finally:
            logging.disable(previous)
        return target.read_bytes(), method


def half_precision(float_bytes: bytes) -> tuple[bytes, str]:
    """The fp16 file (float32 inputs and outputs kept) and how it was made."""
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    model = onnx.load_model_from_string(float_bytes)
    try:
        half = convert_float_to_float16(model, keep_io_types=True, disable_shape_infer=False)
    except Exception as error:  # the converter raises many kinds
        raise ExportError(
            f"onnxruntime could not convert the network to fp16: {_first_line(error)}"
        ) from None
    _topological_order(half)
    return (
        half.SerializeToString(),
        "half precision (fp16 weights and arithmetic; inputs and outputs stay float32)",
    )


def _topological_order(model: Any) -> None:
    """Put the nodes in an order where each comes after what it reads: the converter appends
    the Casts that keep float32 inputs after the nodes that read them, which onnx's checker
    rejects (and onnxruntime may crash on)."""
    graph = model.graph
    ready = {i.name for i in graph.input} | {t.name for t in graph.initializer} | {""}
    pending, ordered = list(graph.node), []
    while pending:
        left = [n for n in pending if not all(name in ready for name in n.input)]
        placed = [n for n in pending if all(name in ready for name in n.input)]
        if not placed:  # outer-scope names of a subgraph: keep the rest as it was
            ordered += left
            break
        for node in placed:
            ready.update(node.output)
        ordered += placed
        pending = left
    copies = [type(n)() for n in ordered]
    for copy, node in zip(copies, ordered):
        copy.CopyFrom(node)
    del graph.node[:]
    graph.node.extend(copies)


def compare(
    form: str,
    method: str,
    float_bytes: bytes,
    exported_bytes: bytes,
    samples: Samples | None,
    example: dict[str, np.ndarray],
    batch_size: int,
    note: str = "",
    repeats: int = LATENCY_REPEATS,
) -> Comparison:
    """Run both files in onnxruntime on the validation split and time one batch of each."""
    probe_in_child(exported_bytes, f"the {form} file")
    before, after = (
        _session(float_bytes, "the float32 file"),
        _session(exported_bytes, f"the {form} file"),
    )
    metric = float_metric = exported_metric = None
    val_samples = 0
    if samples is not None and samples.val_x is not None and samples.val_y is not None:
        metric = (
            "validation accuracy" if samples.classification else f"validation loss ({samples.loss})"
        )
        float_metric = _score(before, samples)
        exported_metric = _score(after, samples)
        val_samples = len(samples.val_x)
    elif samples is not None:
        note = note or f"accuracy not measured: {samples.note}"
    timing = _timing_batch(samples, example, batch_size)
    return Comparison(
        form,
        method,
        len(float_bytes),
        len(exported_bytes),
        metric,
        float_metric,
        exported_metric,
        val_samples,
        len(next(iter(timing.values()))),
        _latency_ms(before, timing, repeats),
        _latency_ms(after, timing, repeats),
        1,
        repeats,
        note,
    )


PROBE = "import sys, onnxruntime as o; o.InferenceSession(sys.argv[1], providers=['CPUExecutionProvider'])"


def probe_in_child(data: bytes, what: str) -> None:
    """Open the file in onnxruntime in a child process first: some graphs crash its graph
    optimizer (onnxruntime 1.32 on digits-vit in fp16), which must not take the designer with
    it. Raises ExportError saying so. Skipped in a frozen app, which has no Python to run."""
    import subprocess
    import sys

    if getattr(sys, "frozen", False):
        return
    with tempfile.TemporaryDirectory(prefix="netwright-probe-") as scratch:
        path = Path(scratch) / "probe.onnx"
        path.write_bytes(data)
        try:
            done = subprocess.run(
                [sys.executable, "-c", PROBE, str(path)],
                capture_output=True,
                text=True,
                timeout=300,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise ExportError(f"could not open {what} in onnxruntime: {error}") from None
    if done.returncode < 0:
        raise ExportError(
            f"onnxruntime crashes opening {what} (signal {-done.returncode}, in its graph "
            "optimizer); export float32 or another form of this network instead"
        )
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        raise ExportError(f"onnxruntime cannot load {what}: {(lines or ['?'])[-1][:300]}")


def _session(data: bytes, what: str) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own untyped errors
        raise ExportError(f"onnxruntime cannot load {what}: {_first_line(error)}") from None


def _run(session: Any, x: np.ndarray) -> np.ndarray:
    name = session.get_inputs()[0].name
    try:
        return session.run(None, {name: x})[0]  # type: ignore[no-any-return]
    except Exception as error:  # onnxruntime raises its own untyped errors
        raise ExportError(
            f"onnxruntime could not run the exported file: {_first_line(error)}"
        ) from None


def _score(session: Any, samples: Samples) -> float:
    """Accuracy for a classifier, else the project's loss, over the whole validation split."""
    from engine.training.losses import make_loss

    assert samples.val_x is not None and samples.val_y is not None
    outputs = np.concatenate(
        [_run(session, samples.val_x[i : i + 256]) for i in range(0, len(samples.val_x), 256)]
    ).astype(np.float32)
    if samples.classification:
        return float(np.mean(outputs.argmax(axis=-1) == samples.val_y))
    loss = make_loss(samples.loss)
    with torch.no_grad():
        return float(loss(torch.from_numpy(outputs), torch.from_numpy(samples.val_y)))


def _timing_batch(
    samples: Samples | None, example: dict[str, np.ndarray], batch_size: int
) -> dict[str, np.ndarray]:
    source = None
    if samples is not None:
        source = samples.val_x if samples.val_x is not None else samples.calibration
    if source is not None and len(source) and len(example) == 1:
        return {next(iter(example)): source[: max(1, batch_size)]}
    return example


def _latency_ms(session: Any, feed: dict[str, np.ndarray], repeats: int) -> float:
    names = {entry.name for entry in session.get_inputs()}
    feed = {k: v for k, v in feed.items() if k in names}
    session.run(None, feed)  # the first run allocates; it is not what a deployed model costs
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        session.run(None, feed)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else type(error).__name__
