"""`export_onnx`: the compiled network as one self-contained, verified ONNX file.

Exporter choice (`benchmarks/exporters.py --layers`, torch 2.13, a shared
2-core machine): both of torch's exporters export and verify all 12 examples
and all 56 layer cases, masked attention, RNNs and 3-D layers included, with
the same largest onnxruntime difference (6e-7). The TorchScript exporter
(`dynamo=False`) takes 0.03-1.7 s per example (median 0.05 s over all 68);
the torch.export-based dynamo exporter 2.8-15 s (median 2.6 s), and prints
progress and warnings. An export in the designer waits on it, so TorchScript
stays the default; dynamo (`external_data=False`, so there is no separate
``.onnx.data`` file) takes over by itself when the TorchScript exporter fails
or is gone from a future torch, and `exporter="dynamo"` uses it alone. The one
thing only dynamo does, keeping a sequence axis dynamic through attention, no
Netwright file needs: their sequence length is the Input's.

The file is written only after it passed the checks, and atomically: a
failed export leaves whatever was at the path before.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import onnx
import torch

from engine import __version__
from engine.analysis import Analysis
from engine.atomic import atomic_write_bytes
from engine.compiler import example_inputs
from engine.export.deploy_check import deploy_check, sample_feed
from engine.export.model import ExportError, ExportResult, ReadyModel, ready_model
from engine.export.onnx_forms import onnx_forms
from engine.export.options import (
    DEFAULT_EXPORTER,
    DEFAULT_OPSET,
    DYNAMO_MIN_OPSET,
    EXPORTERS,
    MAX_OPSET,
    MIN_OPSET,
    PRECISIONS,
    QUANTIZE_FORMS,
    default_opset,
)
from engine.export.quantize import (
    DEFAULT_CALIBRATION,
    Comparison,
    compare,
    dynamic_reason,
    half_precision,
    project_samples,
    quantize_int8,
)
from engine.export.standalone import (
    CLASS_LABELS_KEY,
    INPUT_KEY,
    InputScaling,
    ScaledNetwork,
    class_names,
    fitted_scaling,
    input_meaning,
    prepend_scaling,
)
from engine.export.verify import VerificationError, check_structure, compare_with_onnxruntime
from engine.project import Project
from engine.settings import TrainingSettings
from engine.training.checkpoints import SCALING_KEY, TOKENIZER_KEY

PROTOBUF_LIMIT = 2**31 - 1


def export_onnx(
    project: Project,
    out: str | Path,
    weights: str | Path | None = None,
    opset: int | None = None,
    verify: bool = True,
    exporter: str = DEFAULT_EXPORTER,
    *,
    quantize: str | None = None,
    precision: str = "fp32",
    calibration: int = DEFAULT_CALIBRATION,
    scaling: bool = True,
    check_deploy: bool = False,
) -> ExportResult:
    """Write `project`'s network to `out`; with `verify`, prove onnxruntime agrees with torch.

    `exporter` is torch's exporter to use: "torchscript" (falling back to dynamo when it
    fails) or "dynamo" alone; `opset` None is the exporter's default (17; dynamo 18).
    `quantize` "int8" or `precision` "fp16" write a smaller file and compare it with float32
    (engine.export.quantize); `calibration` is how many training samples calibrate int8.
    `scaling` puts the fitted input scaling in the graph (engine.export.standalone);
    `check_deploy` adds the opset, operators and runtimes report (engine.export.deploy_check)."""
    form = _form(quantize, precision, calibration)
    if exporter not in EXPORTERS:
        raise ExportError(f"unknown exporter '{exporter}'; choose {' or '.join(EXPORTERS)}", code=2)
    opset = default_opset(exporter) if opset is None else opset
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise ExportError(
            f"opset {opset} is not supported; choose one from {MIN_OPSET} to {MAX_OPSET} "
            f"(the default is {default_opset(exporter)})",
            code=2,
        )
    if exporter == "dynamo" and opset < DYNAMO_MIN_OPSET:
        raise ExportError(
            f"the dynamo exporter writes opset {DYNAMO_MIN_OPSET} and newer, not {opset}; "
            f"choose opset {DYNAMO_MIN_OPSET} or newer, or the torchscript exporter",
            code=2,
        )
    ready = ready_model(project, weights)
    graph, analysis = project.graph, ready.analysis
    input_ids, output_id = analysis.input_ids, str(analysis.output_id)
    example = example_inputs(graph, batch=2, seed=0, analysis=analysis)
    if exporter == "dynamo":
        model = _dynamo_only(ready.module, example, input_ids, output_id, opset)
    else:
        model, exporter = _export(ready.module, example, input_ids, output_id, opset)
    fitted, scaling_note = fitted_scaling(project, analysis, ready.metadata)
    in_graph = fitted is not None and scaling
    if in_graph:
        assert fitted is not None
        prepend_scaling(model, input_ids[0], fitted)
    elif fitted is not None:
        scaling_note = (
            "left out (--no-scaling): scale samples as training did, (x - offset) / scale, "
            "with the netwright.scaling metadata"
        )
    _add_metadata(model, project, analysis, ready.metadata, fitted, in_graph)
    data = model.SerializeToString()
    if len(data) > PROTOBUF_LIMIT:
        raise ExportError("the network's weights exceed the 2 GiB an ONNX file can hold")
    verification = None
    checked = (
        ScaledNetwork(ready.module, fitted) if in_graph and fitted is not None else ready.module
    )
    try:
        check_structure(model)
        if verify:
            verification = compare_with_onnxruntime(data, checked, graph)
    except VerificationError as error:
        raise ExportError(f"{error}; nothing was written to {out}", code=1) from None
    comparison = None
    if form != "float32":
        data, comparison = _smaller(
            data, form, project, ready, fitted if in_graph else None, calibration, out
        )
    deploy = deploy_check(data) if check_deploy else None
    out = Path(out)
    atomic_write_bytes(out, data)
    return ExportResult(
        path=out,
        size_bytes=out.stat().st_size,
        format="onnx",
        weights=ready.weights,
        opset=_written_opset(model, opset),
        exporter=exporter,
        max_abs_difference=None if verification is None else verification.max_abs_difference,
        tolerance=None if verification is None else verification.tolerance,
        form=form,
        scaling=scaling_note,
        comparison=comparison,
        deploy=deploy,
    )


def _form(quantize: str | None, precision: str, calibration: int) -> str:
    """ "float32", "int8" or "fp16", refusing options that contradict each other."""
    if quantize is not None and quantize not in QUANTIZE_FORMS:
        raise ExportError(
            f"unknown quantization '{quantize}'; choose {', '.join(QUANTIZE_FORMS)}", 2
        )
    if precision not in PRECISIONS:
        raise ExportError(f"unknown precision '{precision}'; choose {' or '.join(PRECISIONS)}", 2)
    if quantize is not None and precision != "fp32":
        raise ExportError(
            f"--quantize {quantize} and --precision {precision} are two different files; choose one",
            2,
        )
    if isinstance(calibration, bool) or not isinstance(calibration, int) or calibration < 1:
        raise ExportError(
            f"--calibration {calibration}: int8 calibration needs at least 1 training sample "
            f"(the default is {DEFAULT_CALIBRATION})",
            2,
        )
    return quantize or ("fp16" if precision == "fp16" else "float32")


def _smaller(
    data: bytes,
    form: str,
    project: Project,
    ready: ReadyModel,
    scaling: InputScaling | None,
    calibration: int,
    out: str | Path,
) -> tuple[bytes, Comparison]:
    """The int8 or fp16 file and its comparison with the float32 one."""
    from engine.data.dataset import DataError

    analysis = ready.analysis
    dynamic = dynamic_reason(project, analysis) if form == "int8" else None
    samples, note = None, ""
    try:
        samples = project_samples(project, analysis, ready.metadata, scaling, calibration)
    except DataError as error:
        if form == "int8" and dynamic is None:
            raise ExportError(
                f"static int8 quantization calibrates on the project's training data, but {error}",
                code=error.code,
            ) from None
        note = f"accuracy not measured: {error}"
    if form == "int8":
        smaller, method = quantize_int8(data, analysis.input_ids[0], samples, dynamic)
    else:
        smaller, method = half_precision(data)
    try:  # before onnxruntime opens it: a malformed file can crash it, not just fail
        check_structure(onnx.load_model_from_string(smaller))
    except VerificationError as error:
        raise ExportError(f"the {form} file: {error}; nothing was written to {out}") from None
    example = sample_feed(onnx.load_model_from_string(data), batch=ready_batch(project))
    comparison = compare(form, method, data, smaller, samples, example, ready_batch(project), note)
    return smaller, comparison


def ready_batch(project: Project) -> int:
    """The batch the latency is measured on: the project's training batch size."""
    size = project.training.get("batch_size", 64)
    return size if isinstance(size, int) and not isinstance(size, bool) and size > 0 else 64


Example = tuple[torch.Tensor, ...]  # one batch per Input, in the network's order


def _export(
    module: torch.nn.Module,
    example: Example,
    input_ids: tuple[str, ...],
    output_id: str,
    opset: int,
) -> tuple[Any, str]:
    """The ONNX model proto and the name of the exporter that made it."""
    import onnx

    batch_axes = {name: {0: "batch"} for name in (*input_ids, output_id)}
    try:
        buffer = io.BytesIO()
        with _quiet(), onnx_forms(module):
            torch.onnx.export(
                module,
                example,
                buffer,  # type: ignore[arg-type]
                dynamo=False,
                input_names=list(input_ids),
                output_names=[output_id],
                dynamic_axes=batch_axes,
                opset_version=opset,
                do_constant_folding=True,
            )
        return onnx.load_model_from_string(buffer.getvalue()), "torchscript"
    except Exception as first:  # the TorchScript exporter raises many kinds; try dynamo
        if opset < DYNAMO_MIN_OPSET:
            raise ExportError(
                f"torch could not export this network to ONNX opset {opset}: {_first_line(first)} "
                f"(a newer opset, such as {DEFAULT_OPSET}, may work)"
            ) from None
        try:
            return _export_dynamo(module, example, input_ids, output_id, opset), "dynamo"
        except Exception as second:
            raise ExportError(
                f"torch could not export this network to ONNX opset {opset}: "
                f"{_first_line(first)} (the dynamo exporter also failed: {_first_line(second)})"
            ) from None


def _dynamo_only(
    module: torch.nn.Module,
    example: Example,
    input_ids: tuple[str, ...],
    output_id: str,
    opset: int,
) -> Any:
    try:
        return _export_dynamo(module, example, input_ids, output_id, opset)
    except Exception as error:  # the dynamo exporter raises many kinds
        raise ExportError(
            f"torch's dynamo exporter could not export this network to ONNX opset {opset}: "
            f"{_first_line(error)} (the torchscript exporter may)"
        ) from None


def _export_dynamo(
    module: torch.nn.Module,
    example: Example,
    input_ids: tuple[str, ...],
    output_id: str,
    opset: int,
) -> Any:
    batch = torch.export.Dim("batch")
    with _quiet():
        program = torch.onnx.export(
            _Wrapped(module),
            example,
            None,
            dynamo=True,
            external_data=False,
            input_names=list(input_ids),
            output_names=[output_id],
            dynamic_shapes=(tuple({0: batch} for _ in input_ids),),
            opset_version=opset,
            verbose=False,
        )
    assert program is not None
    return _unwrapped_names(program.model_proto)


def _unwrapped_names(model: Any) -> Any:
    """Weights named by their node again (``conv1.weight``, not ``network.conv1.weight``)."""
    prefix = "network."
    renamed = {
        t.name: t.name[len(prefix) :] for t in model.graph.initializer if t.name.startswith(prefix)
    }
    taken = {n for node in model.graph.node for n in node.output} | {
        i.name for i in model.graph.input
    }
    renamed = {old: new for old, new in renamed.items() if new not in taken}
    for tensor in model.graph.initializer:
        tensor.name = renamed.get(tensor.name, tensor.name)
    for node in model.graph.node:
        for index, name in enumerate(node.input):
            if name in renamed:
                node.input[index] = renamed[name]
    for info in model.graph.value_info:
        info.name = renamed.get(info.name, info.name)
    return model


class _Wrapped(torch.nn.Module):
    """The network one level down: torch.export rebuilds it as a torch.fx GraphModule, whose
    own attributes (`code`, `graph`, `meta`...) a layer named so would collide with."""

    def __init__(self, network: torch.nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.network(*inputs)  # type: ignore[no-any-return]


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Exporters print progress, warnings and (from C++) graph dumps meant for torch
    developers, not our users: Python's streams and the process's own are silenced."""
    sink = io.StringIO()
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(sink),
            contextlib.redirect_stderr(sink),
            _silenced_descriptors(),
        ):
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(previous)


@contextlib.contextmanager
def _silenced_descriptors() -> Iterator[None]:
    try:
        saved = [os.dup(1), os.dup(2)]
    except OSError:  # no real descriptors (an embedding host): nothing to silence
        yield
        return
    with open(os.devnull, "wb") as null:
        try:
            os.dup2(null.fileno(), 1)
            os.dup2(null.fileno(), 2)
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


def _add_metadata(
    model: Any,
    project: Project,
    analysis: Analysis,
    weights: dict[str, str],
    scaling: InputScaling | None,
    in_graph: bool,
) -> None:
    """Producer, project name, input/output names, class labels (the project's, else its data
    set's), what the input is (``netwright.input``), the fitted scaling and the tokenizer the
    weights were trained with (JSON, as in the weights file), for whoever opens the file
    (several inputs are named in order, separated by commas)."""
    input_ids, output_id = analysis.input_ids, str(analysis.output_id)
    model.producer_name = "netwright"
    model.producer_version = __version__
    model.doc_string = f"Exported by Netwright {__version__} from project '{project.name}'."
    props = {
        "producer": f"netwright {__version__}",
        "project": project.name,
        "input_name": ",".join(input_ids),
        "output_name": output_id,
    }
    classes = (
        class_names(project) if analysis.output_shape and len(analysis.output_shape) == 1 else None
    )
    if classes and TrainingSettings.from_project(project).is_classification:
        props[CLASS_LABELS_KEY] = json.dumps(classes)
    props[INPUT_KEY] = json.dumps(input_meaning(project, analysis, scaling, in_graph))
    if scaling is not None:
        props[SCALING_KEY] = json.dumps(scaling.stats)
    if TOKENIZER_KEY in weights:
        props[TOKENIZER_KEY] = weights[TOKENIZER_KEY]
    del model.metadata_props[:]
    for key, value in props.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value


def _written_opset(model: Any, asked: int) -> int:
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), asked)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else type(error).__name__
