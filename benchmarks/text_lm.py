"""Language-model training speed: Netwright's run of tiny-gpt against plain PyTorch, side by side.

Three ways to train the same tiny GPT on the same windows of python-source
(same batch size, AdamW, learning rate, one thread, no validation):

- `netwright`: the Trainer with the LanguageModelStep, as `netwright train` runs it;
- `plain_same_module`: a hand-written loop (`DataLoader`, `zero_grad`, forward,
  `cross_entropy` over every position, `backward`, `step`) around the very
  module Netwright compiled: what the Trainer itself costs;
- `plain_pytorch_model`: the same loop around the model a user would write by
  hand (`nn.Embedding`, the sine table, `nn.TransformerEncoder` with a causal
  mask and `is_causal=True`, `nn.LayerNorm`, `nn.Linear`): what the compiled
  layers cost.

Runs alternate; the figures are medians of tokens/s. The last line is one JSON object.

    .venv/bin/python benchmarks/text_lm.py [--windows 1024] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from engine.compiler import compile_graph  # noqa: E402
from engine.data.batches import InMemoryBatches  # noqa: E402
from engine.project import load_project  # noqa: E402
from engine.settings import TrainingSettings  # noqa: E402
from engine.training import Trainer, plan_training  # noqa: E402

EXAMPLE = ROOT / "resources" / "examples" / "tiny-gpt.netwright.json"


class HandWrittenGPT(nn.Module):
    """tiny-gpt as a user would write it in PyTorch."""

    def __init__(
        self, vocab: int, context: int, dim: int, heads: int, feedforward: int, blocks: int
    ):
        super().__init__()
        self.tokens = nn.Embedding(vocab, dim)
        position = torch.arange(context, dtype=torch.float32).unsqueeze(1)
        scale = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
        table = torch.zeros(context, dim)
        table[:, 0::2], table[:, 1::2] = torch.sin(position * scale), torch.cos(position * scale)
        self.register_buffer("table", table, persistent=False)
        self.dropout = nn.Dropout(0.1)
        layer = nn.TransformerEncoderLayer(
            dim, heads, feedforward, 0.1, "gelu", batch_first=True, norm_first=True
        )
        self.blocks = nn.TransformerEncoder(layer, blocks, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, vocab)
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(context), False)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.dropout(self.tokens(ids) + self.table[: ids.shape[1]])
        x = self.blocks(x, mask=self.mask, is_causal=True)
        return self.head(self.norm(x))


def plain_loop(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, settings: TrainingSettings
) -> float:
    torch.manual_seed(settings.seed)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=settings.optimizer.lr, weight_decay=settings.optimizer.weight_decay
    )
    loader = DataLoader(TensorDataset(x, y), batch_size=settings.batch_size, shuffle=True)
    model.train()
    tokens = 0
    start = time.perf_counter()
    running = 0.0
    for xb, yb in loader:
        optimizer.zero_grad()
        out = model(xb)
        loss = nn.functional.cross_entropy(out.reshape(-1, out.shape[-1]), yb.reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        running += loss.item()
        tokens += yb.numel()
    return tokens / (time.perf_counter() - start)


def netwright_run(plan, x: torch.Tensor, y: torch.Tensor, settings: TrainingSettings) -> float:
    model = compile_graph(plan.project.graph, settings.seed)
    step = type(plan.step)(model, settings, plan.step.tokenizer, plan.step.context)
    trainer = Trainer(step, settings, threads=1)
    train = InMemoryBatches(x, y, settings.batch_size, shuffle=True, seed=settings.seed)
    start = time.perf_counter()
    result = trainer.fit(train, None)
    assert result.status == "completed", result.message
    return y.numel() / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=1024, help="training windows per run")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    project = load_project(EXAMPLE)
    settings = replace(
        TrainingSettings.from_project(project), epochs=1, early_stopping=None, device="cpu"
    )
    plan = plan_training(project, settings)
    x, y = plan.data.train_x[: args.windows], plan.data.train_y[: args.windows]
    block = next(n for n in project.graph if n.type == "TransformerEncoderLayer").params
    shape = dict(
        vocab=plan.analysis.output_shape[1],
        context=x.shape[1],
        dim=next(n for n in project.graph if n.type == "Embedding").params["embedding_dim"],
        heads=block["num_heads"],
        feedforward=block["dim_feedforward"],
        blocks=sum(n.type == "TransformerEncoderLayer" for n in project.graph),
    )
    runs = {
        "netwright": lambda: netwright_run(plan, x, y, settings),
        "plain_same_module": lambda: plain_loop(compile_graph(project.graph, 0), x, y, settings),
        "plain_pytorch_model": lambda: plain_loop(HandWrittenGPT(**shape), x, y, settings),
    }
    for run in runs.values():  # warm-up
        run()
    rates: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.repeats):
        for name, run in runs.items():
            rates[name].append(run())
    medians = {name: statistics.median(values) for name, values in rates.items()}
    for name, value in medians.items():
        print(f"{name}: {value:,.0f} tokens/s")
    figures = {
        "benchmark": "text_lm",
        "example": "tiny-gpt",
        "windows": len(x),
        "context": int(x.shape[1]),
        "repeats": args.repeats,
        "threads": 1,
        **{f"{name}_tokens_per_s": round(value) for name, value in medians.items()},
        "trainer_vs_same_module": round(medians["netwright"] / medians["plain_same_module"], 2),
        "netwright_vs_hand_written": round(
            medians["netwright"] / medians["plain_pytorch_model"], 2
        ),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
