"""The standard files: Keras's ``mnist.npz``, the IDX ``.gz`` files, and CIFAR's python batches.

Each reader returns ``{"x_train", "y_train", "x_test", "y_test"}`` (plus class names for CIFAR)
and turns every low-level failure into a one-line DataError naming the file.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from zoo.data import npz
from zoo.data.archive import iter_tar, safe_unpickle
from zoo.data.base import DataError, reason
from zoo.data.budget import Budget
from zoo.data.idx import IDX_NAMES, read_idx, read_idx_set
from zoo.safefile import read_capped

NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
__all__ = ["IDX_NAMES", "NPZ_KEYS", "read_cifar", "read_idx", "read_idx_set", "read_npz"]


def read_npz(path: str, budget: Budget | None = None) -> dict[str, np.ndarray]:
    """Keras's ``mnist.npz`` layout; never unpickles, and refuses arrays over the memory budget."""
    return npz.read_npz(path, NPZ_KEYS, budget or Budget.create())


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


def _read_cifar_tar(archive: str, kind: str, budget: Budget) -> dict[str, Batch]:
    names = set(_cifar_members(kind))
    # the batches sit in one top folder (cifar-10-batches-py/); accept them at the top too
    found: dict[str, Batch] = {}
    for parts, data in iter_tar(archive, lambda parts: len(parts) <= 2 and parts[-1] in names, budget):
        if data is not None:
            if parts[-1] in found:
                raise DataError(f"has {parts[-1]} twice", file=archive)
            found[parts[-1]] = (archive, "/".join(parts), data)
    return found


def _read_cifar_dir(folder: Path, kind: str, budget: Budget) -> dict[str, Batch]:
    found = {}
    for name in _cifar_members(kind):
        path = folder / name
        if path.is_symlink():
            raise DataError("refusing a symlinked CIFAR batch", file=str(path))
        if path.exists():  # anything but a regular file is refused when opened
            size = path.stat().st_size
            budget.take(size, "CIFAR batch", file=str(path))
            found[name] = (str(path), None, read_capped(path, size, DataError, what="CIFAR batch"))
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


def read_cifar(path: str, kind: str, budget: Budget | None = None) -> tuple[dict[str, np.ndarray], tuple[str, ...]]:
    """CIFAR-10 or CIFAR-100 (fine labels) from the official tar.gz or its extracted folder."""
    spec = CIFAR_MEMBERS[kind]
    budget = budget or Budget.create()
    found = (_read_cifar_dir(Path(path), kind, budget) if os.path.isdir(path)
             else _read_cifar_tar(path, kind, budget))
    missing = [name for name in _cifar_members(kind) if name not in found]
    if missing:
        raise DataError(f"has no {', '.join(missing)}; is it the official python version?", file=path)

    arrays = {}
    for split in ("train", "test"):
        batches = [_decode_batch(kind, *found[name]) for name in spec[split]]
        count = sum(len(labels) for _, labels in batches)
        budget.take(count * (32 * 32 * 3 + 8), f"{count} CIFAR {split} images", file=path)
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
