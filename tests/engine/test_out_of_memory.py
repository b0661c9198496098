"""Running out of memory mid-training gives a clear message with a smaller batch size, never a crash."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from engine.settings import TrainingSettings
from engine.training.memory import OutOfMemory, is_out_of_memory
from engine.training.trainer import Trainer


class Batches:
    """Two batches of four samples: enough for the loop to reach the failing forward pass."""

    samples = 8

    def __len__(self) -> int:
        return 2

    def epoch(self, epoch: int):  # type: ignore[no-untyped-def]
        generator = torch.Generator().manual_seed(epoch)
        for _ in range(2):
            yield (
                torch.randn(4, 3, generator=generator),
                torch.randint(0, 2, (4,), generator=generator),
            )


class Greedy(nn.Module):
    """Fails like a real allocation failure on its second call."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.layer = nn.Linear(3, 2)
        self.calls = 0
        self.error = error

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.calls == 2:
            raise self.error
        return self.layer(x)


@pytest.mark.parametrize(
    "error",
    [
        torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB"),
        RuntimeError(
            "[enforce fail at alloc_cpu.cpp:116] DefaultCPUAllocator: can't allocate memory"
        ),
    ],
)
def test_an_allocation_failure_becomes_a_message_suggesting_half_the_batch(
    error: Exception,
) -> None:
    settings = TrainingSettings(epochs=2, batch_size=64, early_stopping=None, device="cpu")
    trainer = Trainer(Greedy(error), settings, device="cpu", threads=1, classification=True)
    with pytest.raises(OutOfMemory) as caught:
        trainer.fit(Batches(), None)
    assert "batch size 64" in str(caught.value) and "batch size of 32" in str(caught.value)
    assert caught.value.batch_size == 64


def test_other_errors_pass_through_unchanged() -> None:
    settings = TrainingSettings(epochs=1, batch_size=4, early_stopping=None, device="cpu")
    trainer = Trainer(
        Greedy(ValueError("a bug")), settings, device="cpu", threads=1, classification=True
    )
    with pytest.raises(ValueError, match="a bug"):
        trainer.fit(Batches(), None)
    assert not is_out_of_memory(RuntimeError("shape mismatch"))
