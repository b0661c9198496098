"""Trainer throughput on a CUDA GPU against the plain PyTorch loops a user would write, side by side.

For the digits CNN and the Transformer (marker task) examples, at batch sizes
64, 512 and 4096: the same compiled network, the same data (the example's
training set repeated to `--samples` per epoch, so big batches still take many
steps), Adam with the example's learning rate, no validation.

- plain: the idiomatic loop: `DataLoader(TensorDataset(x, y), batch_size, shuffle=True,
  pin_memory=True)`, `.to(device, non_blocking=True)` per batch, `zero_grad`, forward,
  loss, `backward`, `step`, `running_loss += loss.item()`.
- plain_resident: the same loop with the data already on the GPU, batched by a
  `randperm` index (what a careful user writes), still `loss.item()` per batch.
- trainer: Netwright's Trainer in fp32; trainer_bf16: with `mixed_precision`
  (bf16 autocast); trainer_compiled: bf16 plus `compile` (torch.compile), at
  the batch sizes of `--compile-batch-sizes`.

Each run trains `--epochs` epochs from fresh weights; the first is a warm-up
(cuDNN choice, compilation) and the figure is the median samples/s of the
others, timed with the GPU synchronised at each epoch's end. The last line
printed is one JSON object. Without CUDA it says so and exits 0.

    python benchmarks/gpu_throughput.py [--epochs 4] [--samples 32768] [--batch-sizes 64,512,4096]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from engine.compiler import compile_graph  # noqa: E402
from engine.data import InMemoryBatches  # noqa: E402
from engine.project import load_project  # noqa: E402
from engine.settings import TrainingSettings  # noqa: E402
from engine.training import Callback, Trainer, plan_training  # noqa: E402

EXAMPLES = ("digits-cnn", "transformer-marker")


DEVICE = torch.device("cuda")  # --device cpu: a quick smoke run of this script without a GPU


def synchronize() -> None:
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()


class EpochClock(Callback):
    """Wall time of each epoch, the GPU synchronised at its end (the Trainer reads its figures)."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self._start = 0.0

    def on_epoch_start(self, trainer: Trainer, epoch: int) -> None:
        synchronize()
        self._start = time.perf_counter()

    def on_epoch_end(self, trainer: Trainer, epoch: int, metrics: dict[str, Any]) -> None:
        synchronize()
        self.seconds.append(time.perf_counter() - self._start)


def setup(name: str, samples: int) -> tuple[Any, TrainingSettings, torch.Tensor, torch.Tensor]:
    project = load_project(ROOT / "resources" / "examples" / f"{name}.netwright.json")
    settings = TrainingSettings.from_project(project)
    settings = replace(settings, device=DEVICE.type, early_stopping=None, validation_split=0.2)
    data = plan_training(project, replace(settings, device="cpu")).data
    repeats = -(-samples // len(data.train_x))
    x = data.train_x.repeat(repeats, *([1] * (data.train_x.dim() - 1)))[:samples]
    y = data.train_y.repeat(repeats, *([1] * (data.train_y.dim() - 1)))[:samples]
    return project, settings, x.contiguous(), y.contiguous()


def median_rate(seconds: list[float], samples: int) -> float:
    timed = seconds[1:] if len(seconds) > 1 else seconds
    return samples / statistics.median(timed)


def plain_loop(
    project: Any,
    settings: TrainingSettings,
    x: torch.Tensor,
    y: torch.Tensor,
    batch: int,
    epochs: int,
    resident: bool,
) -> float:
    torch.manual_seed(settings.seed)
    device = DEVICE
    model = compile_graph(project.graph, settings.seed).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.optimizer.lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()
    if resident:
        xd, yd = x.to(device), y.to(device)
    else:
        loader = DataLoader(
            TensorDataset(x, y), batch_size=batch, shuffle=True, pin_memory=device.type == "cuda"
        )
    seconds = []
    for _ in range(epochs):
        synchronize()
        start = time.perf_counter()
        running = 0.0
        if resident:
            order = torch.randperm(len(xd), device=device)
            batches = (
                (xd[order[i : i + batch]], yd[order[i : i + batch]])
                for i in range(0, len(xd), batch)
            )
        else:
            batches = (
                (xb.to(device, non_blocking=True), yb.to(device, non_blocking=True))
                for xb, yb in loader
            )
        for xb, yb in batches:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            running += loss.item()
        synchronize()
        seconds.append(time.perf_counter() - start)
    return median_rate(seconds, len(x))


def trainer_run(
    project: Any,
    settings: TrainingSettings,
    x: torch.Tensor,
    y: torch.Tensor,
    batch: int,
    epochs: int,
    **speed: bool,
) -> tuple[float, list[str]]:
    model = compile_graph(project.graph, settings.seed)
    clock = EpochClock()
    run_settings = replace(settings, batch_size=batch, epochs=epochs, **speed)
    trainer = Trainer(model, run_settings, callbacks=[clock], device=DEVICE, threads=1)
    train = InMemoryBatches(x, y, batch, device=DEVICE, seed=settings.seed)
    result = trainer.fit(train, None)
    assert result.status == "completed", result.message
    return median_rate(clock.seconds, train.samples), [
        n for n in result.notes if "torch.compile" in n
    ]


def compare(args: argparse.Namespace) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for name in EXAMPLES:
        project, settings, x, y = setup(name, args.samples)
        for batch in args.batch_sizes:
            row: dict[str, Any] = {
                "plain": plain_loop(project, settings, x, y, batch, args.epochs, resident=False),
                "plain_resident": plain_loop(project, settings, x, y, batch, args.epochs, True),
            }
            row["trainer"], _ = trainer_run(project, settings, x, y, batch, args.epochs)
            row["trainer_bf16"], _ = trainer_run(
                project, settings, x, y, batch, args.epochs, mixed_precision=True
            )
            if batch in args.compile_batch_sizes:
                row["trainer_compiled"], notes = trainer_run(
                    project, settings, x, y, batch, args.epochs, mixed_precision=True, compile=True
                )
                if notes:
                    row["compile_notes"] = notes
            plain = row["plain"]
            entry = {k: round(v) for k, v in row.items() if isinstance(v, float)}
            entry.update(
                {
                    f"{k}_ratio": round(v / plain, 2)
                    for k, v in row.items()
                    if isinstance(v, float) and k != "plain"
                }
            )
            if "compile_notes" in row:
                entry["compile_notes"] = row["compile_notes"]
            figures[f"{name}@{batch}"] = entry
            print(
                f"{name} batch {batch}: "
                + ", ".join(f"{k} {v:,.0f}" for k, v in row.items() if isinstance(v, float))
                + " samples/s; "
                + ", ".join(f"{k} {entry[k]:.2f}" for k in entry if k.endswith("_ratio")),
                flush=True,
            )
    return figures


def hardware() -> dict[str, Any]:
    props = torch.cuda.get_device_properties(0)
    return {
        "gpu": props.name,
        "gpu_memory_gib": round(props.total_memory / 2**30, 1),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version(),
        "bf16": torch.cuda.is_bf16_supported(),
    }


def sizes(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4, help="per run; the first is a warm-up")
    parser.add_argument("--samples", type=int, default=32768, help="training samples per epoch")
    parser.add_argument("--batch-sizes", type=sizes, default=[64, 512, 4096])
    parser.add_argument("--compile-batch-sizes", type=sizes, default=[512])
    parser.add_argument("--device", default="cuda", help="cpu: a smoke run of the script only")
    args = parser.parse_args()
    global DEVICE
    DEVICE = torch.device(args.device)
    result: dict[str, Any] = {"benchmark": "gpu_throughput"}
    if DEVICE.type == "cpu":
        result.update(device="cpu", note="smoke run on the CPU: not GPU figures")
        result.update(compare(args))
        print(json.dumps(result))
        return
    if not torch.cuda.is_available():
        print("No CUDA GPU here: nothing measured (run this where `torch.cuda.is_available()`).")
        result.update(device=None, skipped="no CUDA GPU")
        print(json.dumps(result))
        return
    result.update(hardware())
    result.update(epochs=args.epochs, samples_per_epoch=args.samples)
    print(f"{result['gpu']}, torch {result['torch']}, CUDA {result['cuda']}", flush=True)
    result.update(compare(args))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
