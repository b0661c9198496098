"""How much memory a device has free now, and the warning when a run would not fit in it.

Asked on every edit (the Problems panel), so it stays cheap: the CPU's figure is
the kernel's MemAvailable (/proc/meminfo; sysconf elsewhere), a GPU's is
`torch.cuda.mem_get_info`, and answers are kept a few seconds. torch is imported
only when the device is a GPU, or `auto` on a machine with an NVIDIA driver, so
`netwright check` stays quick on a CPU-only machine.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.analysis import Diagnostic
from engine.costs import NetworkCost, network_cost, size_text
from engine.system_memory import available_bytes

if TYPE_CHECKING:
    from engine.analysis import Analysis
    from engine.graph import Graph
    from engine.project import Project

KEEP_SECONDS = 5.0
_cache: dict[str, tuple[float, DeviceMemory | None]] = {}


@dataclass(frozen=True)
class DeviceMemory:
    device: str  # "cpu", "cuda:0"
    free_bytes: int

    @property
    def label(self) -> str:
        return "this machine's memory" if self.device == "cpu" else f"GPU {self.device}"


def free_memory(device: str = "auto") -> DeviceMemory | None:
    """The memory free on `device` (auto, cpu, cuda, cuda:N; mps is not measured): None when
    it cannot be told."""
    now = time.monotonic()
    found = _cache.get(device)
    if found is not None and now - found[0] < KEEP_SECONDS:
        return found[1]
    answer = _measure(device)
    _cache[device] = (now, answer)
    return answer


def _measure(device: str) -> DeviceMemory | None:
    if device.startswith("cuda") or (device == "auto" and _may_have_cuda()):
        gpu = _cuda_free(device)
        if gpu is not None or device != "auto":
            return gpu
    if device in ("auto", "cpu"):
        free = available_bytes()
        return DeviceMemory("cpu", free) if free is not None else None
    return None


def _may_have_cuda() -> bool:
    return "torch" in sys.modules or os.path.exists("/proc/driver/nvidia/version")


def _cuda_free(device: str) -> DeviceMemory | None:
    try:
        import torch

        if not torch.cuda.is_available():
            return None
        index = int(device.split(":")[1]) if ":" in device else torch.cuda.current_device()
        if index >= torch.cuda.device_count():
            return None
        free, _total = torch.cuda.mem_get_info(index)
    except (ImportError, RuntimeError, ValueError):
        return None
    return DeviceMemory(f"cuda:{index}", int(free))


def fit_problem(cost: NetworkCost, memory: DeviceMemory | None) -> Diagnostic | None:
    """A warning when training at the cost's batch size needs more than the device has free,
    with the largest batch size that would fit."""
    if memory is None or cost.training_bytes <= memory.free_bytes:
        return None
    fixed = cost.training_bytes - cost.training_activation_bytes
    per_sample = cost.training_activation_bytes / cost.batch_size
    fits = int((memory.free_bytes - fixed) // per_sample) if per_sample else 0
    hint = (
        f"a batch size of {fits} would fit"
        if fits >= 1
        else "the weights alone do not fit: make the network smaller"
    )
    return Diagnostic(
        "warning",
        f"training with batch size {cost.batch_size} needs about {size_text(cost.training_bytes)} "
        f"(weights, gradients and optimizer state {size_text(fixed)}, activations "
        f"{size_text(cost.training_activation_bytes)}), more than the "
        f"{size_text(memory.free_bytes)} free in {memory.label}",
        None,
        "training.batch_size",
        hint,
        code="does-not-fit",
    )


def project_cost(
    project: Project,
    analysis: Analysis,
    batch_size: int | None = None,
    graph: Graph | None = None,
) -> NetworkCost:
    """The costs of `graph` (the project's main network by default) at `batch_size` (the
    project's by default), with the project's optimizer."""
    training = project.training if isinstance(project.training, dict) else {}
    if batch_size is None:
        given = training.get("batch_size", 64)
        batch_size = given if isinstance(given, int) and not isinstance(given, bool) else 64
    optimizer = training.get("optimizer")
    return network_cost(
        graph if graph is not None else project.graph,
        analysis,
        batch_size,
        optimizer if isinstance(optimizer, dict) else None,
    )


def cost_problems(
    project: Project,
    analysis: Analysis | None,
    cost: NetworkCost | None = None,
    device: str | None = None,
) -> list[Diagnostic]:
    """The warning that training would not fit the device (`device`, else the project's; none
    for a broken graph); `cost` is the network's at the project's batch size, when the caller
    has it already."""
    if analysis is None or not analysis.ok:
        return []
    training = project.training if isinstance(project.training, dict) else {}
    device = device or training.get("device", "auto")
    memory = free_memory(device if isinstance(device, str) else "auto")
    problem = fit_problem(cost or project_cost(project, analysis), memory)
    return [problem] if problem is not None else []
