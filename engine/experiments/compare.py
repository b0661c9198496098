"""What differs between runs: the settings, and the architecture layer by layer.

Two runs are compared from what each recorded: its resolved training settings
and the copy of its project (every network's layers and wires). A layer is the
same layer when it keeps its id; it is *changed* when its type or any of its
parameters (defaults filled in, so ``{}`` and ``{"padding": 0}`` are the same)
differ, *added* or *removed* otherwise. The fingerprint names an architecture
in twelve characters, so runs of one network group together whatever their
settings.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.layers import layer_type

ADDED, REMOVED, CHANGED = "added", "removed", "changed"


@dataclass(frozen=True)
class SettingDifference:
    key: str  # "optimizer.lr"
    before: Any
    after: Any

    def describe(self) -> str:
        return f"{self.key} {show(self.before)} → {show(self.after)}"


@dataclass(frozen=True)
class LayerChange:
    network: str  # "network" for a project of one
    node: str
    change: str  # added | removed | changed
    type: str
    details: tuple[str, ...] = ()  # "out_channels 32 → 64"

    def describe(self) -> str:
        where = "" if self.network == "network" else f"{self.network}: "
        text = f"{where}{self.node} ({self.type}) {self.change}"
        return text + (": " + ", ".join(self.details) if self.details else "")


@dataclass
class Comparison:
    """Run `before` against run `after`."""

    settings: list[SettingDifference] = field(default_factory=list)
    layers: list[LayerChange] = field(default_factory=list)
    wires_added: list[str] = field(default_factory=list)  # "conv1 → bn1"
    wires_removed: list[str] = field(default_factory=list)
    data: list[SettingDifference] = field(default_factory=list)  # dataset keys

    @property
    def same(self) -> bool:
        return not (
            self.settings or self.layers or self.wires_added or self.wires_removed or self.data
        )

    def lines(self) -> list[str]:
        """Every difference in a line of words (the CLI, the panel's plain summary)."""
        out = [d.describe() for d in self.settings + self.data]
        out += [c.describe() for c in self.layers]
        out += [f"wire {w} added" for w in self.wires_added]
        out += [f"wire {w} removed" for w in self.wires_removed]
        return out


def compare(before: Mapping[str, Any], after: Mapping[str, Any]) -> Comparison:
    """`before` and `after` are runs' records (run.json contents)."""
    result = Comparison()
    a, b = flatten(before.get("settings") or {}), flatten(after.get("settings") or {})
    result.settings = _differences(a, b)
    pa, pb = before.get("project") or {}, after.get("project") or {}
    da = {k: v for k, v in (pa.get("dataset") or {}).items() if k != "scaling_statistics"}
    db = {k: v for k, v in (pb.get("dataset") or {}).items() if k != "scaling_statistics"}
    result.data = [
        SettingDifference(f"dataset.{d.key}", d.before, d.after)
        for d in _differences(flatten(da), flatten(db))
    ]
    ga, gb = graphs_of(pa), graphs_of(pb)
    for name in list(ga) + [n for n in gb if n not in ga]:
        _compare_graph(name, ga.get(name, {}), gb.get(name, {}), result)
    return result


def differing_keys(records: Iterable[Mapping[str, Any]]) -> list[str]:
    """The setting keys whose values are not the same in every one of `records`, in the
    settings' order: the columns worth showing beside a list of runs."""
    flats = [flatten(r.get("settings") or {}) for r in records]
    keys: list[str] = []
    for flat in flats:
        keys += [k for k in flat if k not in keys]
    return [k for k in keys if len({_key(f.get(k)) for f in flats}) > 1]


def fingerprint(project: Mapping[str, Any]) -> str:
    """Twelve hex characters naming the architecture: every network's layers (types and
    parameters, defaults filled in) and wires; positions and settings do not count."""
    canonical = {
        name: {
            "nodes": sorted(
                (n.get("id"), n.get("type"), _key(_resolved(n))) for n in graph.get("nodes", [])
            ),
            "edges": sorted(_wire(e) for e in graph.get("edges", [])),
        }
        for name, graph in graphs_of(project).items()
    }
    text = json.dumps(canonical, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def graphs_of(project: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every network's graph in a project's JSON, by name ("network" for a project of one)."""
    networks = project.get("networks")
    if isinstance(networks, dict) and networks:
        return {str(k): v for k, v in networks.items() if isinstance(v, dict)}
    graph = project.get("graph")
    return {"network": graph} if isinstance(graph, dict) else {}


def flatten(tree: Mapping[str, Any], start: str = "") -> dict[str, Any]:
    """``{"optimizer": {"lr": 0.1}}`` -> ``{"optimizer.lr": 0.1}``; a section switched off
    (``"early_stopping": null``) stays one key."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{start}{key}."))
        else:
            flat[f"{start}{key}"] = value
    return flat


def show(value: Any) -> str:
    if value is None:
        return "off"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _compare_graph(name: str, a: dict[str, Any], b: dict[str, Any], result: Comparison) -> None:
    nodes_a = {n.get("id"): n for n in a.get("nodes", []) if isinstance(n, dict)}
    nodes_b = {n.get("id"): n for n in b.get("nodes", []) if isinstance(n, dict)}
    for node_id, node in nodes_a.items():
        if node_id not in nodes_b:
            result.layers.append(LayerChange(name, str(node_id), REMOVED, str(node.get("type"))))
    for node_id, node in nodes_b.items():
        old = nodes_a.get(node_id)
        if old is None:
            result.layers.append(LayerChange(name, str(node_id), ADDED, str(node.get("type"))))
            continue
        details = []
        if old.get("type") != node.get("type"):
            details.append(f"type {old.get('type')} → {node.get('type')}")
        else:
            pa, pb = _resolved(old), _resolved(node)
            for param in list(pa) + [p for p in pb if p not in pa]:
                if _key(pa.get(param)) != _key(pb.get(param)):
                    details.append(f"{param} {show(pa.get(param))} → {show(pb.get(param))}")
        if details:
            result.layers.append(
                LayerChange(name, str(node_id), CHANGED, str(node.get("type")), tuple(details))
            )
    wires_a = {_wire(e) for e in a.get("edges", [])}
    wires_b = {_wire(e) for e in b.get("edges", [])}
    prefix = "" if name == "network" else f"{name}: "
    result.wires_added += [prefix + _wire_text(w) for w in sorted(wires_b - wires_a)]
    result.wires_removed += [prefix + _wire_text(w) for w in sorted(wires_a - wires_b)]


def _differences(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[SettingDifference]:
    keys = list(a) + [k for k in b if k not in a]
    return [
        SettingDifference(k, a.get(k), b.get(k)) for k in keys if _key(a.get(k)) != _key(b.get(k))
    ]


def _resolved(node: Mapping[str, Any]) -> dict[str, Any]:
    given = node.get("params")
    params: dict[str, Any] = given if isinstance(given, dict) else {}
    declared = layer_type(str(node.get("type")))
    return declared.resolved(params) if declared is not None else dict(params)


def _wire(edge: Any) -> tuple[str, str, str, str]:
    if not isinstance(edge, dict):
        return ("", "", "", "")
    source, target = edge.get("source") or {}, edge.get("target") or {}
    return (
        str(source.get("node")),
        str(source.get("port", "out")),
        str(target.get("node")),
        str(target.get("port", "in")),
    )


def _wire_text(wire: tuple[str, str, str, str]) -> str:
    return f"{wire[0]} → {wire[2]}"


def _key(value: Any) -> str:
    """A value compared by content (lists and tuples alike, 1 and 1.0 alike)."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return repr(float(value))
    return json.dumps(value, sort_keys=True, default=str)
