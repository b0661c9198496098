"""Images from disk: folders of image files (one sub-folder per class) and IDX files.

Images are resized to the Input node's height and width and converted to its
channel count (1 grey, 3 RGB) as they load, with values in 0..1, so the data
held in memory is exactly what the network reads.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from engine.data.dataset import DataError, DataSet

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm"}


def image_geometry(input_shape: tuple[int, ...], source: str) -> tuple[int, int, int]:
    """(channels, height, width) the Input node asks of an image."""
    if len(input_shape) == 3 and input_shape[0] in (1, 3):
        return input_shape[0], input_shape[1], input_shape[2]
    if len(input_shape) == 2:
        return 1, input_shape[0], input_shape[1]
    raise DataError(
        f"{source}: images need an Input shaped channels x height x width (1 for grey, 3 for RGB), "
        f"such as 1x28x28 or 3x32x32; the Input is {'x'.join(map(str, input_shape))}",
        code=1,
    )


def image_files(folder: Path) -> tuple[list[Path], list[int], tuple[str, ...]]:
    """Every image file under `folder`, with its class id (its sub-folder), and the class names."""
    if not folder.is_dir():
        raise DataError(
            f"{folder}: no such folder (images:DIR needs one sub-folder of images per class)"
        )
    classes = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise DataError(
            f"{folder}: no class sub-folders; put the images of each class in their own sub-folder"
        )
    files: list[Path] = []
    labels: list[int] = []
    for class_id, sub in enumerate(classes):
        found = sorted(
            p for p in sub.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
        )
        if not found:
            raise DataError(
                f"{sub}: the class folder '{sub.name}' holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})"
            )
        files += found
        labels += [class_id] * len(found)
    return files, labels, tuple(p.name for p in classes)


def read_image(path: Path, channels: int, height: int, width: int) -> np.ndarray:
    """One image as float32 (channels, height, width) in 0..1."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as opened:
            image = opened.convert("L" if channels == 1 else "RGB")
            if image.size != (width, height):
                image = image.resize((width, height), Image.Resampling.BILINEAR)
            pixels = np.asarray(image, dtype=np.float32) / 255.0
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as error:
        raise DataError(
            f"{path}: cannot be read as an image ({error}); remove or replace it"
        ) from None
    return pixels[None] if channels == 1 else pixels.transpose(2, 0, 1)


def load_image_folder(folder: Path, input_shape: tuple[int, ...]) -> DataSet:
    """All images of an image folder, in memory, shaped for the Input node."""
    channels, height, width = image_geometry(input_shape, str(folder))
    files, labels, names = image_files(folder)
    x = np.empty((len(files), channels, height, width), dtype=np.float32)
    for i, path in enumerate(files):
        x[i] = read_image(path, channels, height, width)
    if len(input_shape) == 2:
        x = x[:, 0]
    return DataSet(str(folder), x, np.asarray(labels, dtype=np.int64), names)


_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: Path) -> np.ndarray:
    """An IDX array (the format MNIST ships in), gzipped or not."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except OSError as error:
        raise DataError(f"{path}: cannot be read ({error.strerror or error})") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise DataError(f"{path}: a damaged gzip file ({error})") from None
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] not in _IDX_TYPES or raw[3] == 0:
        raise DataError(
            f"{path}: not an IDX file (the MNIST format); check the file name and download"
        )
    dims = raw[3]
    header = 4 + 4 * dims
    if len(raw) < header:
        raise DataError(f"{path}: the IDX header is cut short")
    shape = struct.unpack(f">{dims}I", raw[4:header])
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise DataError(
            f"{path}: the header promises {'x'.join(map(str, shape))} values but the file holds "
            f"{(len(raw) - header) // dtype.itemsize}; it is truncated or damaged"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)


def load_idx(images: Path, labels: Path) -> DataSet:
    """IDX images (N x H x W, bytes scaled to 0..1) and their IDX labels (N)."""
    x = read_idx(images)
    y = read_idx(labels)
    if y.ndim != 1:
        raise DataError(f"{labels}: labels must be one number per image, found shape {y.shape}")
    if x.ndim < 2:
        raise DataError(f"{images}: images must be N x height x width, found shape {x.shape}")
    if len(x) != len(y):
        raise DataError(
            f"{images} has {len(x)} images but {labels} has {len(y)} labels; they must match"
        )
    pixels = x.astype(np.float32) / (255.0 if x.dtype == np.uint8 else 1.0)
    ids = y.astype(np.int64)
    if ids.min() < 0:
        raise DataError(f"{labels}: labels must be class numbers 0, 1, 2, ...")
    names = tuple(str(i) for i in range(int(ids.max()) + 1))
    return DataSet(f"{images}", pixels, ids, names)
