"""`netwright check PROJECT [--batch-size B] [--json]`: validate; print every node's shape and cost.

Cost is parameters, MACs and FLOPs per sample, and (engine.costs) the memory of the
layer's output and of what backward keeps, for the batch, and its arithmetic
intensity; below the table, the totals for inference and for training."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from engine.analysis import Analysis
from engine.blocks import BOUNDARY
from engine.costs import NetworkCost, size_text
from engine.device_memory import project_cost
from engine.graph import Graph
from engine.layers._shape import fmt
from engine.problems import project_problems
from engine.project import load_project


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("check", help="validate a project; print shapes, parameters and FLOPs")
    parser.add_argument("project", type=Path)
    parser.add_argument(
        "--batch-size",
        type=int,
        metavar="B",
        help="the batch the memory figures are for (default: the project's batch size)",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--find-blocks",
        action="store_true",
        help="also print the repeated runs of layers Find Repeated Blocks would fold (changes nothing)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from engine.cli import UserError

    if args.batch_size is not None and args.batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, not {args.batch_size}")
    project = load_project(args.project)
    report = project_problems(project)
    problems, errors = report.problems, report.errors
    # An unknown layer type means the file could not be read as a network (contract: exit 2).
    failure = 2 if any(d.code in ("unknown-layer", "unknown-block") for d in errors) else 1
    if args.json:
        graphs = project.named_graphs()
        costs = {
            name: project_cost(project, a, args.batch_size, graphs[name])
            for name, a in report.analyses.items()
        }
        main = next(iter(report.analyses))
        data = _with_costs(report.main.to_json(), costs[main])  # the main network at the top
        if project.is_multi_network:
            data["networks"] = {
                name: _with_costs(a.to_json(), costs[name]) for name, a in report.analyses.items()
            }
        data["problems"] = [d.to_json() for d in problems]
        data["ok"] = not errors
        data["name"] = project.name
        print(json.dumps(data, indent=2))
        return failure if errors else 0
    for name, graph in project.named_graphs().items():
        heading = f"{project.name} / {name}" if project.is_multi_network else project.name
        analysis = report.analyses[name]
        _print_table(
            heading, graph, analysis, project_cost(project, analysis, args.batch_size, graph)
        )
    for problem in problems:
        print(f"{args.project}: {problem}", file=sys.stderr)
    if errors:
        print(
            f"{args.project}: {len(errors)} error(s); the network cannot be trained until they are fixed",
            file=sys.stderr,
        )
        return failure
    print("no problems" if not problems else f"{len(problems)} warning(s), no errors")
    if getattr(args, "find_blocks", False):
        _print_repeats(project.named_graphs())
    return 0


def _with_costs(data: dict[str, Any], cost: NetworkCost) -> dict[str, Any]:
    """The analysis's JSON with each node's memory figures and the totals added beside."""
    _add_costs(data["nodes"], cost)
    data["memory"] = cost.to_json()
    return data


def _print_repeats(graphs: dict[str, Graph]) -> None:
    """What Find Repeated Blocks proposes for each network; nothing is changed."""
    from engine.repeats import find_repeats

    for name, graph in graphs.items():
        proposals = find_repeats(graph)
        where = f" in {name}" if len(graphs) > 1 else ""
        if not proposals:
            print(f"find blocks{where}: no repeated runs of layers")
        for proposal in proposals:
            print(f"find blocks{where}: {proposal.describe()}")


def _add_costs(nodes: list[dict[str, Any]], cost: NetworkCost | None) -> None:
    """Each node entry's memory figures; the nodes inside a block node's, from its own."""
    for node in nodes:
        layer = cost.layers.get(node["id"]) if cost is not None else None
        if layer is not None:
            node.update(layer.to_json())
        if "nodes" in node:
            _add_costs(node["nodes"], layer.inner if layer is not None else None)


Row = tuple[str, str, str, str, str, str, str, str, str]


def _rows(
    graph: Graph, analysis: Analysis, cost: NetworkCost | None, prefix: str = ""
) -> list[Row]:
    """One row per node; after a block node, the nodes inside it as ``block1.conv1`` (the
    names its weights have), its boundary left out: the block node's row is their total."""
    rows: list[Row] = []
    ordered = analysis.order + [n for n in graph.nodes if n not in analysis.nodes]
    for node_id in ordered:
        info = analysis.nodes.get(node_id)
        node = graph.nodes[node_id]
        if prefix and node.type in BOUNDARY:
            continue
        shape = fmt(info.shape) if info and info.shape is not None else "?"
        params, macs = (info.params, info.macs) if info else (0, 0)
        kind = f"{node.type} {info.block}" if info and info.block else node.type
        if info and info.values:
            kind += "(" + ", ".join(f"{k}={v}" for k, v in info.values.items()) + ")"
        name = prefix + node_id
        layer = cost.layers.get(node_id) if cost is not None else None
        memory = (
            (size_text(layer.output_batch_bytes), size_text(layer.saved_batch_bytes))
            if layer
            else ("?", "?")
        )
        intensity = f"{layer.intensity:.1f}" if layer and layer.intensity is not None else ""
        rows.append(
            (name, kind, shape, f"{params:,}", f"{macs:,}", f"{2 * macs:,}", *memory, intensity)
        )
        if info is not None and info.inner is not None and info.block in graph.blocks:
            inner = layer.inner if layer is not None else None
            rows += _rows(graph.blocks[info.block], info.inner, inner, name + ".")
    return rows


def _block_totals(analysis: Analysis) -> list[str]:
    """Per definition: its uses (nested ones as ``block1.inner``) and each use's totals."""
    uses: dict[str, list[tuple[str, int, int]]] = {}

    def collect(found: Analysis, prefix: str) -> None:
        for node_id in found.order:
            info = found.nodes[node_id]
            if info.block is not None and info.inner is not None:
                uses.setdefault(info.block, []).append((prefix + node_id, info.params, info.macs))
                collect(info.inner, f"{prefix}{node_id}.")

    collect(analysis, "")
    lines = []
    for name, found in uses.items():
        where = ", ".join(use for use, _, _ in found)
        figures = sorted({(params, macs) for _, params, macs in found})
        each = "; ".join(f"{p:,} parameters, {m:,} MACs" for p, m in figures)
        times = "once" if len(found) == 1 else f"{len(found)} times"
        per = " each" if len(found) > 1 and len(figures) == 1 else ""
        lines.append(f"  block {name}: used {times} ({where}); {each}{per}")
    return lines


def _print_table(heading: str, graph: Graph, analysis: Analysis, cost: NetworkCost) -> None:
    batch = cost.batch_size
    head = ("node", "type", "output", "parameters", "MACs", "FLOPs")
    rows: list[Row] = [(*head, f"out x{batch}", f"saved x{batch}", "FLOP/B")]
    rows += _rows(graph, analysis, cost)
    rows.append(
        (
            "total",
            "",
            "",
            f"{analysis.total_params:,}",
            f"{analysis.total_macs:,}",
            f"{2 * analysis.total_macs:,}",
            "",
            "",
            "",
        )
    )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    print(f"{heading}: {len(graph)} nodes, {len(graph.edges)} wires")
    for i, row in enumerate(rows):
        cells = [c.ljust(w) if j < 3 else c.rjust(w) for j, (c, w) in enumerate(zip(row, widths))]
        print(("  " + "  ".join(cells)).rstrip())
        if i == 0 or i == len(rows) - 2:
            print("  " + "  ".join("-" * w for w in widths))
    for line in _block_totals(analysis):
        print(line)
    for line in cost_lines(cost):
        print("  " + line)


def cost_lines(cost: NetworkCost) -> list[str]:
    """The totals under the table: what inference and training hold at the batch size."""
    states = cost.optimizer_copies
    return [
        f"memory at batch size {cost.batch_size}:",
        f"  inference  {size_text(cost.inference_bytes):>8}  (weights {size_text(cost.param_bytes)}, "
        f"activations {size_text(cost.inference_activation_bytes)})",
        f"  training   {size_text(cost.training_bytes):>8}  (weights {size_text(cost.param_bytes)}, "
        f"gradients {size_text(cost.gradient_bytes)}, optimizer state "
        f"{size_text(cost.optimizer_bytes)} ({states}x), activations "
        f"{size_text(cost.training_activation_bytes)} at the peak, "
        f"{size_text(cost.saved_bytes)} of them kept for backward)",
    ]
