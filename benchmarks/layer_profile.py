"""Does `netwright profile` measure what the network really costs? Its per-layer total set
beside plain PyTorch timing of the same module.

For each example: the sum of the layers' median forward and backward times from
engine.profiling (hooks on every layer and every backward node) against
torch.utils.benchmark timing the same compiled module's forward and backward,
at the same batch size and thread count, no hooks. The ratio shows how much the
attribution adds or misses (the loss and autograd's own bookkeeping are in the
plain figure only). The machine is shared and noisy: medians, and ratios
rather than absolute times. Prints one JSON line last.

    .venv/bin/python benchmarks/layer_profile.py
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch
from torch.utils import benchmark

from engine.analysis import analyse
from engine.compiler import compile_graph, example_inputs
from engine.profiling import profile_torch
from engine.project import load_project
from engine.training.devices import choose_threads

EXAMPLES = ("digits-cnn", "digits-mlp")
BATCH = 64
REPEATS = 20
ROUNDS = 3  # each example profiled this many times; the median round is reported


def plain_ms(name: str) -> float:
    """Median ms of one forward and backward pass of the module, as torch alone runs it."""
    project = load_project(Path("resources/examples") / f"{name}.netwright.json")
    analysis = analyse(project.graph)
    module = compile_graph(project.graph, 0, analysis).train()
    inputs = example_inputs(project.graph, BATCH, 0, analysis)

    def step() -> None:
        module.zero_grad(set_to_none=True)
        module(*inputs).float().mean().backward()

    threads = choose_threads(analysis.total_macs * BATCH)
    timer = benchmark.Timer("step()", globals={"step": step}, num_threads=threads)
    return float(timer.blocked_autorange(min_run_time=1.0).median * 1000.0)


def main() -> None:
    figures: dict[str, dict[str, float]] = {}
    for name in EXAMPLES:
        project = load_project(Path("resources/examples") / f"{name}.netwright.json")
        layers, steps, walls, plains = [], [], [], []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            found = profile_torch(project, "cpu", BATCH, REPEATS)
            walls.append(time.perf_counter() - started)
            layers.append(found.layers_ms)
            steps.append(found.step_ms)
            plains.append(plain_ms(name))
        row = {
            "layers_ms": round(statistics.median(layers), 3),
            "profile_step_ms": round(statistics.median(steps), 3),
            "torch_ms": round(statistics.median(plains), 3),
            "profile_seconds": round(statistics.median(walls), 2),
        }
        row["layers_to_torch"] = round(row["layers_ms"] / row["torch_ms"], 3)
        figures[name] = row
        print(f"{name}: {row}", file=sys.stderr)
    print(
        json.dumps(
            {
                "benchmark": "profile",
                "batch_size": BATCH,
                "repeats": REPEATS,
                "threads": torch.get_num_threads(),
                "examples": figures,
            }
        )
    )


if __name__ == "__main__":
    main()
