"""Data-parallel training under torchrun: one process per device, torch's DistributedDataParallel.

`torchrun --nproc-per-node N --no-python netwright train PROJECT` starts N copies
of the command and tells each who it is through the environment (RANK,
WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT). Each copy trains the same
network on its own share of the data (`engine.data.epoch_order` decides the
shares), DDP averages the gradients, and every figure the run reports or acts
on (losses, accuracy, the validation confusion matrix, a stop request, a loss
gone to NaN) is summed over all ranks first. So every rank takes the same
decision at the same step, no rank waits forever in a collective another has
left, and rank 0 alone writes what all of them learned.

Nothing here is home-made distribution: process groups, collectives and
gradient averaging are torch's own (gloo on the CPU, NCCL on CUDA).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist
from torch import nn

from engine.training.devices import DeviceError, select_device
from engine.training.metrics import NEXT_TOKEN, Meter

TORCHRUN_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK")
JOIN_TIMEOUT = timedelta(minutes=10)  # how long a rank waits for the others in a collective


@dataclass(frozen=True)
class Distributed:
    """This process's place in a data-parallel run."""

    rank: int
    local_rank: int
    world_size: int
    backend: str  # gloo or nccl
    device: torch.device

    @property
    def is_main(self) -> bool:
        """Rank 0: the one that prints, writes the metrics file and saves the weights."""
        return self.rank == 0


def launched_by_torchrun(environ: Mapping[str, str] | None = None) -> bool:
    environ = os.environ if environ is None else environ
    return all(name in environ for name in TORCHRUN_VARIABLES)


def rank_device(setting: str, local_rank: int, world_size: int) -> torch.device:
    """The device one rank trains on: GPU LOCAL_RANK when CUDA is asked for (or `auto` finds it),
    else the CPU. Raises DeviceError for a setting data-parallel training cannot honour."""
    if setting == "mps":
        raise DeviceError(
            "data-parallel training runs on CUDA GPUs (NCCL) or on the CPU (gloo), not on MPS; "
            "use --device cpu under torchrun"
        )
    if setting == "cpu" or (setting == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    select_device("cuda" if setting == "auto" else setting)  # refuses a missing GPU plainly
    if ":" in setting and world_size > 1:
        raise DeviceError(
            f"device {setting!r} would put all {world_size} processes on one GPU; use --device cuda "
            "(or auto) under torchrun: each process takes the GPU numbered by its LOCAL_RANK"
        )
    index = int(setting.split(":")[1]) if ":" in setting else local_rank
    if index >= torch.cuda.device_count():
        raise DeviceError(
            f"process {local_rank} on this machine needs GPU {index}, but there are "
            f"{torch.cuda.device_count()}; start at most that many processes per node "
            "(--nproc-per-node)"
        )
    return torch.device("cuda", index)


def start(setting: str, environ: Mapping[str, str] | None = None) -> Distributed:
    """Join the process group torchrun set up, on the device the settings ask for."""
    environ = os.environ if environ is None else environ
    rank, local_rank = int(environ["RANK"]), int(environ["LOCAL_RANK"])
    world_size = int(environ["WORLD_SIZE"])
    device = rank_device(setting, local_rank, world_size)
    if device.type == "cuda":
        torch.cuda.set_device(device)
        dist.init_process_group("nccl", timeout=JOIN_TIMEOUT, device_id=device)
    else:
        dist.init_process_group("gloo", timeout=JOIN_TIMEOUT)
    return Distributed(rank, local_rank, world_size, dist.get_backend(), device)


def finish(together: bool = False) -> None:
    """Leave the process group (every rank, at the end of the command, whatever happened).
    `together`: the run ended normally on every rank, so they wait for each other first;
    a rank tearing gloo down while another still talks to it can abort at exit."""
    if dist.is_available() and dist.is_initialized():
        if together:
            dist.barrier()
        dist.destroy_process_group()


def wrap(model: nn.Module, place: Distributed) -> nn.Module:
    """The module as DDP sees it: gradients averaged over all ranks during `backward`."""
    if place.device.type == "cuda":
        return nn.parallel.DistributedDataParallel(
            model, device_ids=[place.device.index], output_device=place.device.index
        )
    return nn.parallel.DistributedDataParallel(model)


def agree_on_step(loss: torch.Tensor, stop: bool) -> tuple[float, bool]:
    """The mean batch loss over all ranks, and whether any rank was asked to stop (one read)."""
    packed = torch.stack([loss.detach().float(), torch.tensor(float(stop), device=loss.device)])
    dist.all_reduce(packed)
    total, stops = packed.cpu().tolist()
    return total / dist.get_world_size(), stops > 0


def combine_meter(meter: Meter, stop: bool) -> bool:
    """Sum one epoch's training figures over all ranks into `meter`; True when any rank was asked
    to stop. Every rank then holds the same figures and takes the same decisions."""
    device = meter.loss_sum.device
    packed = torch.stack(
        [
            meter.loss_sum.double(),
            meter.correct.double(),
            torch.tensor(float(meter.samples), dtype=torch.float64, device=device),
            torch.tensor(float(stop), dtype=torch.float64, device=device),
        ]
    )
    dist.all_reduce(packed)
    loss_sum, correct, samples, stops = packed.cpu().tolist()
    meter.loss_sum = torch.tensor(loss_sum, dtype=torch.float64, device=device)
    meter.correct = torch.tensor(round(correct), dtype=torch.int64, device=device)
    meter.samples = round(samples)
    if meter.task == NEXT_TOKEN:  # a rank that saw no batch does not know the window length
        positions = torch.tensor(meter.positions, device=device)
        dist.all_reduce(positions, op=dist.ReduceOp.MAX)
        meter.positions = int(positions.item())
    return stops > 0


def combine_evaluation(
    meter: Meter | None, confusion: torch.Tensor | None, device: torch.device, task: str
) -> tuple[Meter, torch.Tensor | None]:
    """Validation figures and confusion matrix over the whole validation set, each rank having
    evaluated its share (a rank with no share contributes zeros)."""
    meter = meter or Meter(device, task)
    classes = torch.tensor(0 if confusion is None else confusion.shape[0], device=device)
    dist.all_reduce(classes, op=dist.ReduceOp.MAX)
    size = int(classes.item())
    if size:
        if confusion is None:
            confusion = torch.zeros((size, size), dtype=torch.int64, device=device)
        dist.all_reduce(confusion)
    combine_meter(meter, False)
    return meter, confusion


def share_buffers(model: nn.Module) -> None:
    """Give every rank rank 0's buffers (BatchNorm's running statistics) before validating, so
    all ranks evaluate the very network rank 0 saves."""
    for buffer in model.buffers():
        dist.broadcast(buffer, src=0)
