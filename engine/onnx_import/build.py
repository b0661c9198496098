"""From converted graph to files: weights into the compiled module, layout, check, atomic writes."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.analysis import Analysis, analyse
from engine.compiler import GraphModule, compile_graph
from engine.graph import Graph
from engine.grouping import layers_of
from engine.layout import layered_positions
from engine.onnx_import import ImportResult
from engine.onnx_import.convert import convert
from engine.onnx_import.errors import OnnxImportError
from engine.onnx_import.nesting import nest
from engine.onnx_import.reader import read_model
from engine.onnx_import.upgrade import upgrade
from engine.project import Project, project_stem, save_project
from engine.weights import save_weights

CHECK_TOLERANCE = 1e-3  # relative to the outputs' size; a mapping bug is far larger
_NO_TRAINING_LIMIT = 2**62  # bytes: analyse's training-memory check, turned off for imports


def build_project(
    model_path: Path, project_path: Path, name: str | None, started: float, flat: bool = False
) -> ImportResult:
    project_path = _target(project_path)
    weights_path = project_path.with_name(project_stem(project_path) + ".safetensors")
    for existing in (project_path, weights_path):
        if existing.exists():
            raise OnnxImportError(
                f"{existing} already exists; choose another project name (nothing was changed)",
                code=2,
            )
    model = upgrade(read_model(model_path), model_path)
    importer = convert(model, model_path)
    note = None
    if not flat and any(importer.scopes.values()):
        try:
            nested = nest(importer.graph, importer.scopes, importer.scope_classes)
            weights = {nested.paths.get(k, k): v for k, v in importer.weights.items()}
            checked = (
                _checked(nested.graph, weights, model, model_path) if nested.graph.blocks else None
            )
        except (OnnxImportError, ValueError) as error:  # a fault of the folding: flat is sound
            note = f"imported flat: the blocks did not check ({error})"
        else:
            if checked is not None:
                return _write(
                    project_path, weights_path, name, model_path, model, *checked, started, note
                )
    graph, analysis, module, difference = _checked(
        importer.graph, importer.weights, model, model_path
    )
    return _write(
        project_path,
        weights_path,
        name,
        model_path,
        model,
        graph,
        analysis,
        module,
        difference,
        started,
        note,
    )


def _checked(
    graph: Graph, weights: dict[str, dict[str, np.ndarray]], model: Any, model_path: Path
) -> tuple[Graph, Analysis, GraphModule, float | None]:
    """Lay the graph out, analyse and compile it with the file's weights, and compare it
    with the original in onnxruntime; raises OnnxImportError when it is not the same."""
    for each in [graph, *graph.blocks.values()]:
        for node_id, position in layered_positions(each).items():
            each.nodes[node_id].position = position
    # whether the file fits in memory was judged when it was read; whether training it fits
    # this machine is for `check` and `train` to say, not a reason to refuse the import
    analysis = analyse(graph, memory_limit=_NO_TRAINING_LIMIT)
    if not analysis.ok:
        problems = "; ".join(str(d) for d in analysis.errors[:5])
        raise OnnxImportError(
            f"{model_path}: the imported network is not usable: {problems}", code=1
        )
    module = compile_graph(graph, 0, analysis)
    _fill_weights(module, weights, model_path)
    module.eval()
    return graph, analysis, module, _compare(model, module, graph, model_path)


def _write(
    project_path: Path,
    weights_path: Path,
    name: str | None,
    model_path: Path,
    model: Any,
    graph: Graph,
    analysis: Analysis,
    module: GraphModule,
    difference: float | None,
    started: float,
    note: str | None,
) -> ImportResult:
    project = Project(name=name or project_stem(project_path), graph=graph)
    project.extra["imported_from"] = model_path.name
    output_shape = analysis.output_shape or ()
    # a vector of scores is most often a classifier; anything else trains as regression
    project.training["loss"] = "cross_entropy" if len(output_shape) == 1 else "mse"
    has_weights = bool(module.state_dict())
    if has_weights:
        save_weights(module, weights_path, metadata={"source": model_path.name})
    try:
        save_project(project, project_path)
    except OSError:
        weights_path.unlink(missing_ok=True)
        raise
    return ImportResult(
        project_path=project_path,
        weights_path=weights_path if has_weights else None,
        onnx_nodes=len(model.graph.node),
        layers=_layer_count(graph),
        top_level=len(graph),
        definitions=len(graph.blocks),
        note=note,
        parameters=sum(p.numel() for p in module.parameters()),
        max_abs_difference=difference,
        seconds=time.perf_counter() - started,
    )


def _target(path: Path) -> Path:
    return path if path.name.endswith(".json") else path.with_name(path.name + ".netwright.json")


def _layer_count(graph: Graph) -> int:
    """Layers of the network, those inside block uses counted once per use."""
    return sum(node.type not in ("Input", "Output") for _, node in layers_of(graph))


def _fill_weights(
    module: GraphModule, weights: dict[str, dict[str, np.ndarray]], source: Path
) -> None:
    """Put the ONNX weights into the compiled module (keys are layer paths such as
    ``layer1.0.conv1``), refusing any that do not fit exactly."""
    state = module.state_dict()
    for node_id, tensors in weights.items():
        for key, array in tensors.items():
            full = f"{node_id}.{key}"
            if full not in state:
                continue
            target = state[full]
            if tuple(array.shape) != tuple(target.shape):
                if array.size != target.numel():
                    raise OnnxImportError(
                        f"{source}: the weights of '{node_id}' ({key}) have shape {tuple(array.shape)}, "
                        f"the layer needs {tuple(target.shape)}"
                    )
                array = array.reshape(tuple(target.shape))
            target.copy_(torch.from_numpy(np.array(array, copy=True)).to(target.dtype))
    missing = [
        f"{node_id}.{name}"
        for node_id in weights
        for name, _ in module.get_submodule(node_id).named_parameters()
        if name not in weights[node_id]
    ]
    if missing:
        raise OnnxImportError(f"{source}: no weights found for {', '.join(missing[:5])}")


def _compare(model: Any, module: GraphModule, graph: Any, source: Path) -> float | None:
    """Largest difference between onnxruntime on the original and the imported network."""
    import onnxruntime as ort

    from engine.compiler import example_inputs

    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, torch.get_num_threads())
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(
            model.SerializeToString(), options, providers=["CPUExecutionProvider"]
        )
    except Exception:  # the original does not run in onnxruntime: nothing to compare with
        return None
    batch = importer_batch(model) or 2
    xs = example_inputs(graph, batch=batch, seed=0)
    # files older than IR 4 list their weights among the inputs too: feed the real ones, which
    # are the network's Inputs in the same order
    weights = {t.name for t in model.graph.initializer}
    names = [i.name for i in model.graph.input if i.name not in weights]
    types = {i.name: i.type for i in session.get_inputs()}
    feed = {
        name: x.numpy().astype(np.int32) if "int32" in types.get(name, "") else x.numpy()
        for name, x in zip(names, xs)
        if name in types
    }
    try:
        (reference, *_) = session.run(None, feed)
    except Exception:
        return None
    with torch.no_grad():
        got = module(*xs).numpy()
    if got.shape != reference.shape:
        raise OnnxImportError(
            f"{source}: the imported network gives shape {got.shape}, the original {reference.shape}"
        )
    # random inputs can make NaN or infinity (a logarithm, a power of a negative number):
    # both must give it in the same places, and the numbers elsewhere must agree
    finite = np.isfinite(reference)
    same_places = bool(np.all(np.isfinite(got) == finite))
    difference = float(np.abs(got - reference)[finite].max()) if finite.any() else 0.0
    scale = max(1.0, float(np.abs(reference[finite]).max())) if finite.any() else 1.0
    if not same_places or not difference <= CHECK_TOLERANCE * scale:
        raise OnnxImportError(
            f"{source}: the imported network computes different numbers than the original "
            f"(largest difference {difference:.3g}); nothing was written"
        )
    return difference


def importer_batch(model: Any) -> int | None:
    weights = {t.name for t in model.graph.initializer}
    entry = next(i for i in model.graph.input if i.name not in weights)
    dim = entry.type.tensor_type.shape.dim[0]
    return int(dim.dim_value) if dim.HasField("dim_value") and dim.dim_value > 0 else None
