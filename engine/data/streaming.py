"""Image folders too large for memory: read from disk by DataLoader workers, batch by batch.

Everything else trains from memory (engine.data.batches). An image folder is
streamed only when its images, decoded at the Input's size, would take more
than `memory_budget()`; then worker processes decode and resize images while
the network trains, and scaling is fitted on a sample of the training images.
The epoch order comes from the same `epoch_order` as in-memory batches.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from engine.data.batches import epoch_order
from engine.data.dataset import DataError
from engine.data.images import image_files, image_geometry, read_image
from engine.data.scaling import fit_scaling, scaling_affine

SCALING_SAMPLE = 512  # training images read to fit the scaling of a streamed folder


def memory_budget() -> int:
    """Bytes of decoded samples worth holding in memory: a quarter of RAM, at most 2 GiB."""
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        ram = 8 * 2**30
    return min(2 * 2**30, ram // 4)


def folder_bytes(count: int, input_shape: tuple[int, ...]) -> int:
    return count * int(np.prod(input_shape)) * 4


class ImageFiles(Dataset[tuple[torch.Tensor, int]]):
    """Image files and their class ids, read and scaled one at a time (in a worker process)."""

    def __init__(
        self,
        files: list[Path],
        labels: list[int],
        input_shape: tuple[int, ...],
        scaling: dict[str, Any] | None,
    ) -> None:
        self.files = files
        self.labels = labels
        self.input_shape = input_shape
        self.geometry = image_geometry(input_shape, str(files[0].parent.parent) if files else "")
        self.affine = scaling_affine(scaling, input_shape) if scaling else None

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        pixels = read_image(self.files[index], *self.geometry).reshape(self.input_shape)
        if self.affine is not None:
            pixels = (pixels - self.affine[0]) / self.affine[1]
        return torch.from_numpy(np.ascontiguousarray(pixels, dtype=np.float32)), self.labels[index]


class _EpochSampler(Sampler[int]):
    def __init__(self, count: int, seed: int, shuffle: bool, rank: int, world_size: int) -> None:
        self.count, self.seed, self.shuffle = count, seed, shuffle
        self.rank, self.world_size = rank, world_size
        self.epoch = 0

    def __iter__(self) -> Iterator[int]:
        order = epoch_order(
            self.count, self.epoch, self.seed, self.shuffle, self.rank, self.world_size
        )
        return iter(order.tolist())

    def __len__(self) -> int:
        return self.count // self.world_size if self.world_size > 1 else self.count


class LoaderBatches:
    """Batches from a DataLoader with worker processes, moved to `device`; same interface as
    InMemoryBatches (`samples`, `len()`, `epoch(n)`)."""

    def __init__(
        self,
        dataset: ImageFiles,
        batch_size: int,
        *,
        device: torch.device | str = "cpu",
        shuffle: bool = True,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        workers: int | None = None,
    ) -> None:
        self.device = torch.device(device)
        self.batch_size = batch_size
        self.sampler = _EpochSampler(len(dataset), seed, shuffle, rank, world_size)
        workers = default_workers() if workers is None else workers
        self.loader = DataLoader(
            dataset,
            batch_size=batch_size,
            sampler=self.sampler,
            num_workers=workers,
            persistent_workers=workers > 0,
            pin_memory=self.device.type == "cuda",
        )

    @property
    def samples(self) -> int:
        return len(self.sampler)

    def __len__(self) -> int:
        return len(self.loader)

    def epoch(self, epoch: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        self.sampler.epoch = epoch
        for xb, yb in self.loader:
            if len(yb) == 1 and self.samples > 1:
                continue  # BatchNorm cannot train on a batch of one
            yield xb.to(self.device, non_blocking=True), yb.to(self.device, non_blocking=True)


def default_workers() -> int:
    """Decoding workers: the cores left after the training process, at most 4."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(1, min(4, cores - 1))


@dataclass
class StreamedData:
    """A streamed image folder split for training; the counterpart of PreparedData."""

    source: str
    train: ImageFiles
    val: ImageFiles | None
    class_names: tuple[str, ...]
    scaling: dict[str, Any] | None
    classification: bool = True

    @property
    def train_samples(self) -> int:
        return len(self.train)

    @property
    def val_samples(self) -> int:
        return 0 if self.val is None else len(self.val)

    def batches(
        self,
        batch_size: int,
        *,
        device: torch.device | str = "cpu",
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> tuple[LoaderBatches, LoaderBatches | None]:
        common: dict[str, Any] = {"device": device, "rank": rank, "world_size": world_size}
        train = LoaderBatches(self.train, batch_size, shuffle=True, seed=seed, **common)
        val = (
            None
            if self.val is None
            else LoaderBatches(self.val, max(batch_size, 256), shuffle=False, **common)
        )
        return train, val


def stream_image_folder(
    folder: Path,
    input_shape: tuple[int, ...],
    output_classes: int | None,
    validation_split: float,
    seed: int,
    scaling_method: str,
) -> StreamedData:
    """Split an image folder by class and fit scaling on a sample, without loading it whole."""
    from engine.data.prepare import split_indices

    files, labels, names = image_files(folder)
    if output_classes is not None and len(names) > output_classes:
        raise DataError(
            f"{folder}: {len(names)} class folders, but the Output receives {output_classes} scores; "
            f"end the network with Linear(out_features={len(names)})",
            code=1,
        )
    label_array = np.asarray(labels)
    train_idx, val_idx = split_indices(len(files), validation_split, seed, label_array)
    geometry = image_geometry(input_shape, str(folder))
    rng = np.random.default_rng(seed)
    sample = rng.choice(train_idx, size=min(SCALING_SAMPLE, len(train_idx)), replace=False)
    pixels = np.stack([read_image(files[i], *geometry).reshape(input_shape) for i in sample])
    stats = fit_scaling(scaling_method, pixels)

    def subset(indices: np.ndarray) -> ImageFiles:
        return ImageFiles(
            [files[i] for i in indices], [labels[i] for i in indices], input_shape, stats
        )

    return StreamedData(
        str(folder), subset(train_idx), subset(val_idx) if len(val_idx) else None, names, stats
    )
