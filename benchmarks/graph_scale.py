"""Shape inference and compile time for 10 to 2,000-node graphs.

Side by side with the plain-PyTorch way of learning the same shapes: building
the modules by hand and running one sample through them (what a user does in a
notebook). Prints a table, then one JSON line of figures last.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from engine.analysis import analyse
from engine.compiler import compile_graph, example_input
from engine.graph import Graph, PortRef

SIZES = (10, 100, 500, 2000)
WIDTH = 32


def residual_mlp(nodes: int) -> Graph:
    """Input, then residual blocks (Linear, ReLU, Linear, Add) until `nodes` nodes, then Output."""
    graph = Graph()
    graph.add_node("Input", "input", {"shape": [WIDTH]})
    tip = "input"
    block = 0
    while len(graph) + 5 <= nodes:
        block += 1
        a = graph.add_node("Linear", f"fc{block}a", {"out_features": WIDTH}).id
        r = graph.add_node("ReLU", f"relu{block}").id
        b = graph.add_node("Linear", f"fc{block}b", {"out_features": WIDTH}).id
        add = graph.add_node("Add", f"add{block}").id
        for src, dst in ((tip, a), (a, r), (r, b), (b, add), (tip, add)):
            graph.connect(PortRef(src, "out"), PortRef(dst, "in"))
        tip = add
    while len(graph) < nodes - 1:
        node = graph.add_node("Identity").id
        graph.connect(PortRef(tip, "out"), PortRef(node, "in"))
        tip = node
    graph.add_node("Output", "output")
    graph.connect(PortRef(tip, "out"), PortRef("output", "in"))
    return graph


def median_ms(action, repeats: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def by_hand(blocks: int) -> torch.nn.Module:
    """The same network written directly in torch: what the compiler competes with."""

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.blocks = torch.nn.ModuleList(
                torch.nn.Sequential(
                    torch.nn.Linear(WIDTH, WIDTH), torch.nn.ReLU(), torch.nn.Linear(WIDTH, WIDTH)
                )
                for _ in range(blocks)
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            for block in self.blocks:
                x = x + block(x)
            return x

    return Net()


def main() -> None:
    torch.set_num_threads(1)
    figures = {}
    print(
        f"{'nodes':>6} {'infer ms':>9} {'compile ms':>11} {'torch build ms':>15} {'torch 1-sample ms':>18}"
    )
    for size in SIZES:
        graph = residual_mlp(size)
        repeats = 20 if size <= 500 else 5
        infer = median_ms(lambda g=graph: analyse(g), repeats)
        compile_ms = median_ms(lambda g=graph: compile_graph(g), max(3, repeats // 4))
        blocks = sum(1 for n in graph if n.type == "Add")
        build_ms = median_ms(lambda n=blocks: by_hand(n), max(3, repeats // 4))
        model = by_hand(blocks).eval()
        x = example_input(graph, batch=1)
        with torch.no_grad():
            forward_ms = median_ms(lambda m=model, x=x: m(x), repeats)
        print(f"{size:>6} {infer:>9.2f} {compile_ms:>11.2f} {build_ms:>15.2f} {forward_ms:>18.2f}")
        figures[str(size)] = {
            "infer_ms": round(infer, 3),
            "compile_ms": round(compile_ms, 3),
            "torch_build_ms": round(build_ms, 3),
            "torch_one_sample_ms": round(forward_ms, 3),
        }
    print(json.dumps({"benchmark": "graph_scale", "goal_infer_500_ms": 50, "sizes": figures}))


if __name__ == "__main__":
    main()
