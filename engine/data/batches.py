"""In-memory batching: the data lives as tensors on the training device, batched by index.

There is no per-sample Python work: each epoch draws one permutation, moves
it to the device once, and every batch is a single `index_select`. Which
samples a process sees (shuffling from the seed and epoch, and the share of one
rank among `world_size` data-parallel processes) is decided here and nowhere
else.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch


def epoch_order(
    count: int,
    epoch: int,
    seed: int,
    shuffle: bool = True,
    rank: int = 0,
    world_size: int = 1,
    even: bool = True,
) -> torch.Tensor:
    """The sample indices one rank visits in one epoch; every batching path asks here.

    The permutation depends only on (seed, epoch), so all data-parallel ranks draw
    the same one and take every `world_size`-th index from `rank`; the tail that
    would give ranks unequal shares is left out for that epoch. With `even=False`
    (validation: no gradients to average, so shares may differ by one) every
    sample is visited by exactly one rank.
    """
    if shuffle:
        generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
        indices = torch.randperm(count, generator=generator)
    else:
        indices = torch.arange(count)
    if world_size > 1:
        share = count // world_size if even else count
        indices = indices[: share * world_size][rank::world_size]
    return indices


class InMemoryBatches:
    """Batches of (x, y) from tensors held on `device`; iterate `epoch(n)` once per epoch."""

    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        batch_size: int,
        *,
        device: torch.device | str = "cpu",
        shuffle: bool = True,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        whole: bool = False,
    ) -> None:
        """`whole`: the ranks together visit every sample, in shares that may differ by one
        (for validation); otherwise all ranks get equal shares (training: DDP steps in lockstep)."""
        if len(x) != len(y):
            raise ValueError(f"{len(x)} samples but {len(y)} targets")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is outside a world of {world_size}")
        self.device = torch.device(device)
        self.x = x.to(self.device)
        self.y = y.to(self.device)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.whole = whole

    @property
    def samples(self) -> int:
        """Samples this process sees per epoch (its share when data-parallel)."""
        if self.world_size == 1:
            return len(self.x)
        if self.whole:
            return len(range(self.rank, len(self.x), self.world_size))
        return len(self.x) // self.world_size

    def __len__(self) -> int:
        full, rest = divmod(self.samples, self.batch_size)
        return full + (1 if rest > 1 or (rest == 1 and (full == 0 or not self.shuffle)) else 0)

    def order(self, epoch: int) -> torch.Tensor:
        """This rank's sample indices for `epoch`: the same on every run with the same seed."""
        return epoch_order(
            len(self.x),
            epoch,
            self.seed,
            self.shuffle,
            self.rank,
            self.world_size,
            even=not self.whole,
        )

    def epoch(self, epoch: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """The batches of one epoch. A last batch of a single sample is left out (BatchNorm cannot
        train on one sample); it is drawn in another epoch's shuffle."""
        indices = self.order(epoch)
        if not self.shuffle and self.world_size == 1:
            for start in range(0, len(indices), self.batch_size):
                yield (
                    self.x[start : start + self.batch_size],
                    self.y[start : start + self.batch_size],
                )
            return
        indices = indices.to(self.device, non_blocking=True)
        size = self.batch_size
        for start in range(0, len(indices), size):
            chosen = indices[start : start + size]
            if len(chosen) == 1 and start > 0 and self.shuffle:
                return
            yield self.x.index_select(0, chosen), self.y.index_select(0, chosen)
