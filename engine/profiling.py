"""What each layer costs when it actually runs: its time per batch, forward and backward.

Forward: a pre-hook and a hook on each layer's module read the clock (after
`torch.cuda.synchronize` on a GPU) around its call. Backward: the hook on each
layer's module walks the autograd graph its call made (from its outputs back to
its inputs' nodes, its parameters' gradient accumulation included) and puts a
pre-hook and a hook on each of those backward nodes, so every backward operation
is timed on its own and belongs to exactly one layer, even where branches
interleave. Each figure is the median over `repeats` batches after `warmup` ones;
the training step's own time (the same network without hooks) is given beside
them, so the hooks' overhead is visible. The loss is a plain mean of the outputs:
the table is about layers, not the loss.

`profile_onnx` times the exported file in onnxruntime instead (forward only), from
its profiling trace; onnxruntime names each ONNX node by the module scope the
exporter ran in (``/conv1/Conv``), which is the layer's node id. The file is exported
without the data scaling in front (not a layer; the batch is already random). Basic graph
optimizations stay on, so a layer it folds into another (a BatchNorm into its
convolution) shows no time of its own, as when deployed.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from engine.analysis import Analysis, analyse
from engine.compiler import GraphModule, compile_graph, example_inputs
from engine.project import Project
from engine.training.devices import choose_threads, select_device

Progress = Callable[[int, int], None]  # batches done, batches in all


class ProfileError(ValueError):
    """The project cannot be profiled as asked; `code` is the exit code (1 or 2)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class LayerTime:
    """One layer's median time per batch, in milliseconds (`backward_ms` None when not run)."""

    node: str
    type: str
    forward_ms: float
    backward_ms: float | None
    share: float = 0.0  # of all the layers' time together, 0 to 1

    @property
    def total_ms(self) -> float:
        return self.forward_ms + (self.backward_ms or 0.0)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.node,
            "type": self.type,
            "forward_ms": round(self.forward_ms, 4),
            "backward_ms": None if self.backward_ms is None else round(self.backward_ms, 4),
            "share": round(100 * self.share, 2),
        }


@dataclass(frozen=True)
class Profile:
    """Every layer's measured time, the slowest first."""

    runtime: str  # "torch" or "onnxruntime"
    device: str
    batch_size: int
    repeats: int
    layers: list[LayerTime]
    step_ms: float  # median time of a whole batch (forward and backward for torch), no hooks
    notes: list[str] = field(default_factory=list)

    @property
    def forward_ms(self) -> float:
        return sum(layer.forward_ms for layer in self.layers)

    @property
    def backward_ms(self) -> float | None:
        if self.runtime != "torch":
            return None
        return sum(layer.backward_ms or 0.0 for layer in self.layers)

    @property
    def layers_ms(self) -> float:
        return sum(layer.total_ms for layer in self.layers)

    def by_node(self) -> dict[str, LayerTime]:
        return {layer.node: layer for layer in self.layers}

    def to_json(self) -> dict[str, Any]:
        backward = self.backward_ms
        return {
            "runtime": self.runtime,
            "device": self.device,
            "batch_size": self.batch_size,
            "repeats": self.repeats,
            "layers": [layer.to_json() for layer in self.layers],
            "forward_ms": round(self.forward_ms, 4),
            "backward_ms": None if backward is None else round(backward, 4),
            "layers_ms": round(self.layers_ms, 4),
            "step_ms": round(self.step_ms, 4),
            "notes": self.notes,
        }


def profile_torch(
    project: Project,
    device: str = "auto",
    batch_size: int | None = None,
    repeats: int = 10,
    warmup: int = 3,
    progress: Progress | None = None,
) -> Profile:
    """Run the project's network for training (forward and backward) on `device` and time
    every layer; `batch_size` None is the project's."""
    analysis, batch = _checked(project, batch_size, repeats)
    where = _device(device)
    module = compile_graph(project.graph, 0, analysis).to(where)
    module.train()
    inputs = tuple(x.to(where) for x in example_inputs(project.graph, batch, 0, analysis))
    types = {n: project.graph.nodes[n].type for n in analysis.order}
    total = warmup + repeats
    step: list[float] = []
    timer = _LayerTimer(module, where)
    with _threads(analysis.total_macs * batch, where), _memory_said(where, batch):
        for index in range(total):  # a plain batch, then one timed layer by layer: alike
            took = _plain_step(module, inputs, where)
            if index >= warmup:
                step.append(took)
            timer.recording = index >= warmup
            with timer.attached():
                _plain_step(module, inputs, where)
            timer.end_batch()
            if progress is not None:
                progress(index + 1, total)
    layers = [
        LayerTime(
            s.node,
            types[s.node],
            _median(timer.forward.get(s.node, [])),
            _median(timer.backward.get(s.node, [])),
        )
        for s in module.steps
    ]
    return Profile("torch", str(where), batch, repeats, _ranked(layers), _median(step))


def profile_onnx(
    project: Project,
    batch_size: int | None = None,
    repeats: int = 10,
    warmup: int = 3,
    weights: str | Path | None = None,
) -> Profile:
    """Export the network to ONNX and time each node of it in onnxruntime on the CPU."""
    import numpy as np
    import onnxruntime as ort

    from engine.export import ExportError, export_onnx

    analysis, batch = _checked(project, batch_size, repeats)
    inputs = example_inputs(project.graph, batch, 0, analysis)
    types = {n: project.graph.nodes[n].type for n in analysis.order}
    with tempfile.TemporaryDirectory(prefix="netwright-profile-") as folder:
        path = Path(folder) / "network.onnx"
        try:
            export_onnx(project, path, weights=weights, verify=False, scaling=False)
        except ExportError as error:
            raise ProfileError(
                f"the network does not export to ONNX: {error}", error.code
            ) from None
        options = ort.SessionOptions()
        options.enable_profiling = True
        options.profile_file_prefix = str(Path(folder) / "trace")
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.intra_op_num_threads = choose_threads(analysis.total_macs * batch)
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        feed = {i.name: np.asarray(x.numpy()) for i, x in zip(session.get_inputs(), inputs)}
        for _ in range(warmup + repeats):
            session.run(None, feed)
        trace = json.loads(Path(session.end_profiling()).read_text())
    runs, times = onnx_times(trace, set(types))
    runs = runs[warmup:]
    layers = [
        LayerTime(node, types[node], _median([run.get(node, 0.0) for run in times[warmup:]]), None)
        for node in types
        if any(node in run for run in times)
    ]
    notes = []
    folded = [
        n
        for n, t in types.items()
        if t not in ("Input", "Output")
        and n in module_layers(analysis)
        and not any(n in run for run in times)
    ]
    if folded:
        notes.append(
            f"no ONNX node of their own (folded into another or removed by onnxruntime): "
            f"{', '.join(folded)}"
        )
    other = _median([run.get("", 0.0) for run in times[warmup:]])
    if other > 0:
        notes.append(
            f"{other:.3f} ms in nodes no layer owns (added by onnxruntime or the exporter)"
        )
    return Profile("onnxruntime", "cpu", batch, repeats, _ranked(layers), _median(runs), notes)


def module_layers(analysis: Analysis) -> set[str]:
    """The layers that run a module (the Input and Output do not)."""
    return {n for n in analysis.used if analysis.nodes[n].shape is not None}


def onnx_times(
    trace: list[dict[str, Any]], nodes: set[str]
) -> tuple[list[float], list[dict[str, float]]]:
    """From onnxruntime's trace: each run's time, and each run's time per layer (ms); a node
    whose scope names no layer is counted under ""."""
    runs = sorted(
        (e for e in trace if e.get("cat") == "Session" and e.get("name") == "model_run"),
        key=lambda e: e["ts"],
    )
    per_run: list[dict[str, float]] = [{} for _ in runs]
    for event in trace:
        if event.get("cat") != "Node" or not str(event.get("name", "")).endswith("_kernel_time"):
            continue
        index = next(
            (i for i, run in enumerate(runs) if run["ts"] <= event["ts"] <= run["ts"] + run["dur"]),
            None,
        )
        if index is None:
            continue
        scopes = str(event["name"]).lstrip("/").split("/")[:2]  # "conv1" or "network/conv1"
        owner = next((scope for scope in scopes if scope in nodes), "")
        per_run[index][owner] = per_run[index].get(owner, 0.0) + event["dur"] / 1000.0
    return [run["dur"] / 1000.0 for run in runs], per_run


class _LayerTimer:
    """Hooks on every layer of a GraphModule that time its forward and backward calls."""

    def __init__(self, module: GraphModule, device: torch.device) -> None:
        self.module = module
        self.device = device
        self.recording = False
        self.forward: dict[str, list[float]] = {}
        self.backward: dict[str, list[float]] = {}
        self._started: dict[str, float] = {}
        self._stops: dict[str, set[Any]] = {}
        self._pass: dict[str, float] = {}  # this batch's backward time so far, by layer

    @contextmanager
    def attached(self) -> Iterator[None]:
        handles = []
        for step in self.module.steps:
            layer: nn.Module = getattr(self.module, step.node)
            handles.append(layer.register_forward_pre_hook(self._before(step.node)))
            handles.append(layer.register_forward_hook(self._after(step.node)))
        try:
            yield
        finally:
            for handle in handles:
                handle.remove()

    def _now(self) -> float:
        _synchronize(self.device)
        return time.perf_counter()

    def _before(self, node: str) -> Callable[..., None]:
        def hook(_layer: nn.Module, args: tuple[Any, ...]) -> None:
            self._stops[node] = {t.grad_fn for t in _tensors(args) if t.grad_fn is not None}
            self._started[node] = self._now()

        return hook

    def _after(self, node: str) -> Callable[..., None]:
        def hook(layer: nn.Module, _args: tuple[Any, ...], out: Any) -> None:
            took = (self._now() - self._started[node]) * 1000.0
            if self.recording:
                self.forward.setdefault(node, []).append(took)
            self._watch_backward(node, layer, out)

        return hook

    def _watch_backward(self, node: str, layer: nn.Module, out: Any) -> None:
        """Time every backward operation this call of the layer created."""
        stops = self._stops.pop(node, set())
        own = {id(p) for p in layer.parameters()}
        seen: set[Any] = set()
        todo: list[Any] = [t.grad_fn for t in _tensors(out) if t.grad_fn is not None]
        while todo:
            fn = todo.pop()
            if fn is None or fn in seen or fn in stops:
                continue
            seen.add(fn)
            variable = getattr(fn, "variable", None)
            if variable is not None and id(variable) not in own:
                continue  # another layer's weights (shared): theirs to count
            self._time_backward_node(node, fn)
            todo.extend(next_fn for next_fn, _ in fn.next_functions)
        if self.recording:
            self._pass[node] = 0.0

    def _time_backward_node(self, node: str, fn: Any) -> None:
        started: list[float] = []

        def before(*_grads: Any) -> None:
            started.append(self._now())

        def after(*_grads: Any) -> None:
            if started and self.recording:
                took = (self._now() - started.pop()) * 1000.0
                self._pass[node] = self._pass.get(node, 0.0) + took

        fn.register_prehook(before)
        fn.register_hook(after)

    def end_batch(self) -> None:
        """After a batch's backward pass: keep each layer's backward time of that batch."""
        for node, took in self._pass.items():
            self.backward.setdefault(node, []).append(took)
        self._pass = {}


def _plain_step(module: nn.Module, inputs: tuple[torch.Tensor, ...], device: torch.device) -> float:
    """One forward and backward pass, as training does it (gradients set to None first)."""
    module.zero_grad(set_to_none=True)
    _synchronize(device)
    start = time.perf_counter()
    out = module(*inputs)
    if out.requires_grad:
        out.float().mean().backward()
    _synchronize(device)
    return (time.perf_counter() - start) * 1000.0


def _synchronize(device: torch.device) -> None:
    """Wait for the device's queued work, so the clock reads when it is done (GPUs run
    asynchronously; the CPU needs nothing)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def _tensors(value: Any) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for item in value for t in _tensors(item)]
    return []


def _checked(project: Project, batch_size: int | None, repeats: int) -> tuple[Analysis, int]:
    analysis = analyse(project.graph)
    if not analysis.ok:
        first = analysis.errors[0]
        raise ProfileError(
            f"the network has {len(analysis.errors)} problem(s) and cannot run; first: {first}"
        )
    if repeats < 1:
        raise ProfileError(f"repeats must be at least 1, not {repeats}", code=2)
    if batch_size is None:
        given = project.training.get("batch_size", 64)
        batch_size = given if isinstance(given, int) and not isinstance(given, bool) else 64
    if batch_size < 1:
        raise ProfileError(f"the batch size must be at least 1, not {batch_size}", code=2)
    return analysis, batch_size


def _device(name: str) -> torch.device:
    from engine.training.devices import DeviceError

    try:
        return select_device(name)
    except DeviceError as error:
        raise ProfileError(str(error), code=2) from None


@contextmanager
def _threads(macs_per_batch: int, device: torch.device) -> Iterator[None]:
    """The CPU threads training would use for this network, put back afterwards."""
    before = torch.get_num_threads()
    if device.type == "cpu":
        torch.set_num_threads(choose_threads(macs_per_batch))
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextmanager
def _memory_said(device: torch.device, batch: int) -> Iterator[None]:
    """Running out of memory becomes a ProfileError naming the batch size to try."""
    from engine.training.memory import OutOfMemory, out_of_memory_guard

    try:
        with out_of_memory_guard(device, batch):
            yield
    except OutOfMemory as error:
        raise ProfileError(str(error).replace("training with", "profiling with")) from None


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def _ranked(layers: list[LayerTime]) -> list[LayerTime]:
    """The slowest first, each with its share of all the layers' time."""
    whole = sum(layer.total_ms for layer in layers) or 1.0
    shared = [
        LayerTime(one.node, one.type, one.forward_ms, one.backward_ms, one.total_ms / whole)
        for one in layers
    ]
    return sorted(shared, key=lambda one: -one.total_ms)
