"""`netwright check PROJECT [--json]`: validate and print every node's shape and cost."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from engine.analysis import Analysis
from engine.blocks import BOUNDARY
from engine.graph import Graph
from engine.layers._shape import fmt
from engine.problems import project_problems
from engine.project import load_project


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("check", help="validate a project; print shapes, parameters and FLOPs")
    parser.add_argument("project", type=Path)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--find-blocks",
        action="store_true",
        help="also print the repeated runs of layers Find Repeated Blocks would fold (changes nothing)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    project = load_project(args.project)
    report = project_problems(project)
    problems, errors = report.problems, report.errors
    # An unknown layer type means the file could not be read as a network (contract: exit 2).
    failure = 2 if any(d.code in ("unknown-layer", "unknown-block") for d in errors) else 1
    if args.json:
        data = report.main.to_json()  # a single network's figures at the top level
        if project.is_multi_network:
            data["networks"] = {name: a.to_json() for name, a in report.analyses.items()}
        data["problems"] = [d.to_json() for d in problems]
        data["ok"] = not errors
        data["name"] = project.name
        print(json.dumps(data, indent=2))
        return failure if errors else 0
    for name, graph in project.named_graphs().items():
        heading = f"{project.name} / {name}" if project.is_multi_network else project.name
        _print_table(heading, graph, report.analyses[name])
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


Row = tuple[str, str, str, str, str, str]


def _rows(graph: Graph, analysis: Analysis, prefix: str = "") -> list[Row]:
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
        name = prefix + node_id
        rows.append((name, kind, shape, f"{params:,}", f"{macs:,}", f"{2 * macs:,}"))
        if info is not None and info.inner is not None and info.block in graph.blocks:
            rows += _rows(graph.blocks[info.block], info.inner, name + ".")
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


def _print_table(heading: str, graph: Graph, analysis: Analysis) -> None:
    rows: list[Row] = [("node", "type", "output", "parameters", "MACs", "FLOPs")]
    rows += _rows(graph, analysis)
    rows.append(
        (
            "total",
            "",
            "",
            f"{analysis.total_params:,}",
            f"{analysis.total_macs:,}",
            f"{2 * analysis.total_macs:,}",
        )
    )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    print(f"{heading}: {len(graph)} nodes, {len(graph.edges)} wires")
    for i, row in enumerate(rows):
        cells = [c.ljust(w) if j < 3 else c.rjust(w) for j, (c, w) in enumerate(zip(row, widths))]
        print("  " + "  ".join(cells))
        if i == 0 or i == len(rows) - 2:
            print("  " + "  ".join("-" * w for w in widths))
    for line in _block_totals(analysis):
        print(line)
