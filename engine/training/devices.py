"""Where training runs: the device (`auto` = CUDA, then MPS, then CPU) and the CPU thread count.

Threads, measured on the 2-core development machine (digits examples, batch
64, samples/s; README "Training"): idle, two threads gave the CNN 1.2x and
made the MLP slower; with one other busy process on the machine, two threads
made the MLP 3x and the CNN 8x slower than one thread, because torch's
threads spin waiting for a core the other process holds. Small networks
therefore train on one thread; only large per-batch work on a machine with
cores to spare gets more, and the GUI keeps one core for itself.
"""

from __future__ import annotations

import os

import torch

SMALL_WORK_MACS = 50_000_000  # per batch; below this, one thread is as fast and never thrashes


class DeviceError(ValueError):
    """A device that does not exist here; the message says which ones do."""


def available_devices() -> list[str]:
    found = ["cpu"]
    if torch.cuda.is_available():
        found += ["cuda"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if _mps_available():
        found.append("mps")
    return found


def select_device(name: str = "auto") -> torch.device:
    """The torch device for a settings value: auto, cpu, cuda, cuda:N or mps."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise DeviceError(
                f"device {name!r} asked for, but this machine has no usable CUDA GPU "
                f"(available: {', '.join(available_devices())}); use --device auto or cpu"
            )
        index = int(name.split(":")[1]) if ":" in name else 0
        if index >= torch.cuda.device_count():
            raise DeviceError(
                f"device {name!r} asked for, but there are {torch.cuda.device_count()} CUDA GPU(s)"
            )
        return torch.device(name)
    if name == "mps":
        if not _mps_available():
            raise DeviceError("device 'mps' asked for, but Apple's MPS is not available here")
        return torch.device("mps")
    raise DeviceError(f"unknown device {name!r}; use auto, cpu, cuda, cuda:N or mps")


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def choose_threads(macs_per_batch: int = 0, reserve_for_ui: bool = False) -> int:
    """How many CPU threads torch should use for a network doing `macs_per_batch` per step."""
    available = max(1, usable_cores() - (1 if reserve_for_ui else 0))
    if available <= 2 or macs_per_batch < SMALL_WORK_MACS:
        return 1
    if macs_per_batch < 20 * SMALL_WORK_MACS:
        return min(4, available)
    return available
