"""`export_python`: the network as one readable PyTorch file that needs only torch.

The class lists its layers in `__init__` under the node ids, so its
`state_dict` keys are the compiled module's keys and a saved ``.safetensors``
file loads with `load_state_dict(safetensors.torch.load_file(...))`. The
forward pass keeps one running variable `x` along chains and names a value
after its node only where a branch must keep it alive, so it reads like code
written by hand. Custom layers are copied from `engine.modules` verbatim.
"""

from __future__ import annotations

import inspect
import keyword
import re
import textwrap
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine import __version__, modules
from engine.analysis import Analysis, analyse
from engine.atomic import atomic_write_text
from engine.blocks import (
    BLOCK,
    BLOCK_OUTPUT,
    boundary_ids,
    declared,
    layer_for,
    references,
    use_values,
)
from engine.compiler import GraphModule
from engine.export.model import ExportError, ExportResult, ready_model
from engine.export.python_params import name_differences, probe, skeleton, substitute, tied
from engine.export.standalone import InputScaling, class_names, fitted_scaling
from engine.graph import Graph
from engine.layers._shape import fmt
from engine.project import Project
from engine.settings import TrainingSettings

_TAKEN = {"x", "self", "torch", "nn", "math", "sys", "json"}


def export_python(
    project: Project, out: str | Path, weights: str | Path | None = None, scaling: bool = True
) -> ExportResult:
    """Write the project's network as a standalone module file (atomically). `scaling`: the
    fitted input scaling becomes `forward`'s first step, so the module reads raw samples."""
    ready = ready_model(project, weights)  # refuses invalid graphs and unfitting weights
    fitted, note = fitted_scaling(project, ready.analysis, ready.metadata)
    if fitted is not None and not scaling:
        note = "left out (--no-scaling): scale samples as training did, (x - offset) / scale"
    text = python_source(project, ready.module, fitted if scaling else None)
    out = Path(out)
    atomic_write_text(out, text)
    return ExportResult(
        path=out,
        size_bytes=out.stat().st_size,
        format="python",
        weights=ready.weights,
        scaling=note,
    )


def class_name(project_name: str) -> str:
    """``digits-cnn`` -> ``DigitsCnn``: a valid class name that no copied layer uses."""
    words = re.findall(r"[A-Za-z0-9]+", project_name)
    name = "".join(w[:1].upper() + w[1:] for w in words) or "Network"
    if name[0].isdigit():
        name = "Net" + name
    if hasattr(modules, name) or keyword.iskeyword(name) or name in ("Tensor", "Module"):
        name += "Net"
    return name


def python_source(
    project: Project, module: GraphModule, scaling: InputScaling | None = None
) -> str:
    """The whole file's text for `module`, compiled from `project`'s graph; with `scaling`,
    `forward` first scales its raw input as training did."""
    graph = project.graph
    analysis = analyse(graph)
    name = class_name(project.name)
    blocks = _Blocks(taken={name})
    blocks.prepare(graph, analysis, module)
    layers = blocks.layer_lines(graph, analysis, module)
    entries = _entries(analysis, module)
    output_shape = analysis.output_shape or ()
    sources = _custom_sources(blocks.custom)
    forward = _forward_lines(module, entries)
    if scaling is not None:
        offset, scale = _scaling_names(module)
        shape = tuple(scaling.offset.shape)
        layers += [
            f'        self.register_buffer("{offset}", torch.tensor(SCALING_OFFSET).reshape'
            f"({shape!r}), persistent=False)",
            f'        self.register_buffer("{scale}", torch.tensor(SCALING_SCALE).reshape'
            f"({shape!r}), persistent=False)",
        ]
        x = entries[0].variable
        forward = [f"{x} = ({x} - self.{offset}) / self.{scale}  # as training scaled", *forward]
    parts = [
        _header(project, name),
        "from __future__ import annotations\n",
        *(["import math"] if "math." in sources else []),
        "import json\nimport sys\n\nimport torch\nfrom torch import nn\n",
        sources,
        _constants(project, scaling),
        *blocks.classes,
        _class(name, layers, forward, entries, output_shape, scaling is not None),
        _LOADER,
        _main(name, entries, analysis.token_ids, next(iter(project.networks), None)),
    ]
    text = "\n".join(p for p in parts if p)
    return re.sub(r"\n{4,}", "\n\n\n", text).rstrip() + "\n"


@dataclass(frozen=True)
class _Use:
    """One use of a definition in the compiled module: its analysis, module and values."""

    block: str
    definition: Graph
    inner: Analysis
    module: GraphModule
    values: dict[str, Any]


class _Blocks:
    """Writes the layer lines of a module, and one class per block definition it uses (inner
    ones first, so each class is defined before it is instantiated). Uses whose layers differ
    only in numbers that the block's parameters (or its input channels) explain share one
    class whose `__init__` takes them (python_params.py); other uses get classes of their own
    (`BasicBlock2`)."""

    def __init__(self, taken: set[str]) -> None:
        self.classes: list[str] = []
        self.custom: set[str] = set()  # engine.modules classes the file must carry
        self._calls: dict[int, str] = {}  # id of a use's module -> ``BasicBlock(channels=128)``
        self._taken = set(taken)

    def prepare(self, graph: Graph, analysis: Analysis, module: GraphModule) -> None:
        """Write the classes of every definition `module` uses, at any depth."""
        uses: dict[str, list[_Use]] = {}
        self._collect(graph, analysis, module, uses)
        for block, found in uses.items():
            self._write(block, found)

    def _collect(
        self, graph: Graph, analysis: Analysis, module: GraphModule, uses: dict[str, list[_Use]]
    ) -> None:
        for step in module.steps:
            node, info = graph.nodes[step.node], analysis.nodes[step.node]
            if node.type == BLOCK and info.block is not None and info.inner is not None:
                definition = graph.blocks[info.block]
                inner = getattr(module, node.id)
                self._collect(definition, info.inner, inner, uses)  # inner definitions first
                values = use_values(node, definition)
                values.update({k: info.resolved[k] for k in values if k in info.resolved})
                uses.setdefault(info.block, []).append(
                    _Use(info.block, definition, info.inner, inner, values)
                )

    def layer_lines(
        self,
        graph: Graph,
        analysis: Analysis,
        module: GraphModule,
        refs: dict[tuple[str, str], str] | None = None,
        named: set[str] | None = None,
    ) -> list[str]:
        """``self.conv1 = nn.Conv2d(...)`` / ``self.block1 = BasicBlock()`` per step; inside a
        definition the numbers its references (`refs`) put there are named (into `named`)."""
        lines = []
        for step in module.steps:
            node = graph.nodes[step.node]
            info = analysis.nodes[node.id]
            if node.type == BLOCK and info.block is not None and info.inner is not None:
                lines.append(_assign(node.id, self._calls[id(getattr(module, node.id))]))
                continue
            layer = layer_for(node, graph.blocks)
            if layer is None or layer.module is None:
                raise ExportError(f"node '{node.id}' ({node.type}) has no Python code form")
            in_shapes = [analysis.nodes[s.node].shapes[s.port] for s in info.sources]
            constructor = layer.module(info.resolved, in_shapes)
            code = constructor.code()
            names: dict[int, str] = {}
            for (ref_node, key), name in (refs or {}).items():
                changed = probe(info.resolved.get(key)) if ref_node == node.id else None
                if changed is None:
                    continue
                try:
                    other = layer.module({**info.resolved, key: changed}, in_shapes).code()
                except Exception:  # a probe the layer refuses names nothing
                    continue
                names.update(dict.fromkeys(tied(code, other), name))
            if named is not None:
                named.update(names.values())
            lines.append(_assign(node.id, substitute(code, names)))
            if constructor.custom_module is not None:
                self.custom.add(constructor.custom_module)
        return lines

    def _source(self, use: _Use) -> tuple[str, set[str]]:
        """A use's class body with plain numbers, but for those its references name; and
        those names."""
        named: set[str] = set()
        refs = references(use.definition)
        layers = self.layer_lines(use.definition, use.inner, use.module, refs, named)
        entries = _entries(use.inner, use.module)
        forward = _forward_lines(use.module, entries)
        body = "\n".join(layers) if layers else "        pass"
        arguments = ", ".join(f"{e.variable}: torch.Tensor" for e in entries)
        several = len(boundary_ids(use.definition, BLOCK_OUTPUT)) > 1
        returns = "tuple[torch.Tensor, ...]" if several else "torch.Tensor"
        code = (
            f"    def __init__(self) -> None:\n        super().__init__()\n{body}\n\n"
            f"    def forward(self, {arguments}) -> {returns}:\n"
            + "\n".join(f"        {line}" for line in forward)
            + "\n"
        )
        return code, named

    def _write(self, block: str, uses: list[_Use]) -> None:
        """The classes for the uses of one definition: one per kind of use."""
        sources = [self._source(use) for use in uses]
        kinds: dict[Any, list[int]] = {}
        for index, (code, _) in enumerate(sources):
            kinds.setdefault(skeleton(code), []).append(index)
        for members in kinds.values():
            group = [uses[i] for i in members]
            candidates = _candidates(group)
            names = name_differences([sources[i][0] for i in members], candidates)
            if names is not None:
                self._emit(group, [sources[i] for i in members], names)
                continue
            exact: dict[str, list[int]] = {}  # some number has no name: one class per source
            for i in members:
                exact.setdefault(sources[i][0], []).append(i)
            for same in exact.values():
                self._emit([uses[i] for i in same], [sources[i] for i in same], {})

    def _emit(
        self, uses: list[_Use], sources: list[tuple[str, set[str]]], names: dict[int, str]
    ) -> None:
        """One class for `uses` (alike but for the numbers `names` names), and their calls."""
        first = uses[0]
        code = substitute(sources[0][0], names)
        used = set(names.values()).union(*(named for _, named in sources))
        candidates = dict(_candidates(uses))
        defaults = {**{n: vs[0] for n, vs in candidates.items()}, **declared(first.definition)}
        inputs = [n for n in candidates if n not in declared(first.definition)]
        order = [n for n in [*inputs, *declared(first.definition)] if n in used]
        if order:
            signature = ", ".join(
                f"{n}: {type(defaults[n]).__name__} = {defaults[n]!r}" for n in order
            )
            code = code.replace("(self) -> None:", f"(self, {signature}) -> None:", 1)
        stem = class_name(first.block)
        name, n = stem, 2
        while name in self._taken:
            name, n = f"{stem}{n}", n + 1
        self._taken.add(name)
        passed = [n for n in order if any(v != defaults[n] for v in candidates[n])]
        for index, use in enumerate(uses):
            arguments = ", ".join(f"{n}={candidates[n][index]!r}" for n in passed)
            self._calls[id(use.module)] = f"{name}({arguments})"
        entries = _entries(first.inner, first.module)
        shapes = [
            first.inner.nodes[o].shape or () for o in boundary_ids(first.definition, BLOCK_OUTPUT)
        ]
        outs = ", ".join(fmt(shape) for shape in shapes)
        ins = ", ".join(f"{e.variable} {fmt(e.shape)}" for e in entries)
        at = " at its first use" if order else ""
        doc = f'    """Block \'{first.block}\': {ins} -> {outs} per sample{at}."""\n'
        self.classes.append(f"\n\nclass {name}(nn.Module):\n{doc}\n{code}")


def _candidates(uses: list[_Use]) -> list[tuple[str, list[Any]]]:
    """What may name a number in a block class, with its value at each use: the declared
    parameters first, then the input channels (``in_channels``; ``x_channels``... with
    several inputs). A signature lists the input channels first, as hand-written code does."""
    declared_names = declared(uses[0].definition)
    found = [(name, [use.values.get(name) for use in uses]) for name in declared_names]
    entries = [_entries(use.inner, use.module) for use in uses]
    for position, entry in enumerate(entries[0]):
        name = "in_channels" if len(entries[0]) == 1 else f"{entry.variable}_channels"
        if name not in declared_names and entry.shape:
            found.append(
                (name, [e[position].shape[0] if e[position].shape else None for e in entries])
            )
    return found


def _assign(node_id: str, code: str) -> str:
    """``self.conv1 = ...``; a node named by a number (as nn.Sequential names its children)
    is added under that name, so the state_dict keys stay ``layer1.0.conv1.weight``."""
    if node_id.isidentifier():
        return f"        self.{node_id} = {code}"
    return f'        self.add_module("{node_id}", {code})'


def _attribute(node_id: str) -> str:
    return f"self.{node_id}" if node_id.isidentifier() else f'getattr(self, "{node_id}")'


def _variable(name: str) -> str:
    """A Python variable named after a node or value (``0`` -> ``x0``)."""
    name = name.replace(":", "_")
    return name if name.isidentifier() and not keyword.iskeyword(name) else f"x{name}"


def _header(project: Project, name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", project.name) or "weights"
    network = next(iter(project.networks), None)
    if network is None:
        loading = (
            f"    model = {name}()\n"
            f'    model.load_state_dict(safetensors.torch.load_file("{stem}.safetensors"))\n\n'
            "or, without the safetensors package, with `load_safetensors` below.\n"
        )
    else:  # the file holds every network of the project, each under its name
        loading = (
            f"    model = {name}()\n"
            f'    model.load_state_dict(load_safetensors("{stem}.safetensors", "{network}"))\n\n'
            f"(the file holds every network of the project; this is its {network}).\n"
        )
    return (
        f'"""{name}: the network of Netwright project \'{project.name}\'.\n\n'
        f"Written by Netwright {__version__}. Needs only PyTorch. Trained weights load with\n\n"
        f"{loading}"
        f"Run it to push a random batch through: python this_file.py [WEIGHTS.safetensors]\n"
        '"""\n'
    )


def _custom_sources(names: set[str]) -> str:
    """Source of each needed class of engine.modules, and of the classes of engine.modules
    they build on (the masks attention layers share), in the order that file defines them."""
    names = {
        base.__name__
        for name in names
        for base in inspect.getmro(getattr(modules, name))
        if base.__module__ == modules.__name__
    }
    ordered = [n for n, _ in inspect.getmembers(modules, inspect.isclass) if n in names]
    position = {n: inspect.getsourcelines(getattr(modules, n))[1] for n in ordered}
    chunks = [
        inspect.getsource(getattr(modules, n)) for n in sorted(ordered, key=lambda n: position[n])
    ]
    return "\n\n".join(chunks) + "\n\n" if chunks else ""


@dataclass(frozen=True)
class _Entry:
    """One input of the exported `forward`: the argument's name and what one sample is."""

    variable: str
    shape: tuple[int, ...]
    tokens: bool  # int64 token ids rather than float32 values

    def described(self) -> str:
        kind = "token ids (int64)" if self.tokens else "float32 values"
        return f"a batch of samples of {fmt(self.shape)} {kind}"


def _entries(analysis: Analysis, module: GraphModule) -> list[_Entry]:
    """`x` for a network of one input; several are named after their Input nodes."""
    entries = []
    for node_id in module.input_ids:
        info = analysis.nodes[node_id]
        if len(module.input_ids) == 1:
            variable = "x"
        else:
            variable = node_id if node_id not in _TAKEN - {"x"} else f"{node_id}_in"
        tokens = info.resolved.get("dtype") == "int64"
        entries.append(_Entry(variable, tuple(info.shape or ()), tokens))
    return entries


def _class(
    name: str,
    layers: list[str],
    forward: list[str],
    entries: list[_Entry],
    output_shape: tuple[int, ...],
    scaled: bool = False,
) -> str:
    if len(entries) == 1:
        reads = f"Input: {entries[0].described()}"
        reads += ", raw (forward scales them as training did)." if scaled else "."
    else:
        reads = "Inputs, in order: " + "; ".join(f"{e.variable}, {e.described()}" for e in entries)
        reads += "."
    doc = f'    """{reads} Output: {fmt(output_shape)} values per sample."""\n'
    body = "\n".join(layers) if layers else "        pass"
    arguments = ", ".join(f"{e.variable}: torch.Tensor" for e in entries)
    return (
        f"\n\nclass {name}(nn.Module):\n{doc}\n"
        f"    def __init__(self) -> None:\n        super().__init__()\n{body}\n\n"
        f"    def forward(self, {arguments}) -> torch.Tensor:\n"
        + "\n".join(f"        {line}" for line in forward)
        + "\n"
    )


def _scaling_names(module: GraphModule) -> tuple[str, str]:
    """Buffer names for the scaling that no layer of the module already uses."""
    taken = {step.node for step in module.steps}
    offset, scale = "scaling_offset", "scaling_scale"
    while offset in taken or scale in taken:
        offset, scale = offset + "_", scale + "_"
    return offset, scale


def _constants(project: Project, scaling: InputScaling | None) -> str:
    """CLASS_NAMES (when the classes have names) and the fitted scaling, at the top of the file."""
    lines = []
    names = class_names(project)
    if names and TrainingSettings.from_project(project).is_classification:
        lines.append(f"CLASS_NAMES = {tuple(names)!r}  # output i scores class CLASS_NAMES[i]")
    if scaling is not None:
        lines.append(f"# {scaling.describe()}, fitted on the training data: (x - offset) / scale")
        lines.append(f"SCALING_OFFSET = {_numbers(scaling.stats['offset'])}")
        lines.append(f"SCALING_SCALE = {_numbers(scaling.stats['scale'])}")
    return "\n".join(lines) + "\n" if lines else ""


def _numbers(values: list[float]) -> str:
    """A list literal wrapped at 99 columns."""
    text = "[" + ", ".join(repr(float(v)) for v in values) + "]"
    return textwrap.fill(text, 99, subsequent_indent="    ", break_on_hyphens=False)


def _forward_lines(module: GraphModule, entries: list[_Entry]) -> list[str]:
    """`x = self.conv1(x)` along chains; a named variable where a branch keeps a value alive;
    `split_out1, split_out2 = self.split(x)` for a layer with several outputs."""
    remaining = Counter(source for step in module.steps for source in step.inputs)
    for source in module.output_sources:
        remaining[source] += 1
    holder = {i: e.variable for i, e in zip(module.input_ids, entries)}  # value -> variable
    holds: dict[str, str | None] = {"x": None}  # variable -> value it holds; x runs along chains
    holds.update({e.variable: i for i, e in zip(module.input_ids, entries)})
    taken = set(_TAKEN) | {_variable(step.node) for step in module.steps} | set(holds)
    lines = []
    for step in module.steps:
        args = ", ".join(holder[s] for s in step.inputs)
        for source in step.inputs:
            remaining[source] -= 1
        free = {v for v, value in holds.items() if value is None or remaining[value] <= 0}
        if step.outputs:
            variables = [_fresh_variable(_variable(value), taken) for value in step.outputs]
            values = list(step.outputs)
        elif "x" in free:
            variables, values = ["x"], [step.node]
        elif len(step.inputs) == 1 and holder[step.inputs[0]] in free:
            variables, values = [holder[step.inputs[0]]], [step.node]
        else:
            variable = _variable(step.node)
            variables = [variable if variable not in _TAKEN else f"{variable}_out"]
            values = [step.node]
        lines.append(f"{', '.join(variables)} = {_attribute(step.node)}({args})")
        for variable, value in zip(variables, values):
            previous = holds.get(variable)
            if previous is not None:
                holder.pop(previous, None)
            holder[value] = variable
            holds[variable] = value
    lines.append(f"return {', '.join(holder[source] for source in module.output_sources)}")
    return lines


def _fresh_variable(base: str, taken: set[str]) -> str:
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


_LOADER = '''

def load_safetensors(path: str, network: str | None = None) -> dict[str, torch.Tensor]:
    """Read a .safetensors file with torch alone (the format is a JSON header and raw bytes).
    `network`: from a file holding several networks, the one saved under that name."""
    kinds = {
        "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
        "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
        "U8": torch.uint8, "BOOL": torch.bool,
    }
    with open(path, "rb") as file:
        data = file.read()
    size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + size])
    body = bytearray(data[8 + size :])
    tensors = {}
    for key, entry in header.items():
        if key == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        flat = torch.frombuffer(body[start:end], dtype=kinds[entry["dtype"]]) if end > start else (
            torch.empty(0, dtype=kinds[entry["dtype"]])
        )
        tensors[key] = flat.reshape(entry["shape"]).clone()
    prefix = f"{network}." if network else ""
    if prefix and any(key.startswith(prefix) for key in tensors):
        tensors = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
    return tensors
'''


def _main(name: str, entries: list[_Entry], vocabulary: int | None, network: str | None) -> str:
    makes = []
    for entry in entries:
        size = ", ".join(map(str, (2, *entry.shape)))
        if entry.tokens:
            makes.append(f"torch.randint(0, {vocabulary or 2}, ({size}))")
        else:
            makes.append(f"torch.randn({size})")
    return (
        '\n\nif __name__ == "__main__":\n'
        f"    model = {name}()\n"
        "    if len(sys.argv) > 1:\n"
        f"        model.load_state_dict(load_safetensors(sys.argv[1]{f', {network!r}' if network else ''}))\n"
        "    model.eval()\n"
        "    with torch.no_grad():\n"
        f"        output = model({', '.join(makes)})\n"
        '    print("output shape:", tuple(output.shape))\n'
        "    print(output)\n"
    )
