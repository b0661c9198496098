"""Export settings the command line needs before torch is imported (keeps `--help` quick)."""

from __future__ import annotations

DEFAULT_OPSET = 17
MIN_OPSET = 9
MAX_OPSET = 20  # the newest opset both torch exporters write

EXPORTERS = ("torchscript", "dynamo")  # torch's two ONNX exporters, as `--exporter` names them
DEFAULT_EXPORTER = "torchscript"
DYNAMO_MIN_OPSET = 18  # the dynamo exporter writes nothing older


def default_opset(exporter: str) -> int:
    """The opset an export writes when none is asked for: 17, or 18 for dynamo."""
    return max(DEFAULT_OPSET, DYNAMO_MIN_OPSET) if exporter == "dynamo" else DEFAULT_OPSET


QUANTIZE_FORMS = ("int8",)  # `--quantize` choices
PRECISIONS = ("fp32", "fp16")  # `--precision` choices
