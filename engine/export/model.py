"""What every export starts from: the compiled network with the right weights in it.

Trained weights win whenever there are any: an explicit `--weights` file,
else the project's own ``NAME.safetensors``; only a project that was never
trained falls back to the seed's deterministic initialization, so the same
project always exports the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.analysis import Analysis, analyse
from engine.compiler import GraphModule, compile_graph
from engine.project import Project
from engine.training.checkpoints import checkpoint_metadata, network_file
from engine.weights import WeightsError, load_weights

if TYPE_CHECKING:
    from engine.export.deploy_check import DeployCheck
    from engine.export.quantize import Comparison


class ExportError(ValueError):
    """An export the user can fix; `code` is the CLI exit code (1 unusable, 2 unreadable)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote, in the terms a result dialog shows."""

    path: Path
    size_bytes: int
    format: str  # "onnx" or "python"
    weights: str  # where the numbers came from, in words
    opset: int | None = None
    exporter: str | None = None  # "torchscript" or "dynamo" for ONNX
    max_abs_difference: float | None = None  # onnxruntime vs torch; None when not verified
    tolerance: float | None = None
    form: str = "float32"  # "float32", "int8" or "fp16" for ONNX
    scaling: str | None = None  # where the fitted input scaling went, in words
    comparison: Comparison | None = None  # int8/fp16 against float32: size, accuracy, latency
    deploy: DeployCheck | None = None  # opset, operators, the runtimes that read the file

    @property
    def verified(self) -> bool:
        return self.max_abs_difference is not None

    def summary_lines(self) -> list[str]:
        """Plain lines for a terminal or a dialog."""
        lines = [f"wrote {self.path} ({size_text(self.size_bytes)})"]
        if self.opset is not None:
            lines.append(f"opset {self.opset}, {self.exporter} exporter")
        lines.append(f"weights: {self.weights}")
        if self.scaling is not None:
            lines.append(f"input scaling: {self.scaling}")
        if self.max_abs_difference is not None:
            before = "" if self.form == "float32" else f" (the float32 network before {self.form})"
            lines.append(
                f"verified with onnxruntime{before}: largest absolute difference "
                f"{self.max_abs_difference:.3g} (tolerance {self.tolerance:.3g})"
            )
        if self.comparison is not None:
            lines.append(
                f"the {self.form} file passes onnx's checker and runs in onnxruntime; "
                "it is compared with float32 instead of matched"
            )
            lines.extend(self.comparison.lines())
        if self.deploy is not None:
            lines.extend(self.deploy.lines())
        return lines

    def to_json(self) -> dict[str, Any]:
        """The result as plain JSON values (the report's figures under `comparison`, `deploy`)."""
        return {
            "path": str(self.path),
            "size_bytes": self.size_bytes,
            "format": self.format,
            "form": self.form,
            "weights": self.weights,
            "opset": self.opset,
            "exporter": self.exporter,
            "max_abs_difference": self.max_abs_difference,
            "tolerance": self.tolerance,
            "scaling": self.scaling,
            "comparison": None if self.comparison is None else self.comparison.to_json(),
            "deploy": None if self.deploy is None else self.deploy.to_json(),
        }


def size_text(size: int) -> str:
    """``85123`` -> ``83.1 KiB``."""
    for unit in ("bytes", "KiB", "MiB"):
        if size < 1024 or unit == "MiB":
            return f"{size} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return f"{size:.1f} GiB"


@dataclass
class ReadyModel:
    """The compiled network in eval mode, and where its weights came from."""

    module: GraphModule
    weights: str
    analysis: Analysis  # of the graph it was compiled from
    metadata: dict[str, str] = field(default_factory=dict)  # the weights file's (its tokenizer)


def ready_model(project: Project, weights: str | Path | None = None) -> ReadyModel:
    """Compile the project and load its weights; refuses an invalid graph or unfitting weights."""
    analysis = analyse(project.graph)
    if not analysis.ok:
        lines = "; ".join(str(d) for d in analysis.errors[:5])
        more = f" (and {len(analysis.errors) - 5} more)" if len(analysis.errors) > 5 else ""
        raise ExportError(
            f"the network has {len(analysis.errors)} problem(s), fix them before exporting: "
            f"{lines}{more}",
            code=1,
        )
    seed = project.training.get("seed", 0)
    seed = seed if isinstance(seed, int) and not isinstance(seed, bool) else 0
    module = compile_graph(project.graph, seed, analysis)
    source = f"initial weights (seed {seed}; the project has no trained weights)"
    metadata: dict[str, str] = {}
    path = Path(weights) if weights is not None else project.weights_path()
    network = next(iter(project.networks), None)  # a GAN exports its generator
    if network is not None and path is not None and not path.is_file():
        legacy = network_file(path, network)  # how versions before one file per run kept it
        path = legacy if legacy.is_file() else path
    if weights is not None and path is not None and not path.is_file():
        raise ExportError(f"{path}: no such weights file", code=2)
    if path is not None and path.is_file():
        try:
            load_weights(module, path, network)
            metadata = checkpoint_metadata(path)
        except WeightsError as error:
            code = 1 if "do not fit" in str(error) else 2
            raise ExportError(str(error), code=code) from None
        source = f"trained weights from {path}"
    module.eval()
    return ReadyModel(module, source, analysis, metadata)
