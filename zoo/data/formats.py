"""The standard files: Keras's ``mnist.npz``, the IDX ``.gz`` files, and CIFAR's python batches.

Each reader returns ``{"x_train", "y_train", "x_test", "y_test"}`` (plus class names for CIFAR)
and turns every low-level failure into a one-line DataError naming the file.
"""

from __future__ import annotations

import gzip
import os
import struct
from math import prod
from pathlib import Path

import numpy as np

from zoo.data.archive import iter_tar, safe_unpickle
from zoo.data.base import DataError, reason

NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
# (images, labels) per split, in Keras's fashion_mnist order of reading
IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
IDX_NAMES = (*IDX_FILES["train"], *IDX_FILES["test"])


def read_npz(path: str) -> dict[str, np.ndarray]:
    """Keras's ``mnist.npz`` layout; never unpickles."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            if not hasattr(npz, "files"):
                raise DataError("is a single .npy array, expected an .npz archive with "
                                + ", ".join(NPZ_KEYS), file=path)
            missing = [key for key in NPZ_KEYS if key not in npz.files]
            if missing:
                raise DataError(f"has no {', '.join(missing)} (found: {', '.join(npz.files) or 'nothing'})",
                                file=path)
            return {key: npz[key] for key in NPZ_KEYS}
    except DataError:
        raise
    except Exception as error:  # BadZipFile, zlib.error, ValueError (pickled data), OSError, EOFError
        raise DataError(f"not a readable .npz file ({reason(error)})", file=path) from error


def gunzip(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            packed = handle.read()
        return gzip.decompress(packed)
    except EOFError as error:
        raise DataError("truncated gzip file: the compressed data ends early", file=path) from error
    except Exception as error:  # BadGzipFile (bad magic or CRC), zlib.error, OSError
        raise DataError(f"not a valid gzip file ({reason(error)})", file=path) from error


def read_idx(path: str, ndim: int) -> np.ndarray:
    """An IDX file of unsigned bytes with ``ndim`` dimensions (3 for images, 1 for labels)."""
    raw = gunzip(path)
    expected = 0x0800 | ndim
    if len(raw) < 4:
        raise DataError(f"truncated IDX file: {len(raw)} bytes, shorter than the 4-byte magic number", file=path)
    magic = int.from_bytes(raw[:4], "big")
    if magic != expected:
        raise DataError(f"wrong IDX magic number 0x{magic:08X}, expected 0x{expected:08X} "
                        f"(unsigned bytes, {ndim}-D)", file=path)
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"truncated IDX file: {len(raw)} bytes, shorter than its {header}-byte header", file=path)
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    size = prod(dims)
    if len(raw) - header != size:
        problem = "truncated IDX file" if len(raw) - header < size else "IDX file has extra bytes"
        raise DataError(f"{problem}: dimensions {'x'.join(map(str, dims))} need {size} bytes of data, "
                        f"found {len(raw) - header}", file=path)
    return np.frombuffer(raw, np.uint8, offset=header).reshape(dims).copy()


def read_idx_set(folder: Path) -> dict[str, np.ndarray]:
    """The four IDX ``.gz`` files of MNIST or Fashion-MNIST in one folder."""
    arrays = {}
    for split, (images_name, labels_name) in IDX_FILES.items():
        images_file, labels_file = str(folder / images_name), str(folder / labels_name)
        images = read_idx(images_file, 3)
        labels = read_idx(labels_file, 1)
        if len(labels) != len(images):
            raise DataError(f"has {len(labels)} labels but {images_file} has {len(images)} images",
                            file=labels_file)
        arrays[f"x_{split}"], arrays[f"y_{split}"] = images, labels
    return arrays


# CIFAR: member names inside cifar-10-batches-py/ and cifar-100-python/
CIFAR_MEMBERS = {
    "cifar10": {"train": tuple(f"data_batch_{i}" for i in range(1, 6)), "test": ("test_batch",),
                "meta": "batches.meta", "labels": b"labels", "names": b"label_names"},
    "cifar100": {"train": ("train",), "test": ("test",),
                 "meta": "meta", "labels": b"fine_labels", "names": b"fine_label_names"},
}


def _cifar_members(kind: str) -> tuple[str, ...]:
    spec = CIFAR_MEMBERS[kind]
    return (*spec["train"], *spec["test"], spec["meta"])


# A batch as (file, member, bytes): file is what errors name; member is its path inside an archive.
Batch = tuple[str, "str | None", bytes]


def _read_cifar_tar(archive: str, kind: str) -> dict[str, Batch]:
    names = set(_cifar_members(kind))
    # the batches sit in one top folder (cifar-10-batches-py/); accept them at the top too
    found: dict[str, Batch] = {}
    for parts, data in iter_tar(archive, lambda parts: len(parts) <= 2 and parts[-1] in names):
        if data is not None:
            if parts[-1] in found:
                raise DataError(f"has {parts[-1]} twice", file=archive)
            found[parts[-1]] = (archive, "/".join(parts), data)
    return found


def _read_cifar_dir(folder: Path, kind: str) -> dict[str, Batch]:
    found = {}
    for name in _cifar_members(kind):
        path = folder / name
        if path.is_symlink():
            raise DataError("refusing a symlinked CIFAR batch", file=str(path))
        if path.is_file():
            try:
                found[name] = (str(path), None, path.read_bytes())
            except OSError as error:
                raise DataError(f"cannot read ({reason(error)})", file=str(path)) from error
    return found


def _decode_batch(kind: str, file: str, member: str | None, data: bytes) -> tuple[np.ndarray, np.ndarray]:
    batch = safe_unpickle(data, file, member)
    if not isinstance(batch, dict):
        raise DataError(f"is a pickled {type(batch).__name__}, expected a dict", file=file, path=member)
    batch = {key.decode("latin1") if isinstance(key, bytes) else key: value for key, value in batch.items()}
    label_key = CIFAR_MEMBERS[kind]["labels"].decode()
    if "data" not in batch or label_key not in batch:
        raise DataError(f"has no 'data' and '{label_key}' entries (found: {', '.join(map(str, batch))})",
                        file=file, path=member)
    pixels, labels = batch["data"], batch[label_key]
    if not isinstance(pixels, np.ndarray) or pixels.dtype != np.uint8 or pixels.ndim != 2 or pixels.shape[1] != 3072:
        shape = getattr(pixels, "shape", type(pixels).__name__)
        raise DataError(f"'data' is {shape} {getattr(pixels, 'dtype', '')}, expected uint8 (N, 3072)",
                        file=file, path=member)
    try:
        labels = np.asarray(labels)
    except Exception as error:
        raise DataError(f"'{label_key}' is not a list of integers ({reason(error)})", file=file, path=member) from error
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise DataError(f"'{label_key}' is not a list of integers", file=file, path=member)
    if len(labels) != len(pixels):
        raise DataError(f"has {len(labels)} {label_key} for {len(pixels)} images", file=file, path=member)
    # each row is 1024 red, 1024 green, 1024 blue bytes of a 32x32 image in row-major order
    return pixels.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels.astype(np.int64)


def _decode_names(kind: str, file: str, member: str | None, data: bytes) -> tuple[str, ...]:
    meta = safe_unpickle(data, file, member)
    key = CIFAR_MEMBERS[kind]["names"]
    names = meta.get(key, meta.get(key.decode())) if isinstance(meta, dict) else None
    if not isinstance(names, list) or not all(isinstance(n, (bytes, str)) for n in names):
        raise DataError(f"has no list of '{key.decode()}'", file=file, path=member)
    return tuple(n.decode("utf-8", "replace") if isinstance(n, bytes) else n for n in names)


def read_cifar(path: str, kind: str) -> tuple[dict[str, np.ndarray], tuple[str, ...]]:
    """CIFAR-10 or CIFAR-100 (fine labels) from the official tar.gz or its extracted folder."""
    spec = CIFAR_MEMBERS[kind]
    found = _read_cifar_dir(Path(path), kind) if os.path.isdir(path) else _read_cifar_tar(path, kind)
    missing = [name for name in _cifar_members(kind) if name not in found]
    if missing:
        raise DataError(f"has no {', '.join(missing)}; is it the official python version?", file=path)

    arrays = {}
    for split in ("train", "test"):
        batches = [_decode_batch(kind, *found[name]) for name in spec[split]]
        count = sum(len(labels) for _, labels in batches)
        x = np.empty((count, 32, 32, 3), np.uint8)
        y = np.empty(count, np.int64)
        start = 0
        for pixels, labels in batches:
            x[start:start + len(labels)] = pixels
            y[start:start + len(labels)] = labels
            start += len(labels)
        arrays[f"x_{split}"], arrays[f"y_{split}"] = x, y
    names = _decode_names(kind, *found[spec["meta"]])
    return arrays, names
