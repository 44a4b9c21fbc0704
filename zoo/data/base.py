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


MAX_CLASSES = 100_000  # labels of a dataset without a class list become class names: bound them first


def check_labels(y, count: int | None, classes: int, file: str, what: str, limit: str = "") -> np.ndarray:
    """int64 labels (N,) in ``range(classes)``; Keras's (N, 1) column is flattened.

    The first label out of range is named with its index, before anything is built from the values.
    """
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or y.dtype.kind not in "iu":
        raise DataError(f"{what} has shape {y.shape} and dtype {y.dtype}, expected integer labels (N,)",
                        file=file)
    if count is not None and len(y) != count:
        raise DataError(f"{what} has {len(y)} labels but there are {count} images", file=file)
    bad = np.flatnonzero(y >= classes) if y.dtype.kind == "u" else np.flatnonzero((y < 0) | (y >= classes))
    if len(bad):
        index = int(bad[0])
        raise DataError(f"{what}[{index}] is {y[index].item()}, expected a label from 0 to {classes - 1}{limit}",
                        file=file)
    return y.astype(np.int64)


def label_classes(arrays: dict, file: str) -> int:
    """How many classes a dataset without a class list has: its largest label + 1, at most MAX_CLASSES."""
    top = -1
    for what in ("y_train", "y_test"):
        y = check_labels(arrays[what], None, MAX_CLASSES, file, what, f" (zoo takes at most {MAX_CLASSES:,} classes)")
        if len(y):
            top = max(top, int(y.max()))
    return top + 1


def make_dataset(name: str, label: str, arrays: dict, class_names, source: str) -> Dataset:
    """Check ``x_train, y_train, x_test, y_test`` from any format and wrap them."""
    class_names = tuple(class_names)
    x_train = check_images(arrays["x_train"], source, "x_train")
    x_test = check_images(arrays["x_test"], source, "x_test")
    for what, x in (("train", x_train), ("test", x_test)):
        if len(x) == 0:
            raise DataError(f"the {what} split is empty (x_{what} has 0 images)", file=source)
    if x_train.shape[1:] != x_test.shape[1:]:
        raise DataError(f"x_train images are {x_train.shape[1:]} but x_test images are {x_test.shape[1:]}",
                        file=source)
    if len(class_names) < 2:
        raise DataError(f"has {len(class_names)} class{'' if len(class_names) == 1 else 'es'}"
                        f"{''.join(f' ({n})' for n in class_names)}; a classifier needs at least 2", file=source)
    y_train = check_labels(arrays["y_train"], len(x_train), len(class_names), source, "y_train")
    y_test = check_labels(arrays["y_test"], len(x_test), len(class_names), source, "y_test")
    if len(np.unique(y_train)) < 2:
        raise DataError(f"every training label is {y_train[0]} ({class_names[y_train[0]]}); "
                        "a classifier needs examples of at least 2 classes", file=source)
    return Dataset(name, label, x_train, y_train, x_test, y_test, class_names, str(source))
