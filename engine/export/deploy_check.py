"""Before shipping a file: its opset, the operators it uses and which runtimes read it.

Two independent runtimes are tried on one batch: onnxruntime on the CPU (what
most deployments use) and onnx's own reference evaluator (a plain-Python
implementation of the ONNX specification, written apart from onnxruntime),
which reads every standard operator but none of onnxruntime's own
(``com.microsoft``). Where both run the file, their largest difference is
given, so a runtime that reads a file but computes something else shows up.
Other runtimes (TensorRT, OpenVINO, Core ML, TFLite converters, onnxruntime
web and mobile) are not run here; the operator list and the opset are what
to compare with their support tables.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

STANDARD_DOMAINS = ("", "ai.onnx")
REFERENCE_OPSET = 19  # the opset a file is raised to when the evaluator lacks an older version


@dataclass(frozen=True)
class RuntimeCheck:
    runtime: str
    reads: bool
    detail: str  # what it said, or how far it agrees with onnxruntime


@dataclass(frozen=True)
class DeployCheck:
    opsets: dict[str, int]  # domain ("ai.onnx", "com.microsoft") -> version
    operators: dict[str, int]  # operator -> how many times, most used first
    runtimes: tuple[RuntimeCheck, ...]

    @property
    def nonstandard(self) -> list[str]:
        """Operators outside the ONNX standard: only onnxruntime reads them."""
        return [op for op in self.operators if "." in op]

    def lines(self) -> list[str]:
        opsets = ", ".join(f"{domain} {version}" for domain, version in self.opsets.items())
        ops = ", ".join(f"{op} x{count}" for op, count in self.operators.items())
        lines = [
            f"deployment check: opset {opsets}",
            f"operators ({sum(self.operators.values())} in {len(self.operators)} kinds): {ops}",
        ]
        if self.nonstandard:
            lines.append("onnxruntime-only operators: " + ", ".join(self.nonstandard))
        for check in self.runtimes:
            lines.append(
                f"{check.runtime}: {'reads it' if check.reads else 'cannot read it'}, {check.detail}"
            )
        return lines

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def deploy_check(model_bytes: bytes) -> DeployCheck:
    """Inspect the file and run one sample through each runtime."""
    import onnx

    model = onnx.load_model_from_string(model_bytes)
    opsets = {
        ("ai.onnx" if o.domain in STANDARD_DOMAINS else o.domain): int(o.version)
        for o in model.opset_import
    }
    counts = Counter(
        node.op_type if node.domain in STANDARD_DOMAINS else f"{node.domain}.{node.op_type}"
        for node in model.graph.node
    )
    operators = dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
    feed = sample_feed(model)
    runtimes: list[RuntimeCheck] = []
    reference_output = None
    try:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 3
        session = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
        ort_output = session.run(None, feed)[0]
        runtimes.append(
            RuntimeCheck(
                f"onnxruntime {ort.__version__} (CPU)",
                True,
                f"ran one sample, output {tuple(ort_output.shape)}",
            )
        )
    except Exception as error:  # onnxruntime raises its own untyped errors
        ort_output = None
        runtimes.append(RuntimeCheck("onnxruntime (CPU)", False, _first_line(error)))
    name = f"onnx {onnx.__version__} reference evaluator"
    if any("." in op for op in operators):
        runtimes.append(
            RuntimeCheck(
                name, False, "it implements standard ONNX operators only, not com.microsoft"
            )
        )
    else:
        try:
            reference_output, raised = _reference_run(model, feed)
            detail = f"ran one sample, output {tuple(np.shape(reference_output))}"
            if raised is not None:
                detail += f" (the file raised to opset {raised} first)"
            if ort_output is not None and np.shape(reference_output) == ort_output.shape:
                gap = float(np.max(np.abs(np.asarray(reference_output, np.float64) - ort_output)))
                detail += f", largest difference from onnxruntime {gap:.3g}"
            runtimes.append(RuntimeCheck(name, True, detail))
        except Exception as error:  # the evaluator raises many kinds for unsupported cases
            runtimes.append(RuntimeCheck(name, False, _first_line(error)))
    return DeployCheck(opsets, operators, tuple(runtimes))


def _reference_run(model: Any, feed: dict[str, np.ndarray]) -> tuple[Any, int | None]:
    """The reference evaluator's output, and the opset the file was raised to first, if it
    had to be (it implements QuantizeLinear and DequantizeLinear from opset 19 only)."""
    from onnx import version_converter
    from onnx.reference import ReferenceEvaluator

    try:
        return ReferenceEvaluator(model).run(None, feed)[0], None  # type: ignore[index]
    except Exception as error:  # the evaluator raises many kinds for unsupported cases
        current = next((o.version for o in model.opset_import if o.domain in STANDARD_DOMAINS), 0)
        if "No implementation" not in str(error) or current >= REFERENCE_OPSET:
            raise
        raised = version_converter.convert_version(model, REFERENCE_OPSET)
        return ReferenceEvaluator(raised).run(None, feed)[0], REFERENCE_OPSET  # type: ignore[index]


def sample_feed(model: Any, batch: int = 1, seed: int = 0) -> dict[str, np.ndarray]:
    """One batch for each graph input: standard normal floats, zeros for integer ids."""
    from onnx import helper

    rng = np.random.default_rng(seed)
    initialized = {t.name for t in model.graph.initializer}
    feed = {}
    for value in model.graph.input:
        if value.name in initialized:
            continue
        tensor = value.type.tensor_type
        shape = [d.dim_value if d.HasField("dim_value") else batch for d in tensor.shape.dim]
        dtype = helper.tensor_dtype_to_np_dtype(tensor.elem_type)
        if np.issubdtype(dtype, np.floating):
            feed[value.name] = rng.standard_normal(shape).astype(dtype)
        else:
            feed[value.name] = np.zeros(shape, dtype=dtype)
    return feed


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else type(error).__name__
