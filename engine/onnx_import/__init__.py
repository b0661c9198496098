"""ONNX import: an ONNX model becomes an editable Netwright project, laid out, weights kept.

Standard operators map to catalogue layers; constant subgraphs are folded into
weights; operators with no layer are refused by name, all in one message.
Some layers arrive as many operators and are recognised from their structure:
GELU, SiLU, MatMul+Add as Linear, RNN/LSTM/GRU with their wrappers, and torch's
self-attention (some 150 operators, causal or key-padding masks included) as one
MultiheadAttention, kept only after its subgraph is run and found to compute the
same. A TransformerEncoderLayer
comes back as its parts: MultiheadAttention, Add, LayerNorm, Linear, activation,
Linear, Add, LayerNorm.
The operators' module scopes (``/layer1/layer1.0/conv1/Conv``) make nested blocks, and
identical blocks uses of one definition, unless asked for a flat graph.
Before anything is written, the imported network is run against the original
in onnxruntime, so a project that imports is known to compute the same.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from engine.onnx_import.errors import OnnxImportError


@dataclass(frozen=True)
class ImportResult:
    """What an import wrote, for a terminal or a dialog."""

    project_path: Path
    weights_path: Path | None
    onnx_nodes: int
    layers: int  # inside blocks too, once per use
    parameters: int
    max_abs_difference: float | None  # imported network vs onnxruntime on the original
    seconds: float
    top_level: int = 0  # nodes of the network itself (Input and Output included)
    definitions: int = 0  # block definitions the module scopes became
    note: str | None = None  # why an import asked for blocks came in flat

    def summary_lines(self) -> list[str]:
        lines = [
            f"wrote {self.project_path}: {self.layers} layers from {self.onnx_nodes} ONNX operators, "
            f"{self.parameters:,} parameters"
        ]
        if self.definitions:
            lines.append(
                f"as blocks: {self.top_level} nodes at the top, {self.definitions} block "
                "definitions (--flat for one flat graph)"
            )
        if self.note:
            lines.append(self.note)
        if self.weights_path is not None:
            lines.append(f"weights: {self.weights_path}")
        if self.max_abs_difference is not None:
            lines.append(
                f"checked against onnxruntime: largest absolute difference {self.max_abs_difference:.3g}"
            )
        return lines


def import_onnx(
    model_path: str | Path,
    project_path: str | Path,
    name: str | None = None,
    flat: bool = False,
) -> ImportResult:
    """Turn `model_path` into a new project at `project_path` (never overwriting a file).

    The exporter's module scopes become nested blocks, identical ones uses of one definition
    (docs/blocks.md); `flat` keeps one flat graph, as files without scopes come in anyway."""
    from engine.onnx_import.build import build_project

    started = time.perf_counter()
    return build_project(Path(model_path), Path(project_path), name, started, flat)


__all__ = ["ImportResult", "OnnxImportError", "import_onnx"]
