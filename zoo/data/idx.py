"""MNIST's IDX ``.gz`` files, inflated as a stream: the header's dimensions are checked against the
memory budget before the data is read, so a small file cannot inflate to gigabytes first.
"""

from __future__ import annotations

import gzip
import os
import struct
from math import prod
from pathlib import Path

import numpy as np

from zoo.data.base import DataError, reason
from zoo.data.budget import Budget
from zoo.safefile import open_regular

# (images, labels) per split, in Keras's fashion_mnist order of reading
IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
IDX_NAMES = (*IDX_FILES["train"], *IDX_FILES["test"])
_CHUNK = 1 << 20


def _read_up_to(stream, size: int) -> bytes:
    parts, have = [], 0
    while have < size:
        part = stream.read(size - have)
        if not part:
            break
        parts.append(part)
        have += len(part)
    return b"".join(parts)


def _fill(stream, out: np.ndarray) -> int:
    """Read into ``out`` until it is full or the stream ends; the bytes read."""
    view, have = memoryview(out).cast("B"), 0
    while have < len(view):
        got = stream.readinto(view[have:have + _CHUNK])  # in chunks: GzipFile.readinto copies via read()
        if not got:
            break
        have += got
    return have


def _parse(stream, path: str, ndim: int, budget: Budget) -> np.ndarray:
    expected = 0x0800 | ndim
    head = _read_up_to(stream, 4)
    if len(head) < 4:
        raise DataError(f"truncated IDX file: {len(head)} bytes, shorter than the 4-byte magic number", file=path)
    magic = int.from_bytes(head, "big")
    if magic != expected:
        raise DataError(f"wrong IDX magic number 0x{magic:08X}, expected 0x{expected:08X} "
                        f"(unsigned bytes, {ndim}-D)", file=path)
    header = 4 + 4 * ndim
    raw_dims = _read_up_to(stream, 4 * ndim)
    if len(raw_dims) < 4 * ndim:
        raise DataError(f"truncated IDX file: {4 + len(raw_dims)} bytes, shorter than its {header}-byte header",
                        file=path)
    dims = struct.unpack(f">{ndim}I", raw_dims)
    size = prod(dims)
    shown = "x".join(map(str, dims))
    budget.take(size, f"IDX data ({shown} bytes)", file=path)
    data = np.empty(size, np.uint8)
    have = _fill(stream, data)
    extra = 0
    while chunk := stream.read(_CHUNK):  # to the end: counts extra bytes, and gzip checks its CRC there
        extra += len(chunk)
    if have < size or extra:
        problem = "truncated IDX file" if have < size else "IDX file has extra bytes"
        raise DataError(f"{problem}: dimensions {shown} need {size} bytes of data, found {have + extra}", file=path)
    return data.reshape(dims)


def read_idx(path: str | os.PathLike, ndim: int, budget: Budget | None = None) -> np.ndarray:
    """A gzipped IDX file of unsigned bytes with ``ndim`` dimensions (3 for images, 1 for labels)."""
    path = str(path)
    budget = budget or Budget.create()
    with open_regular(path, DataError) as raw:
        try:
            with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                return _parse(stream, path, ndim, budget)
        except DataError:
            raise
        except EOFError as error:
            raise DataError("truncated gzip file: the compressed data ends early", file=path) from error
        except Exception as error:  # BadGzipFile (bad magic or CRC), zlib.error, OSError
            raise DataError(f"not a valid gzip file ({reason(error)})", file=path) from error


def read_idx_set(folder: Path, budget: Budget | None = None) -> dict[str, np.ndarray]:
    """The four IDX ``.gz`` files of MNIST or Fashion-MNIST in one folder."""
    budget = budget or Budget.create()
    arrays = {}
    for split, (images_name, labels_name) in IDX_FILES.items():
        images_file, labels_file = str(folder / images_name), str(folder / labels_name)
        images = read_idx(images_file, 3, budget)
        if 0 in images.shape:  # found here, on the file that is empty, not later as a count mismatch
            raise DataError(f"holds no images (dimensions {'x'.join(map(str, images.shape))})", file=images_file)
        labels = read_idx(labels_file, 1, budget)
        if len(labels) != len(images):
            raise DataError(f"has {len(labels)} labels but {images_file} has {len(images)} images",
                            file=labels_file)
        arrays[f"x_{split}"], arrays[f"y_{split}"] = images, labels
    return arrays
