"""Trainer throughput against the plain PyTorch loop a user would write, side by side.

For the digits MLP and the digits CNN examples: the same compiled network,
the same data (already scaled, in memory), batch size, optimizer (Adam) and
learning rate, on the CPU. The plain loop is the idiomatic one:
`DataLoader(TensorDataset(x, y), batch_size, shuffle=True)`, `zero_grad`,
forward, loss, `backward`, `step`, `running_loss += loss.item()`. Each side
trains the same number of epochs from fresh weights; runs alternate, and the
figures are medians of samples/s. The last line printed is one JSON object.

    .venv/bin/python benchmarks/train_throughput.py [--epochs 5] [--repeats 3] [--threads 1]
    .venv/bin/python benchmarks/train_throughput.py --thread-study   # 1 vs 2 threads, idle and busy
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from engine.compiler import compile_graph  # noqa: E402
from engine.project import load_project  # noqa: E402
from engine.settings import TrainingSettings  # noqa: E402
from engine.training import Trainer, plan_training  # noqa: E402

EXAMPLES = ("digits-mlp", "digits-cnn")


def setup(name: str, epochs: int) -> tuple:
    project = load_project(ROOT / "resources" / "examples" / f"{name}.netwright.json")
    settings = TrainingSettings.from_project(project)
    settings = replace(settings, epochs=epochs, early_stopping=None, validation_split=0.2)
    plan = plan_training(project, settings)
    return project, settings, plan.data


def plain_loop(project, settings: TrainingSettings, data, threads: int) -> float:
    """Samples/s of the idiomatic hand-written loop."""
    torch.set_num_threads(threads)
    torch.manual_seed(settings.seed)
    model = compile_graph(project.graph, settings.seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.optimizer.lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    loader = DataLoader(
        TensorDataset(data.train_x, data.train_y), batch_size=settings.batch_size, shuffle=True
    )
    model.train()
    seen = 0
    start = time.perf_counter()
    for _ in range(settings.epochs):
        running = 0.0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            running += loss.item()
            seen += len(yb)
    return seen / (time.perf_counter() - start)


def trainer_run(project, settings: TrainingSettings, data, threads: int) -> float:
    """Samples/s of Netwright's Trainer, whole fit included (no validation, as the plain loop)."""
    model = compile_graph(project.graph, settings.seed)
    trainer = Trainer(model, replace(settings, device="cpu"), threads=threads)
    train, _ = data.batches(settings.batch_size, device="cpu", seed=settings.seed)
    start = time.perf_counter()
    result = trainer.fit(train, None)
    seconds = time.perf_counter() - start
    assert result.status == "completed", result.message
    return train.samples * settings.epochs / seconds


def compare(epochs: int, repeats: int, threads: int) -> dict:
    figures: dict = {}
    for name in EXAMPLES:
        project, settings, data = setup(name, epochs)
        plain_loop(project, replace(settings, epochs=1), data, threads)  # warm-up both paths
        trainer_run(project, replace(settings, epochs=1), data, threads)
        plain, ours = [], []
        for _ in range(repeats):
            plain.append(plain_loop(project, settings, data, threads))
            ours.append(trainer_run(project, settings, data, threads))
        p, t = statistics.median(plain), statistics.median(ours)
        figures[name] = {
            "plain_samples_per_s": round(p),
            "trainer_samples_per_s": round(t),
            "ratio": round(t / p, 2),
        }
        print(
            f"{name}: plain loop {p:,.0f} samples/s, Trainer {t:,.0f} samples/s, ratio {t / p:.2f}"
        )
    return figures


def thread_study(epochs: int) -> dict:
    """The plain loop at 1 and 2 threads, with the machine idle and with one busy process beside it."""
    figures: dict = {}
    for busy in (False, True):
        hog = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
        try:
            for name in EXAMPLES:
                project, settings, data = setup(name, epochs)
                plain_loop(project, replace(settings, epochs=1), data, 1)
                for threads in (1, 2):
                    rate = plain_loop(project, settings, data, threads)
                    key = f"{name}_{'busy' if busy else 'idle'}_{threads}_threads"
                    figures[key] = round(rate)
                    print(f"{key}: {rate:,.0f} samples/s")
        finally:
            if hog is not None:
                hog.kill()
                hog.wait()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--thread-study", action="store_true")
    args = parser.parse_args()
    result: dict = {"benchmark": "train_throughput", "device": "cpu", "threads": args.threads}
    result["epochs"], result["repeats"] = args.epochs, args.repeats
    if args.thread_study:
        result["thread_study"] = thread_study(max(2, args.epochs // 2))
    else:
        result.update(compare(args.epochs, args.repeats, args.threads))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
