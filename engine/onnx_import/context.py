"""The graph being built during an import: layers, their weights, and what could not map."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.graph import Graph, PortRef
from engine.layers import layer_type
from engine.layers.base import ShapeError
from engine.onnx_import.scopes import Scope, classes_of, scope_of
from engine.onnx_import.values import Tensor


class Unsupported(Exception):
    """This operator, in this form, has no catalogue layer; the message says why."""


@dataclass
class Importer:
    """Accumulates the new graph while ONNX nodes are converted in order."""

    opset: int
    graph: Graph = field(default_factory=Graph)
    weights: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    consumers: Counter[str] = field(default_factory=Counter)  # ONNX value -> readers
    producer_of: dict[str, str] = field(default_factory=dict)  # graph node -> ONNX value it wrote
    fixed_batch: int | None = None  # the batch size the file fixes, if any
    current: Any = None  # the ONNX node being converted
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)  # graph node -> output shape
    recognised: dict[str, Any] = field(default_factory=dict)  # subgraphs found, by output value
    scopes: dict[str, Scope] = field(default_factory=dict)  # graph node -> module scope
    scope_classes: dict[Scope, str] = field(default_factory=dict)  # scope -> module class

    def claim(self) -> None:
        """Give the nodes added since the last call the module scope of the ONNX node that
        made them (`current`; none before the first), for import as blocks."""
        node = self.current
        scope = scope_of(node) if node is not None else ()
        if node is not None:
            self.scope_classes.update(classes_of(node))
        for node_id in reversed(self.graph.nodes):
            if node_id in self.scopes:
                break
            self.scopes[node_id] = scope

    def add_layer(
        self,
        type_name: str,
        params: dict[str, Any],
        inputs: list[Tensor],
        weights: dict[str, np.ndarray | None] | None = None,
        integer: bool = False,
    ) -> Tensor:
        """Add one catalogue layer fed by `inputs`; its output shape comes from the catalogue."""
        return self.add_layer_outputs(type_name, params, inputs, weights, integer)[0]

    def add_layer_outputs(
        self,
        type_name: str,
        params: dict[str, Any],
        inputs: list[Tensor],
        weights: dict[str, np.ndarray | None] | None = None,
        integer: bool = False,
    ) -> list[Tensor]:
        """`add_layer` for a layer with several outputs (a Split): one Tensor per output port.

        The inputs go to the layer's ports in order (a Subtract's `a`, then `b`), or all to its
        one port that takes many."""
        layer = layer_type(type_name)
        assert layer is not None, type_name
        node_id = self.graph.unique_id(self._name_hint(type_name))
        resolved = layer.resolved(params)
        for param in layer.params:
            problem = param.check(resolved[param.name])
            if problem:
                raise Unsupported(f"maps to {type_name}, but {problem}")
        try:
            shapes = layer.output_shapes(resolved, [t.shape for t in inputs])
        except ShapeError as error:
            raise Unsupported(f"maps to {type_name}, but {error.message}") from None
        ports = [p.name for p in layer.inputs]
        one_port = len(ports) == 1
        sources = self._distinct_sources(inputs) if one_port else [t.ref for t in inputs]
        self.graph.add_node(type_name, node_id, params)
        for index, source in enumerate(sources):
            # one port takes every wire (a merge); several take one wire each, in order
            self.graph.connect(source, PortRef(node_id, ports[0] if one_port else ports[index]))
        if weights:
            self.weights[node_id] = {
                k: np.asarray(v, dtype=np.float32) for k, v in weights.items() if v is not None
            }
        outputs = layer.outputs_for(resolved)
        self.shapes[node_id] = tuple(int(s) for s in shapes[0])
        return [
            Tensor(node_id, tuple(int(s) for s in shape), integer, port.name)
            for port, shape in zip(outputs, shapes)
        ]

    def _distinct_sources(self, inputs: list[Tensor]) -> list[PortRef]:
        """Source ports per input; a repeated one goes through an Identity (one wire per pair)."""
        sources: list[PortRef] = []
        for tensor in inputs:
            source = tensor.ref
            if source in sources:
                again = self.graph.unique_id(f"{tensor.node}_again")
                self.graph.add_node("Identity", again)
                self.graph.connect(tensor.ref, PortRef(again, "in"))
                source = PortRef(again, "out")
            sources.append(source)
        return sources

    def _name_hint(self, type_name: str) -> str:
        """A readable node id from the ONNX node's name (``/layer1/layer1.0/conv1/Conv``)."""
        name = getattr(self.current, "name", "") or ""
        op = getattr(self.current, "op_type", "")
        parts = [p for p in name.strip("/").split("/") if p]
        if len(parts) > 1 and parts[-1].split("_")[0] == op:
            parts = parts[:-1]
        hint = "_".join(parts[-2:]) if parts else type_name
        if len(parts) >= 2 and parts[-1].startswith(parts[-2]):
            hint = parts[-1]
        hint = re.sub(r"[^A-Za-z0-9]+", "_", hint).strip("_").lower()
        return hint or type_name.lower()

    def sole_reader(self, tensor: Tensor, onnx_value: str) -> bool:
        """True when the ONNX value is read by exactly one node (safe to fold into its producer)."""
        return self.consumers[onnx_value] == 1 and not self.graph.edges_out_of(tensor.node)
