"""Validation and shape inference over the whole graph, in one pass.

`analyse` never raises for a user's mistake: every problem becomes a
`Diagnostic` pinned to the node (and parameter) it belongs to, so the editor
can paint it on that node and `netwright check` can print it. It allocates no
weights, so it is cheap enough to re-run on every keystroke.
"""

from __future__ import annotations

import os
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

from engine.blocks import (
    BLOCK,
    BLOCK_INPUT,
    BLOCK_OUTPUT,
    boundary_ids,
    declaration_problems,
    declared,
    instantiate,
    layer_for,
    references,
    use_values,
)
from engine.graph import Edge, Graph, Node, PortRef, id_problem
from engine.layers._shape import fmt
from engine.layers.base import LayerType, Port, Shape, ShapeError, numel

Severity = Literal["error", "warning"]
BYTES_PER_VALUE = 4  # float32


@dataclass(frozen=True)
class Diagnostic:
    """One problem, pinned to where it happens."""

    severity: Severity
    message: str
    node: str | None = None
    param: str | None = None
    hint: str | None = None
    code: str | None = None  # a stable tag for problems callers treat specially ("unknown-layer")
    network: str | None = None  # in a multi-network project (a GAN), which network
    # inside a block: the inner node ids from the block node (`node`) down to the layer the
    # problem belongs to, ("0", "conv2"); the message names the same way in
    path: tuple[str, ...] = ()

    def __str__(self) -> str:
        where = f"network '{self.network}', " if self.network else ""
        if self.node:
            where += (
                f"node '{self.node}'" + (f", parameter '{self.param}'" if self.param else "") + ": "
            )
        tail = f" ({self.hint})" if self.hint else ""
        return f"{self.severity}: {where}{self.message}{tail}"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "severity": self.severity,
            "node": self.node,
            "param": self.param,
            "message": self.message,
            "hint": self.hint,
            "network": self.network,
        }
        if self.path:
            data["path"] = list(self.path)
        return data


@dataclass
class NodeInfo:
    """What inference learned about one node: everything downstream reads it from here."""

    shape: Shape | None = None  # output shape per sample (the first output's); None when unknown
    shapes: dict[str, Shape] = field(default_factory=dict)  # by output port
    is_int: bool = False  # carries integer token ids rather than real numbers
    params: int = 0  # learned parameters (weights) it holds
    macs: int = 0
    resolved: dict[str, Any] = field(default_factory=dict)  # its parameters, defaults filled in
    sources: tuple[PortRef, ...] = ()  # the outputs feeding it, port by port, wires as drawn
    block: str | None = None  # a block node: the definition it uses
    inner: Analysis | None = None  # a block node: its definition analysed at this node's inputs

    @property
    def values(self) -> dict[str, Any]:
        """A block node's parameter values (its own, else the definition's defaults)."""
        if self.block is None:
            return {}
        return {k: v for k, v in self.resolved.items() if k != "block"}

    @property
    def activation_bytes(self) -> int:
        """Memory this node's outputs take per sample (float32)."""
        return sum(numel(shape) for shape in self.shapes.values()) * BYTES_PER_VALUE


@dataclass(frozen=True)
class Vocabulary:
    """The token ids a network can read: the smallest Embedding's size, and that Embedding."""

    size: int
    node: str


@dataclass
class Analysis:
    nodes: dict[str, NodeInfo] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    order: list[str] = field(default_factory=list)  # topological order of the acyclic part
    input_id: str | None = None  # the Input node (the first, when there are several)
    input_ids: tuple[str, ...] = ()  # every Input node, in the order the network reads them
    output_id: str | None = None  # the Output node
    used: frozenset[str] = frozenset()  # nodes whose result reaches the Output
    vocabulary: Vocabulary | None = None  # for token-id inputs
    block: str | None = None  # the analysis of a block definition: its name

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    def for_node(self, node_id: str) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.node == node_id]

    @property
    def total_params(self) -> int:
        return sum(i.params for i in self.nodes.values())

    @property
    def total_macs(self) -> int:
        return sum(i.macs for i in self.nodes.values())

    @property
    def input_shape(self) -> Shape | None:
        info = self.nodes.get(self.input_id or "")
        return info.shape if info is not None else None

    @property
    def output_shape(self) -> Shape | None:
        info = self.nodes.get(self.output_id or "")
        return info.shape if info is not None else None

    @property
    def reads_tokens(self) -> bool:
        """Whether the Input carries int64 token ids."""
        info = self.nodes.get(self.input_id or "")
        return info is not None and info.resolved.get("dtype") == "int64"

    @property
    def token_ids(self) -> int | None:
        """How many token ids the Input may carry (ids 0 to N-1): the smallest Embedding's
        vocabulary, 2 without one; None when the Input reads real numbers."""
        if not self.reads_tokens:
            return None
        return self.vocabulary.size if self.vocabulary is not None else 2

    def _nodes_json(self) -> list[dict[str, Any]]:
        """One entry per node; a block node's also names its block and lists the nodes inside."""
        entries = []
        for node_id in self.order:
            info = self.nodes[node_id]
            entry: dict[str, Any] = {
                "id": node_id,
                "shape": list(info.shape or []) if info.shape is not None else None,
                "parameters": info.params,
                "macs": info.macs,
                "flops": 2 * info.macs,
            }
            if info.block is not None:
                entry["block"] = info.block
                if info.values:
                    entry["values"] = info.values
                if info.inner is not None:
                    entry["nodes"] = info.inner._nodes_json()
            entries.append(entry)
        return entries

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "nodes": self._nodes_json(),
            "total_parameters": self.total_params,
            "total_macs": self.total_macs,
            "total_flops": 2 * self.total_macs,
            "problems": [d.to_json() for d in self.diagnostics],
        }


def analyse(graph: Graph, memory_limit: int | None = None) -> Analysis:
    """Check the graph and infer every node's output shape, parameters and MACs."""
    return _analyse(graph, memory_limit)


@dataclass(frozen=True)
class _Inside:
    """Analysing a block definition: its name, the blocks on the way in (to refuse loops),
    and what each BlockInput receives (shape, int-ness; None when analysed without a use)."""

    block: str
    trail: tuple[str, ...]
    given: dict[str, tuple[Shape, bool]] | None


def analyse_block(
    name: str, definition: Graph, inputs: dict[str, tuple[Shape, bool]] | None = None
) -> Analysis:
    """A block definition analysed on its own (`inputs`: shape and int-ness per BlockInput id;
    without them the shapes inside stay unknown, but structural problems are found); its
    parameter references take their defaults."""
    definition, _ = instantiate(definition, declared(definition))
    return _analyse(definition, None, _Inside(name, (name,), inputs))


def _analyse(graph: Graph, memory_limit: int | None, inside: _Inside | None = None) -> Analysis:
    result = Analysis(block=inside.block if inside else None)
    report = result.diagnostics.append
    types = _check_nodes(graph, report, inside is not None)
    edges = _usable_edges(graph, types, report)
    incoming = _incoming_by_port(graph, edges, types, report)
    result.order, cyclic = _topological_order(graph, edges)
    for node_id in sorted(cyclic):
        report(
            Diagnostic(
                "error",
                "is part of a loop; networks must flow one way",
                node_id,
                hint="remove one of the wires that leads back",
            )
        )
    if inside is None:
        result.input_ids, result.output_id = _check_endpoints(graph, report)
    else:
        result.input_ids, result.output_id = _check_block_endpoints(graph, report)
    result.input_id = result.input_ids[0] if result.input_ids else None
    for node_id in result.order:
        node = graph.nodes[node_id]
        if node.type == BLOCK_INPUT:
            result.nodes[node_id] = _given(node, inside)
        elif node.type == BLOCK and node_id in types:
            result.nodes[node_id] = _infer_use(
                graph, node, types[node_id], incoming, result, report, inside
            )
        else:
            result.nodes[node_id] = _infer_node(node, types.get(node_id), incoming, result, report)
    result.used = _check_reachability(graph, edges, result, report, inside is not None)
    result.vocabulary = _vocabulary(graph, result)
    if inside is None:
        budget = memory_limit if memory_limit is not None else _memory_budget()
        _check_memory(result, report, budget)
    return result


def _given(node: Node, inside: _Inside | None) -> NodeInfo:
    """A BlockInput: the shape of the wire into the use's matching port (unknown without)."""
    info = NodeInfo()
    found = inside.given.get(node.id) if inside is not None and inside.given else None
    if found is not None:
        info.shape, info.is_int = found
        info.shapes = {"out": found[0]}
    return info


def _infer_use(
    graph: Graph,
    node: Node,
    layer: LayerType,
    incoming: dict[str, dict[str, list[Edge]]],
    result: Analysis,
    report: Any,
    inside: _Inside | None,
) -> NodeInfo:
    """A block node: its definition analysed with the shapes wired into it; every problem
    inside is reported here, naming the way in."""
    info = NodeInfo()
    info.resolved = layer.resolved(node.params)
    info.sources = _sources(layer, incoming[node.id])
    name = info.block = str(info.resolved["block"])
    definition = graph.blocks[name]
    trail = (*inside.trail, name) if inside is not None else (name,)
    if name in trail[:-1]:
        loop = " > ".join(trail[trail.index(name) :])
        report(
            Diagnostic(
                "error",
                f"the blocks {loop} use each other in a loop; a block cannot contain itself",
                node.id,
                hint="replace this block node with the layers it stands for",
            )
        )
        return info
    resolved = _instantiated(graph.blocks[name], node, name, report)
    if resolved is None:
        return info
    definition = resolved
    given: dict[str, tuple[Shape, bool]] = {}
    for port, inner_id in zip(layer.inputs, boundary_ids(definition, BLOCK_INPUT)):
        wires = incoming[node.id].get(port.name, [])
        if not wires:
            report(_unconnected(node.id, port.name))
            return info
        upstream = result.nodes.get(wires[0].source.node)
        shape = upstream.shapes.get(wires[0].source.port) if upstream is not None else None
        if upstream is None or shape is None:
            return info  # the upstream node already carries the problem
        given[inner_id] = (shape, upstream.is_int)
    inner = _analyse(definition, None, _Inside(name, trail, given))
    linked = references(graph.blocks[name])
    refused = {p.name for p in layer.params if p.check(node.params.get(p.name, p.default))}
    by_param: dict[str, list[Diagnostic]] = {}
    for problem in inner.diagnostics:
        block_param = linked.get((problem.node or "", problem.param or ""))
        if block_param is None or problem.path:
            report(_from_inside(problem, name, node.id))
        elif block_param not in refused:  # else the use's own check said it
            by_param.setdefault(block_param, []).append(problem)
    for block_param, problems in by_param.items():
        value = use_values(node, graph.blocks[name]).get(block_param)
        report(_from_block_param(problems, name, node, block_param, value))
    info.inner = inner  # kept with its problems too: the designer shows them inside the block
    if not inner.ok:
        return info
    outputs = boundary_ids(definition, BLOCK_OUTPUT)
    shapes = [inner.nodes[o].shape for o in outputs]
    if any(shape is None for shape in shapes):
        return info
    info.shapes = {
        port.name: shape
        for port, shape in zip(layer.outputs_for(info.resolved), shapes)
        if shape is not None
    }
    info.shape = shapes[0]
    info.is_int = inner.nodes[outputs[0]].is_int
    info.params, info.macs = inner.total_params, inner.total_macs
    return info


def _instantiated(definition: Graph, node: Node, name: str, report: Any) -> Graph | None:
    """The definition with this use's parameter values in place of its references; None (and
    problems on the use) when it declares them wrongly or refers to one it does not declare."""
    problems = declaration_problems(definition)
    for problem in problems:
        report(Diagnostic("error", f"block '{name}': {problem}", node.id, code="block-params"))
    if problems:
        return None
    values = use_values(node, definition)
    resolved, missing = instantiate(definition, values)
    known = ", ".join(values) or "none"
    for ref in missing:
        report(
            Diagnostic(
                "error",
                f"block '{name}' > layer '{ref.node}', parameter '{ref.param}': refers to a block "
                f"parameter '{ref.name}' that block '{name}' does not declare",
                node.id,
                hint=f"block '{name}' declares: {known}",
                code="unknown-block-param",
                path=(ref.node,),
            )
        )
    return None if missing else resolved


def _where_to_set(node: Node, name: str, default: Any, block: str, accepted: str | None) -> str:
    """What to do about a block parameter's bad value at use `node`: where to change it."""
    wanted = ""
    if accepted:
        wanted = f" to {accepted}" if accepted.startswith("one of") else f" to a {accepted}"
    verb = "set" if accepted else "change"
    if name in node.params:
        return f"{verb} '{name}'{wanted} in the inspector of block node '{node.id}'"
    return (
        f"'{node.id}' uses the default ({default!r}): set its own '{name}'{wanted} in its "
        f"inspector, or change the default inside block '{block}'"
    )


def _from_block_param(
    problems: list[Diagnostic], block: str, node: Node, name: str, value: Any
) -> Diagnostic:
    """Problems inside a use with a layer parameter that a block parameter sets, as one
    problem of the use naming the block parameter and where to change it."""
    first = problems[0]
    where = ", ".join(f"'{p.node}'" for p in problems)
    message = (
        f"block '{block}', parameter '{name}' = {value!r}: {first.message} "
        f"(in layer{'s' if len(problems) > 1 else ''} {where}, whose '{first.param}' it sets)"
    )
    hint = _where_to_set(node, name, value, block, None)
    if first.hint:
        hint += f" ({first.hint})"
    path = (first.node,) if first.node is not None else ()
    return Diagnostic(first.severity, message, node.id, name, hint, "bad-block-param", None, path)


def _from_inside(problem: Diagnostic, block: str, use: str) -> Diagnostic:
    """A problem of a definition, as one of the block node `use`: ``block 'B' > layer 'conv2':``
    (a deeper one already names its own way in)."""
    if problem.path:
        message = f"block '{block}' > {problem.message}"
    elif problem.node is not None:
        param = f", parameter '{problem.param}'" if problem.param else ""
        message = f"block '{block}' > layer '{problem.node}'{param}: {problem.message}"
    else:
        message = f"block '{block}': {problem.message}"
    path = (problem.node, *problem.path) if problem.node is not None else ()
    return Diagnostic(problem.severity, message, use, None, problem.hint, problem.code, None, path)


def _check_nodes(graph: Graph, report: Any, in_block: bool = False) -> dict[str, LayerType]:
    types: dict[str, LayerType] = {}
    for node in graph:
        problem = id_problem(node.id)
        if problem:
            report(Diagnostic("error", problem, node.id, hint="rename the node"))
        layer = layer_for(node, graph.blocks)
        misplaced = _misplaced(node.type, in_block)
        if misplaced:
            report(Diagnostic("error", misplaced, node.id))
            continue
        if layer is None and node.type == BLOCK:
            name = node.params.get("block")
            report(
                Diagnostic(
                    "error",
                    f"uses a block '{name}' that this project does not define"
                    if isinstance(name, str)
                    else "a block node needs the name of its block ('block')",
                    node.id,
                    "block",
                    hint='the project\'s "blocks" lists the definitions',
                    code="unknown-block",
                )
            )
            continue
        if layer is None:
            report(
                Diagnostic(
                    "error",
                    f"unknown layer type '{node.type}'",
                    node.id,
                    hint="`netwright layers` lists the known types",
                    code="unknown-layer",
                )
            )
            continue
        types[node.id] = layer
        for name in node.params:
            if layer.param(name) is None:
                report(
                    Diagnostic(
                        "warning",
                        f"'{name}' is not a parameter of {layer.name}; it is ignored",
                        node.id,
                        name,
                    )
                )
        for param in layer.params:
            problem = param.check(node.params.get(name := param.name, param.default))
            if problem and node.type == BLOCK and name != "block":
                report(_bad_use_value(node, param, problem))
            elif problem:
                report(Diagnostic("error", problem, node.id, name, hint=param.describe()))
    return types


def _bad_use_value(node: Node, param: Any, problem: str) -> Diagnostic:
    """A block node's own value of a block parameter that its layers cannot take."""
    block = str(node.params.get("block"))
    hint = _where_to_set(node, param.name, param.default, block, param.describe())
    return Diagnostic(
        "error", f"block '{block}': {problem}", node.id, param.name, hint, "bad-block-param"
    )


def _usable_edges(graph: Graph, types: dict[str, LayerType], report: Any) -> list[Edge]:
    usable = []
    for edge in graph.edges:
        source, target = edge.source, edge.target
        where = (
            target.node if target.node in graph else (source.node if source.node in graph else None)
        )
        if source.node not in graph or target.node not in graph:
            missing = source.node if source.node not in graph else target.node
            report(
                Diagnostic(
                    "error",
                    f"a wire refers to a node '{missing}' that does not exist",
                    where,
                    hint="delete the wire",
                )
            )
            continue
        src_type, dst_type = types.get(source.node), types.get(target.node)
        src_ports = (
            src_type.outputs_for(src_type.resolved(graph.node(source.node).params))
            if src_type
            else ()
        )
        if src_type and source.port not in [p.name for p in src_ports]:
            report(
                Diagnostic(
                    "error",
                    f"a wire leaves from '{source.port}', which {src_type.name} does not have",
                    source.node,
                    hint="delete the wire",
                )
            )
            continue
        if dst_type and target.port not in [p.name for p in dst_type.inputs]:
            report(
                Diagnostic(
                    "error",
                    f"a wire arrives at '{target.port}', which {dst_type.name} does not have",
                    target.node,
                    hint="delete the wire",
                )
            )
            continue
        usable.append(edge)
    return usable


def _incoming_by_port(
    graph: Graph, edges: list[Edge], types: dict[str, LayerType], report: Any
) -> dict[str, dict[str, list[Edge]]]:
    incoming: dict[str, dict[str, list[Edge]]] = {n: {} for n in graph.nodes}
    for edge in edges:
        incoming[edge.target.node].setdefault(edge.target.port, []).append(edge)
    for node_id, ports in incoming.items():
        layer = types.get(node_id)
        if layer is None:
            continue
        for port in layer.inputs:
            wires = ports.get(port.name, [])
            if len(wires) > 1 and not port.multiple:
                sources = ", ".join(f"'{w.source.node}'" for w in wires)
                report(
                    Diagnostic(
                        "error",
                        f"input '{port.name}' takes one wire but has {len(wires)} ({sources})",
                        node_id,
                        hint="to combine branches, wire them into an Add or Concat first",
                    )
                )
    return incoming


def _topological_order(graph: Graph, edges: list[Edge]) -> tuple[list[str], set[str]]:
    """Kahn's algorithm in insertion order; what cannot be ordered lies on a loop."""
    indegree = dict.fromkeys(graph.nodes, 0)
    children: dict[str, list[str]] = {n: [] for n in graph.nodes}
    for edge in edges:
        indegree[edge.target.node] += 1
        children[edge.source.node].append(edge.target.node)
    ready = deque(n for n, d in indegree.items() if d == 0)
    order = []
    while ready:
        current = ready.popleft()
        order.append(current)
        for child in children[current]:
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    ordered = set(order)
    return order, {n for n in graph.nodes if n not in ordered}


def _misplaced(type_name: str, in_block: bool) -> str | None:
    """Input and Output belong to a network, BlockInput and BlockOutput to a block."""
    if in_block and type_name in ("Input", "Output"):
        boundary = BLOCK_INPUT if type_name == "Input" else BLOCK_OUTPUT
        return f"a block cannot hold an {type_name}; data crosses a block's edge at a {boundary}"
    if not in_block and type_name in (BLOCK_INPUT, BLOCK_OUTPUT):
        return f"a {type_name} belongs inside a block definition, not in a network"
    return None


def _check_block_endpoints(graph: Graph, report: Any) -> tuple[tuple[str, ...], str | None]:
    """A definition's BlockInputs (its use's input ports, in order) and first BlockOutput;
    it needs at least one of each."""
    inputs = boundary_ids(graph, BLOCK_INPUT)
    outputs = boundary_ids(graph, BLOCK_OUTPUT)
    if not inputs:
        report(Diagnostic("error", "the block has no BlockInput", hint="add one where data enters"))
    if not outputs:
        report(
            Diagnostic("error", "the block has no BlockOutput", hint="add one where data leaves")
        )
    return inputs, outputs[0] if outputs else None


def _check_endpoints(graph: Graph, report: Any) -> tuple[tuple[str, ...], str | None]:
    """The Input nodes' ids (a network may read several, in graph order) and the Output's;
    a missing Input or Output, or a second Output, is a problem."""
    inputs = tuple(n.id for n in graph if n.type == "Input")
    outputs = [n.id for n in graph if n.type == "Output"]
    if not inputs:
        report(
            Diagnostic(
                "error", "the network has no Input node", hint="add an Input node where data enters"
            )
        )
    if not outputs:
        report(
            Diagnostic(
                "error",
                "the network has no Output node",
                hint="add an Output node where predictions leave",
            )
        )
    for extra in outputs[1:]:
        report(
            Diagnostic(
                "error",
                f"the network has more than one Output node ('{outputs[0]}' and '{extra}')",
                extra,
                hint="keep a single Output",
            )
        )
    return inputs, outputs[0] if outputs else None


def _infer_node(
    node: Node,
    layer: LayerType | None,
    incoming: dict[str, dict[str, list[Edge]]],
    result: Analysis,
    report: Any,
) -> NodeInfo:
    info = NodeInfo()
    if layer is None:
        return info
    info.resolved = layer.resolved(node.params)
    info.sources = _sources(layer, incoming[node.id])
    in_shapes: list[Shape] = []
    in_ints: list[tuple[Port, bool]] = []
    for port in layer.inputs:
        wires = incoming[node.id].get(port.name, [])
        if not wires and port.optional:
            continue
        if not wires:
            report(_unconnected(node.id, port.name))
            return info
        for wire in wires if port.multiple else wires[:1]:
            upstream = result.nodes.get(wire.source.node)
            shape = upstream.shapes.get(wire.source.port) if upstream is not None else None
            if upstream is None or shape is None:
                return info  # the upstream node already carries the problem
            in_shapes.append(shape)
            in_ints.append((port, upstream.is_int))
    if _wrong_number_kind(node, layer, in_ints, report):
        return info
    params = info.resolved
    if any(param.check(params[param.name]) for param in layer.params):
        return info  # already reported by _check_nodes
    try:
        shapes = [tuple(int(s) for s in one) for one in layer.output_shapes(params, in_shapes)]
        info.params = int(layer.count_params(params, in_shapes))
        info.macs = int(layer.macs(params, in_shapes, shapes[0]))
    except ShapeError as problem:
        report(Diagnostic("error", problem.message, node.id, problem.param, problem.hint))
        return info
    empty = next((shape for shape in shapes if any(s < 1 for s in shape)), None)
    if empty is not None:
        report(Diagnostic("error", f"would produce an empty output ({fmt(empty)})", node.id))
        return info
    info.shapes = {port.name: shape for port, shape in zip(layer.outputs_for(params), shapes)}
    info.shape = shapes[0]
    info.is_int = (layer.name == "Input" and params.get("dtype") == "int64") or (
        layer.input_kind == "any" and any(is_int for port, is_int in in_ints if port.kind is None)
    )
    if not layer.exports_onnx:
        report(
            Diagnostic(
                "warning",
                f"{layer.name} cannot be exported to ONNX. {layer.onnx_note}".strip(),
                node.id,
            )
        )
    return info


def _sources(layer: LayerType, ports: dict[str, list[Edge]]) -> tuple[PortRef, ...]:
    """The outputs feeding a layer in call order: port by port, a port's wires as drawn."""
    found: list[PortRef] = []
    for port in layer.inputs:
        wires = ports.get(port.name, [])
        found += [w.source for w in (wires if port.multiple else wires[:1])]
    return tuple(found)


def _wrong_number_kind(
    node: Node, layer: LayerType, in_ints: list[tuple[Port, bool]], report: Any
) -> bool:
    """Token ids where real numbers are needed, or the other way round, port by port."""
    for port, is_int in in_ints:
        kind = port.kind or layer.input_kind
        into = f"{layer.name}'s '{port.name}' input" if port.kind else layer.name
        if kind == "float" and is_int:
            report(
                Diagnostic(
                    "error",
                    f"{into} needs real numbers but receives token ids",
                    node.id,
                    hint="send token ids through an Embedding first",
                )
            )
            return True
        if kind == "int" and not is_int:
            report(
                Diagnostic(
                    "error",
                    f"{into} needs token ids but receives real numbers",
                    node.id,
                    hint="feed it from an Input whose dtype is int64",
                )
            )
            return True
    return False


def _check_reachability(
    graph: Graph, edges: list[Edge], result: Analysis, report: Any, in_block: bool = False
) -> frozenset[str]:
    """The nodes whose result reaches the Output; a warning for each other layer (wasted work),
    and an error when the Output reads no Input at all (it would give the same for any data).
    Inside a block, the BlockOutputs take the Output's place."""
    outputs = [n.id for n in graph if n.type == (BLOCK_OUTPUT if in_block else "Output")]
    if not outputs:
        return frozenset()
    parents: dict[str, list[str]] = {n: [] for n in graph.nodes}
    for edge in edges:
        parents[edge.target.node].append(edge.source.node)
    reached, stack = set(), list(outputs)
    while stack:
        current = stack.pop()
        if current not in reached:
            reached.add(current)
            stack.extend(parents[current])
    several = len(result.input_ids) > 1
    for node in graph:
        if node.id in reached or result.for_node(node.id):
            continue
        if node.type not in ("Input", BLOCK_INPUT):
            hint = "wire its output onward, or delete it"
        elif several:
            hint = "the network still reads it (inputs are read in order): wire it in, or delete it"
        else:
            continue
        report(
            Diagnostic(
                "warning",
                f"does not lead to {'a BlockOutput' if in_block else 'the Output'}, so it has no "
                "effect",
                node.id,
                hint=hint,
            )
        )
    if (
        not in_block
        and result.input_ids
        and not reached & set(result.input_ids)
        and not result.for_node(outputs[0])
    ):
        report(
            Diagnostic(
                "error",
                "the Output does not depend on any Input, so it would give the same for any data",
                outputs[0],
                hint="wire the Input through the layers to the Output",
            )
        )
    return frozenset(reached)


def _vocabulary(graph: Graph, result: Analysis) -> Vocabulary | None:
    """The smallest Embedding's vocabulary: token ids must stay below it."""
    sizes = []
    for node in graph:
        info = result.nodes.get(node.id)
        size = info.resolved.get("num_embeddings") if info is not None else None
        if node.type == "Embedding" and isinstance(size, int):
            sizes.append((size, node.id))
        if info is not None and info.inner is not None and info.inner.vocabulary is not None:
            sizes.append((info.inner.vocabulary.size, node.id))  # an Embedding inside a block
    return Vocabulary(*min(sizes)) if sizes else None


def _memory_budget() -> int:
    """Half the machine's memory: more than that for weights is refused before allocating."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):
        return 8 * 2**30


def _check_memory(result: Analysis, report: Any, budget: int) -> None:
    weights = (
        result.total_params * BYTES_PER_VALUE * 4
    )  # weights, gradients and two optimizer moments
    activations = sum(i.activation_bytes for i in result.nodes.values())
    if weights + activations <= budget or not result.nodes:
        return
    biggest = max(
        result.nodes,
        key=lambda n: result.nodes[n].params * BYTES_PER_VALUE + result.nodes[n].activation_bytes,
    )
    report(
        Diagnostic(
            "error",
            f"training this network would need about {_gib(weights + activations)} "
            f"(weights {_gib(weights)}, activations per sample {_gib(activations)}), "
            f"more than the {_gib(budget)} this machine can spare",
            biggest,
            hint="make this layer smaller",
        )
    )


def _gib(size: int) -> str:
    return f"{size / 2**30:.1f} GiB"


def _unconnected(node_id: str, port: str) -> Diagnostic:
    return Diagnostic(
        "error",
        f"input '{port}' is not connected",
        node_id,
        hint="drag a wire into it from an earlier layer",
    )
