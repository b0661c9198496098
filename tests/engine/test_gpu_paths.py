"""The Trainer's GPU speed paths, checked on a CUDA GPU rather than assumed (skipped without one).

Run where a GPU is: `pytest -s tests/engine/test_gpu_paths.py` (the -s shows the
figures each check measured).
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from engine.project import load_project
from engine.settings import TrainingSettings
from engine.training import BatchEnd, Callback, Trainer, plan_training
from engine.training.trainer import ACCELERATOR_CHECK_EVERY

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "resources" / "examples"


def plan_for(name: str, **changes: Any) -> Any:
    project = load_project(EXAMPLES / f"{name}.netwright.json")
    settings = TrainingSettings.from_project(project)
    settings = replace(settings, device="cuda", early_stopping=None, epochs=1, **changes)
    return plan_training(project, settings)


class Watch(Callback):
    """Records, during training batches, what the speed paths promise."""

    def __init__(self) -> None:
        self.output_dtypes: set[torch.dtype] = set()
        self.channels_last: set[bool] = set()
        self.batches = 0
        self.syncs = 0
        self._caught: Any = None
        self._records: list[warnings.WarningMessage] = []

    def on_fit_start(self, trainer: Trainer) -> None:
        head = [m for m in trainer.model.modules() if isinstance(m, nn.Linear)][-1]
        head.register_forward_hook(lambda m, i, out: self.output_dtypes.add(out.dtype))

    def on_epoch_start(self, trainer: Trainer, epoch: int) -> None:
        self._caught = warnings.catch_warnings(record=True)
        self._records = self._caught.__enter__()
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")

    def on_batch_end(self, trainer: Trainer, batch: BatchEnd) -> None:
        self.batches += 1
        convs = [m for m in trainer.model.modules() if isinstance(m, nn.Conv2d)]
        if convs and self.batches == 1:
            self.channels_last.add(convs[0].weight.is_contiguous(memory_format=torch.channels_last))

    def on_epoch_end(self, trainer: Trainer, epoch: int, metrics: dict[str, Any]) -> None:
        torch.cuda.set_sync_debug_mode("default")
        self.syncs += sum("synchronizing" in str(w.message) for w in self._records)
        self._caught.__exit__(None, None, None)


def test_in_memory_data_lives_on_the_gpu() -> None:
    plan = plan_for("digits-cnn")
    train, val = plan.batches()
    assert train.x.is_cuda and val.x.is_cuda
    xb, yb = next(iter(train.epoch(1)))
    assert xb.is_cuda and yb.is_cuda


def test_an_epoch_reads_from_the_gpu_only_every_few_batches_not_per_batch() -> None:
    plan = plan_for("digits-cnn", batch_size=16)
    watch = Watch()
    train, _ = plan.batches()
    plan.trainer([watch]).fit(train, None)
    allowed = -(-watch.batches // ACCELERATOR_CHECK_EVERY) + 3  # loss checks + the epoch's figures
    print(f"\n{watch.batches} batches, {watch.syncs} synchronising operations (allowed {allowed})")
    assert watch.batches > 3 * ACCELERATOR_CHECK_EVERY
    assert watch.syncs <= allowed


def test_mixed_precision_runs_in_bf16_and_convolutions_train_channels_last() -> None:
    plan = plan_for("digits-cnn", mixed_precision=True)
    watch = Watch()
    result = plan.run([watch])[1]
    assert result.status == "completed" and result.notes == []
    assert torch.cuda.is_bf16_supported() and watch.output_dtypes == {torch.bfloat16}
    assert watch.channels_last == {True}
    conv = next(m for m in plan.model.modules() if isinstance(m, nn.Conv2d))
    assert conv.weight.is_contiguous()  # the usual layout back after the run


@pytest.mark.parametrize("name", ["digits-cnn"])  # the benchmark compiles the Transformer
def test_torch_compile_compiles_on_cuda_and_trains_like_eager(name: str) -> None:
    eager = plan_for(name).run()[1]
    compiled = plan_for(name, compile=True).run()[1]
    print(
        f"\n{name}: eager {eager.history[-1]['train_loss']:.5f}, compiled "
        f"{compiled.history[-1]['train_loss']:.5f}; notes {compiled.notes}"
    )
    assert compiled.notes == [] and compiled.status == "completed"
    assert compiled.history[-1]["train_loss"] == pytest.approx(
        eager.history[-1]["train_loss"], rel=0.05
    )


def test_torchrun_initialises_nccl_on_the_gpu(tmp_path: Path) -> None:
    metrics = tmp_path / "m.jsonl"
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        "1",
        "-m",
        "engine",
        "train",
        str(EXAMPLES / "digits-mlp.netwright.json"),
        "--epochs",
        "2",
        "--metrics-out",
        str(metrics),
        "--weights-out",
        str(tmp_path / "w.safetensors"),
    ]
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    print("\n" + done.stdout)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "with 1 process (nccl)" in done.stdout
    start = json.loads(metrics.read_text().splitlines()[0])
    assert start["device"] == "cuda:0" and start["world_size"] == 1
