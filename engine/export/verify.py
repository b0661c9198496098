"""Proof that an exported ONNX file computes what the torch model computes.

onnx's checker catches a malformed file; onnxruntime then runs it on random
batches of two sizes (so a batch axis that was frozen by mistake shows up)
and the largest absolute difference from torch is reported. The tolerance
scales with the size of the outputs, as float32 rounding does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from engine.analysis import analyse
from engine.compiler import example_inputs
from engine.graph import Graph

CHECK_BATCHES = (1, 3)
RELATIVE_TOLERANCE = 1e-4


class VerificationError(ValueError):
    """The exported file is malformed or computes something else than torch."""


@dataclass(frozen=True)
class Verification:
    max_abs_difference: float
    tolerance: float


def check_structure(model: object) -> None:
    """onnx's checker with full type and shape checks; raises VerificationError."""
    import onnx

    try:
        onnx.checker.check_model(model, full_check=True)  # type: ignore[arg-type]
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise VerificationError(f"onnx's checker rejects the exported file: {first}") from None


def compare_with_onnxruntime(
    model_bytes: bytes, module: torch.nn.Module, graph: Graph, seed: int = 1
) -> Verification:
    """Run the ONNX model and the torch module on the same inputs; raise if they disagree."""
    session = _session(model_bytes)
    names = {entry.name for entry in session.get_inputs()}  # an unused input may be left out
    input_ids = analyse(graph).input_ids
    worst, scale = 0.0, 1.0
    for batch in CHECK_BATCHES:
        xs = example_inputs(graph, batch=batch, seed=seed + batch)
        with torch.no_grad():
            expected = module(*xs).detach().cpu().numpy()
        try:
            feed = {name: x.numpy() for name, x in zip(input_ids, xs) if name in names}
            (got, *_) = session.run(None, feed)
        except Exception as error:  # onnxruntime raises its own untyped errors
            raise VerificationError(
                f"onnxruntime could not run the exported file on a batch of {batch}: "
                f"{_first_line(error)}"
            ) from None
        if got.shape != expected.shape:
            raise VerificationError(
                f"onnxruntime returns shape {tuple(got.shape)} for a batch of {batch}, "
                f"torch {tuple(expected.shape)}"
            )
        if not np.all(np.isfinite(got) == np.isfinite(expected)):
            raise VerificationError("onnxruntime returns NaN or infinity where torch does not")
        finite = np.isfinite(expected)
        if finite.any():
            worst = max(worst, float(np.abs(got[finite] - expected[finite]).max()))
            scale = max(scale, float(np.abs(expected[finite]).max()))
    tolerance = RELATIVE_TOLERANCE * scale
    if worst > tolerance:
        raise VerificationError(
            f"the ONNX file computes different numbers than torch: largest absolute difference "
            f"{worst:.3g} exceeds the tolerance {tolerance:.3g}"
        )
    return Verification(worst, tolerance)


def _session(model_bytes: bytes) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, torch.get_num_threads())
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own untyped errors
        raise VerificationError(
            f"onnxruntime cannot load the exported file: {_first_line(error)}"
        ) from None


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else type(error).__name__
