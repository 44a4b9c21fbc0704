"""``load_dataset``: find a dataset's standard files, read them safely, return uint8 arrays.

Known names are looked up in ``data_dir``, then ``$ZOO_DATA``, then Keras's cache, then (if
allowed) fetched by Keras's own downloader. Anything else is a path: an ``.npz``, a CIFAR archive
or folder, an IDX folder, or an image folder (folder or tar archive). Keras is imported only
for the download.
"""

from __future__ import annotations

import importlib
import os
import time
from pathlib import Path

import numpy as np

from zoo.data import cache
from zoo.data.archive import is_tar_name, strip_tar_suffix
from zoo.data.base import DataError, Dataset, label_classes, make_dataset, reason
from zoo.data.budget import DEFAULT_MAX_PIXELS, Budget, Limits, Progress, size_text
from zoo.data.formats import IDX_NAMES, read_cifar, read_idx_set, read_npz
from zoo.data.images import decode, scan_folder, scan_tar
from zoo.data.known import (CIFAR10, CIFAR100, DIGITS, FASHION, IDX_FORM, JPEG_COPY_LABEL, KNOWN, KNOWN_DATASETS,
                            Known, canonical, find, keras_datasets_dir, partial_idx, search_places)
from zoo.safefile import check_regular

ANNOUNCE_FROM = 1000  # images: fewer decode in about a second, and need no word before they are done

__all__ = ["Dataset", "DataError", "load_dataset", "KNOWN_DATASETS", "keras_datasets_dir",
           "CIFAR10", "CIFAR100", "DIGITS", "FASHION"]


def _download(name: str, known: Known) -> tuple[Dataset | None, str]:
    """Keras's own downloader (which caches where the search looks next time); never raises."""
    try:
        module = importlib.import_module(f"keras.datasets.{name}")
        (x_train, y_train), (x_test, y_test) = module.load_data()
        arrays = {"x_train": _channels_last(x_train), "y_train": y_train,
                  "x_test": _channels_last(x_test), "y_test": y_test}
        return make_dataset(name, known.label, arrays, known.class_names, f"keras.datasets.{name}.load_data()"), ""
    except Exception as error:  # no network, no keras, a bad download, a failed check: all mean "not found"
        return None, reason(error)


def _channels_last(x) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim == 4 and x.shape[1] in (1, 3) and x.shape[-1] not in (1, 3):  # keras image_data_format channels_first
        x = x.transpose(0, 2, 3, 1)
    return np.ascontiguousarray(x)


def _read(name: str, label: str, kind: str, path: Path, class_names, cache_dir, limits: Limits) -> Dataset:
    source = str(path)
    if kind == "npz":
        arrays = read_npz(source, limits.budget)
        if class_names is None:  # an unknown .npz: classes are the label values, checked before names are made
            class_names = tuple(str(i) for i in range(label_classes(arrays, source)))
        return make_dataset(name, label, arrays, class_names, source)
    if kind == "idx":
        return make_dataset(name, label, read_idx_set(path, limits.budget), class_names, source)
    if kind in ("cifar10", "cifar100"):
        arrays, names = read_cifar(source, kind, limits.budget)
        expected = len(CIFAR10 if kind == "cifar10" else CIFAR100)
        if len(names) != expected:
            raise DataError(f"lists {len(names)} class names, expected {expected}", file=source)
        return make_dataset(name, label, arrays, names, source)
    return _read_images(name, label, path, class_names, cache_dir, limits)


def _read_images(name: str, label: str, path: Path, class_names, cache_dir, limits: Limits) -> Dataset:
    """An image folder or archive, decoded once and then read from the cache."""
    source = str(path)
    layout = None
    try:
        if path.is_dir():
            layout = scan_folder(source)
            key = cache.folder_key(source, layout)
        else:
            check_regular(path, DataError)
            key = cache.archive_key(source)
    except OSError as error:
        raise DataError(f"cannot read ({reason(error)})", file=source) from error
    resolved = strip_tar_suffix(Path(os.path.realpath(path)).name)
    where = cache.cache_path(cache.cache_folder(cache_dir), resolved, key)
    cached = cache.load(where, limits.budget)
    if cached is not None:
        arrays, names = cached
    else:
        started = time.monotonic()
        layout = layout or scan_tar(source, limits.budget)
        count = len(layout.train) + len(layout.test)
        if count >= ANNOUNCE_FROM:
            limits.say(f"decoding {count:,} images from {source} (only this once: they are cached)")
        arrays, names = decode(layout, limits), layout.class_names
        seconds = time.monotonic() - started
        if cache.save(where, arrays, names):
            limits.say(f"decoded {count:,} images in {seconds:.1f} s; cached in {where} "
                       f"({size_text(where.stat().st_size)}); later runs read that")
    if class_names is not None:  # a known dataset's copy: same classes, in the official order
        if sorted(names) != sorted(class_names):
            raise DataError(f"class folders are {', '.join(names)}; expected {', '.join(class_names)}", file=source)
        order = np.array([class_names.index(n) for n in names], np.int64)
        arrays = {**arrays, "y_train": order[arrays["y_train"]], "y_test": order[arrays["y_test"]]}
        names = class_names
    return make_dataset(name, label, arrays, names, source)


def _given_file(name: str, known: Known, data_dir) -> tuple[str, str, Path, tuple[str, ...]] | None:
    """(label, format, path, class names) when ``data_dir`` is the dataset itself, not a folder holding it."""
    if data_dir is None:
        return None
    path = Path(data_dir).expanduser()
    if not path.exists():
        return None
    found, label, kind, _ = _identify(path)
    if path.is_dir() and kind not in ("cifar10", "cifar100"):
        return None  # a folder to search in (an IDX folder is found by the search itself)
    if found in KNOWN and found != name:
        raise DataError(f"holds {KNOWN[found].label}, not {known.label}; use --dataset {found}", file=str(path))
    if kind == "images":
        if name != "cifar10":
            raise DataError(f"is an image archive, not {known.label}'s files; train on it with --dataset {path}",
                            file=str(path))
        return JPEG_COPY_LABEL, kind, path, known.class_names
    if kind == "npz":  # any .npz given for a known name is read as that dataset, with its classes
        if name in ("cifar10", "cifar100"):
            raise DataError(f"is an .npz file; {known.label} is read from {known.wanted}", file=str(path))
        return known.label, kind, path, known.class_names
    return label, kind, path, None if kind in ("cifar10", "cifar100") else known.class_names


def _load_known(name: str, data_dir, download: bool, cache_dir, limits: Limits) -> Dataset:
    known = KNOWN[name]
    if data_dir is not None and Path(data_dir).name in IDX_NAMES and IDX_FORM in known.files:
        data_dir = Path(data_dir).expanduser().parent  # one of the four IDX files: the set is in its folder
    given = _given_file(name, known, data_dir)
    if given is not None:
        label, kind, path, class_names = given
        return _read(name, label, kind, path, class_names, cache_dir, limits)
    places = search_places(data_dir)
    found = find(known, places, known.files)
    if found is not None:
        return _read(name, known.label, *found, known.class_names, cache_dir, limits)
    found = find(known, places, known.fallback)
    if found is not None:
        return _read(name, JPEG_COPY_LABEL, *found, known.class_names, cache_dir, limits)
    failure = "download skipped (download=False)"
    if download:
        dataset, why = _download(name, known)
        if dataset is not None:
            return dataset
        failure = f"Keras download failed ({why})"
    subfolders = " or ".join(f"{sub}/" for sub in known.folders)
    notes = "".join(f"; {note}" for note in partial_idx(known, places))
    raise DataError(f"{name}: no data found; looked in {', '.join(desc for desc, _ in places)} "
                    f"(each also in a {subfolders} subfolder) for {known.wanted}{notes}; {failure}")


def _identify(path: Path) -> tuple[str, str, str, tuple[str, ...] | None]:
    """(name, label, format, class names or None) for a file or folder given by path."""
    base = path.name
    lower = base.lower()
    stem = strip_tar_suffix(base)
    if not path.is_dir():
        check_regular(path, DataError)  # a device or FIFO is refused by name, before it is opened
    if path.is_dir():
        if all((path / n).is_file() for n in IDX_NAMES):
            name = "fashion_mnist" if "fashion" in lower else "mnist"
            return name, KNOWN[name].label, "idx", KNOWN[name].class_names
        if (path / "data_batch_1").is_file():
            return "cifar10", KNOWN["cifar10"].label, "cifar10", None
        if (path / "meta").is_file() and (path / "train").is_file():
            return "cifar100", KNOWN["cifar100"].label, "cifar100", None
    elif lower.endswith(".npz"):
        key = canonical(base[:-4])
        if key in ("mnist", "fashion_mnist"):
            return key, KNOWN[key].label, "npz", KNOWN[key].class_names
        return base[:-4], base[:-4], "npz", None
    elif not is_tar_name(base):
        raise DataError("unsupported file: expected an .npz, a tar archive (.tar.gz, .tgz, .tar) or a folder",
                        file=str(path))
    elif lower.startswith(("cifar-10-python", "cifar-10-batches-py")):
        return "cifar10", KNOWN["cifar10"].label, "cifar10", None
    elif lower.startswith("cifar-100-python"):
        return "cifar100", KNOWN["cifar100"].label, "cifar100", None
    if stem == "cifar10-jpeg":
        return stem, JPEG_COPY_LABEL, "images", CIFAR10
    return stem, stem, "images", None


def _load_path(name_or_path, data_dir, cache_dir, limits: Limits) -> Dataset:
    text = os.fspath(name_or_path)
    path = Path(text).expanduser()
    if not path.exists() and "/" not in text and os.sep not in text:
        places = search_places(data_dir)
        tried = [place / f"{text}{suffix}" for _, place in places if place is not None
                 for suffix in ("", ".tar.gz", ".tgz", ".tar")]
        path = next((p for p in tried if p.exists()), path)
        if not path.exists():
            raise DataError(f"unknown dataset {text!r}: not one of {', '.join(KNOWN_DATASETS)} and no file or folder "
                            f"{text}, {text}.tar.gz, {text}.tgz or {text}.tar here or in "
                            f"{', '.join(desc for desc, _ in places)}")
    if not path.exists():
        raise DataError("no such file or folder", file=text)
    name, label, kind, class_names = _identify(path)
    return _read(name, label, kind, path, class_names, cache_dir, limits)


def load_dataset(name_or_path: str | os.PathLike, data_dir: str | os.PathLike | None = None, *,
                 download: bool = True, cache_dir: str | os.PathLike | None = None,
                 max_memory: str | int | None = None, max_pixels: int = DEFAULT_MAX_PIXELS,
                 progress: Progress | None = None) -> Dataset:
    """A dataset by name (``mnist``, ``fashion_mnist``, ``cifar10``, ``cifar100``) or by path.

    A known name always means that dataset; write ``./mnist`` for a folder called mnist. ``data_dir``
    is a folder to search, or the dataset's own file (``.../mnist.npz``).
    Image folders are decoded once and cached under ``cache_dir``, ``$ZOO_CACHE`` or ``~/.cache/zoo``;
    ``progress`` (if given) receives one-line messages while that takes time.
    Every file's declared sizes are checked before allocating: at most ``max_memory`` bytes in all
    (``"4G"``, ``"512M"`` or an int; default half the available memory) and ``max_pixels`` per image.
    Raises DataError (one line) when nothing is found or a file is corrupt, unsafe or too large.
    """
    limits = Limits(Budget.create(max_memory), max_pixels, progress)
    name = canonical(name_or_path)
    if name is not None:
        return _load_known(name, data_dir, download, cache_dir, limits)
    return _load_path(name_or_path, data_dir, cache_dir, limits)
