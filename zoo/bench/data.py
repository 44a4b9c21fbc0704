"""Benchmark batches, held in memory as float32 NHWC so the timed loop reads no files."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from zoo.errors import ShapeError, ZooError
from zoo.plan.ops import shape_text

DATASETS = ("synthetic", "mnist", "cifar10")
REAL_BATCHES = 8  # distinct batches of real data cycled through the timed steps


@dataclass(frozen=True)
class Batches:
    x: list[np.ndarray]
    y: list[np.ndarray]
    input_shape: tuple[int, int, int]
    source: str

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        i = step % len(self.x)
        return self.x[i], self.y[i]


def dataset_shape(dataset: str) -> tuple[int, int, int] | None:
    """The image shape a real dataset fixes, known without loading it."""
    return {"mnist": (28, 28, 1), "cifar10": (32, 32, 3)}.get(dataset)


def dataset_classes(dataset: str) -> int | None:
    """A real dataset's classes: the default for ``--classes`` when it feeds the benchmark."""
    return {"mnist": 10, "cifar10": 10}.get(dataset)


def synthetic(input_shape: tuple[int, int, int], classes: int, batch_size: int, seed: int = 0) -> Batches:
    rng = np.random.default_rng(seed)
    x = rng.random((batch_size, *input_shape), dtype=np.float32)
    y = rng.integers(0, classes, size=batch_size, dtype=np.int64)
    return Batches([x], [y], tuple(input_shape), "synthetic")


@lru_cache(maxsize=1)  # several models in one run share the arrays
def _load(dataset: str, data_dir: str | None):
    from zoo.data import load_dataset  # only when real data is asked for

    return load_dataset(dataset, data_dir)


def real(dataset: str, input_shape: tuple[int, int, int], classes: int, batch_size: int,
         data_dir: str | None = None) -> Batches:
    """Up to REAL_BATCHES batches of the training split, scaled to [0, 1]."""
    data = _load(dataset, data_dir)
    x_all, y_all = data.x_train, data.y_train
    if tuple(x_all.shape[1:]) != tuple(input_shape):
        raise ShapeError(f"--dataset {dataset} holds {shape_text(x_all.shape[1:])} images; "
                         f"--input-shape {shape_text(input_shape)} does not match")
    top = int(y_all.max()) + 1
    if classes < top:
        raise ZooError(f"--dataset {dataset} has {top} classes; --classes {classes} is too few")
    count = min(REAL_BATCHES, len(x_all) // batch_size)
    if count == 0:
        raise ZooError(f"--dataset {dataset} has {len(x_all)} training images, fewer than one batch of {batch_size}")
    xs = [x_all[i * batch_size:(i + 1) * batch_size].astype(np.float32) / 255.0 for i in range(count)]
    ys = [y_all[i * batch_size:(i + 1) * batch_size].astype(np.int64) for i in range(count)]
    return Batches(xs, ys, tuple(input_shape), dataset)


def make_batches(dataset: str, input_shape: tuple[int, int, int], classes: int, batch_size: int,
                 data_dir: str | None = None) -> Batches:
    if dataset == "synthetic":
        return synthetic(input_shape, classes, batch_size)
    return real(dataset, input_shape, classes, batch_size, data_dir)

