"""The loaded dataset, its error type, and the checks every format's arrays pass through."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from zoo.errors import ZooError


class DataError(ZooError):
    """A dataset is missing, unreadable, corrupt or unsafe. ``str()`` is one line naming the file."""


@dataclass(frozen=True, eq=False)
class Dataset:
    """Train and test arrays: images uint8 (N, H, W, C), labels int64 (N,)."""

    name: str
    label: str
    x_train: np.ndarray = field(repr=False)
    y_train: np.ndarray = field(repr=False)
    x_test: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)
    class_names: tuple[str, ...]
    source: str

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(int(d) for d in self.x_train.shape[1:])


def reason(error: BaseException) -> str:
    """A low-level exception as a short single line, for the end of a DataError message."""
    text = " ".join(str(error).split()) or "no details"
    if len(text) > 160:
        text = text[:157] + "..."
    return f"{type(error).__name__}: {text}"


def check_images(x, file: str, what: str) -> np.ndarray:
    """uint8 images as (N, H, W, C); a 3-D (N, H, W) array gets C=1."""
    if not isinstance(x, np.ndarray):
        raise DataError(f"{what} is a {type(x).__name__}, expected a uint8 array", file=file)
    if x.dtype != np.uint8:
        raise DataError(f"{what} has dtype {x.dtype}, expected uint8", file=file)
    if x.ndim == 3:
        x = x[..., np.newaxis]
    if x.ndim != 4 or min(x.shape[1:]) < 1:
        raise DataError(f"{what} has shape {x.shape}, expected (N, H, W) or (N, H, W, C)", file=file)
    return x


def check_labels(y, count: int, classes: int, file: str, what: str) -> np.ndarray:
    """int64 labels (N,) in ``range(classes)``; Keras's (N, 1) column is flattened."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or y.dtype.kind not in "iu":
        raise DataError(f"{what} has shape {y.shape} and dtype {y.dtype}, expected integer labels (N,)",
                        file=file)
    if len(y) != count:
        raise DataError(f"{what} has {len(y)} labels but there are {count} images", file=file)
    if len(y) and (y.min() < 0 or y.max() >= classes):
        raise DataError(f"{what} has labels from {y.min()} to {y.max()}, expected 0 to {classes - 1}",
                        file=file)
    return y.astype(np.int64)


def make_dataset(name: str, label: str, arrays: dict, class_names, source: str) -> Dataset:
    """Check ``x_train, y_train, x_test, y_test`` from any format and wrap them."""
    class_names = tuple(class_names)
    x_train = check_images(arrays["x_train"], source, "x_train")
    x_test = check_images(arrays["x_test"], source, "x_test")
    if x_train.shape[1:] != x_test.shape[1:]:
        raise DataError(f"x_train images are {x_train.shape[1:]} but x_test images are {x_test.shape[1:]}",
                        file=source)
    y_train = check_labels(arrays["y_train"], len(x_train), len(class_names), source, "y_train")
    y_test = check_labels(arrays["y_test"], len(x_test), len(class_names), source, "y_test")
    return Dataset(name, label, x_train, y_train, x_test, y_test, class_names, str(source))
