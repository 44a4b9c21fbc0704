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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zoo.data import cache
from zoo.data.archive import is_tar_name, strip_tar_suffix
from zoo.data.base import DataError, Dataset, label_classes, make_dataset, reason
from zoo.data.budget import DEFAULT_MAX_PIXELS, Budget, Limits, Progress, size_text
from zoo.data.formats import IDX_NAMES, read_cifar, read_idx_set, read_npz
from zoo.data.images import decode, scan_folder, scan_tar
from zoo.safefile import check_regular

__all__ = ["Dataset", "DataError", "load_dataset", "KNOWN_DATASETS", "keras_datasets_dir"]

DIGITS = tuple(str(i) for i in range(10))
FASHION = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
CIFAR10 = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
CIFAR100 = (
    "apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus butterfly camel "
    "can castle caterpillar cattle chair chimpanzee clock cloud cockroach couch crab crocodile cup dinosaur "
    "dolphin elephant flatfish forest fox girl hamster house kangaroo keyboard lamp lawn_mower leopard lion "
    "lizard lobster man maple_tree motorcycle mountain mouse mushroom oak_tree orange orchid otter palm_tree "
    "pear pickup_truck pine_tree plain plate poppy porcupine possum rabbit raccoon ray road rocket rose sea "
    "seal shark shrew skunk skyscraper snail snake spider squirrel streetcar sunflower sweet_pepper table "
    "tank telephone television tiger tractor train trout tulip turtle wardrobe whale willow_tree wolf woman worm"
).split()
JPEG_COPY_LABEL = "CIFAR-10 (JPEG copy)"
ANNOUNCE_FROM = 1000  # images: fewer decode in about a second, and need no word before they are done


@dataclass(frozen=True)
class Known:
    """Where a standard dataset may sit. ``files`` are (format, path relative to a search folder)."""

    label: str
    folders: tuple[str, ...]  # subfolders of each place that may hold the files, e.g. fashion-mnist/
    files: tuple[tuple[str, str], ...]
    wanted: str  # the file names to put there, for the not-found message
    class_names: tuple[str, ...]
    fallback: tuple[tuple[str, str], ...] = ()  # an unofficial copy used only when no official file is found


_IDX = ("idx", ".")
_IDX_WANTED = "the four IDX files " + ", ".join(IDX_NAMES)
KNOWN = {
    "mnist": Known("MNIST", ("mnist",), (("npz", "mnist.npz"), _IDX),
                   f"mnist.npz or {_IDX_WANTED}", DIGITS),
    "fashion_mnist": Known("Fashion-MNIST", ("fashion-mnist", "fashion_mnist"),
                           (_IDX, ("npz", "fashion-mnist.npz"), ("npz", "fashion_mnist.npz")),
                           f"{_IDX_WANTED} (Keras keeps them in fashion-mnist/) or fashion-mnist.npz", FASHION),
    "cifar10": Known("CIFAR-10", ("cifar10", "cifar-10"),
                     (("cifar10", "cifar-10-python.tar.gz"), ("cifar10", "cifar-10-batches-py"),
                      ("cifar10", "cifar-10-batches-py-target/cifar-10-batches-py"),  # Keras 3's extraction
                      ("cifar10", "cifar-10-batches-py.tar.gz")),  # older Keras's download name
                     "cifar-10-python.tar.gz or its extracted cifar-10-batches-py/ "
                     "(or the image-folder copy cifar10-jpeg.tar.gz or cifar10-jpeg/)", CIFAR10,
                     fallback=(("images", "cifar10-jpeg.tar.gz"), ("images", "cifar10-jpeg"))),
    "cifar100": Known("CIFAR-100", ("cifar100", "cifar-100"),
                      (("cifar100", "cifar-100-python.tar.gz"), ("cifar100", "cifar-100-python"),
                       ("cifar100", "cifar-100-python-target/cifar-100-python")),
                      "cifar-100-python.tar.gz or its extracted cifar-100-python/", CIFAR100),
}
KNOWN_DATASETS = tuple(KNOWN)
_ALIASES = {"cifar_10": "cifar10", "cifar_100": "cifar100", "fashionmnist": "fashion_mnist"}


def keras_datasets_dir() -> Path:
    """Where ``keras.datasets`` caches downloads: ``$KERAS_HOME/datasets``, else ``~/.keras/datasets``."""
    home = os.environ.get("KERAS_HOME")
    if not home:
        base = os.path.expanduser("~")
        home = os.path.join(base if os.access(base, os.W_OK) else "/tmp", ".keras")
    return Path(home, "datasets")


def _places(data_dir) -> list[tuple[str, Path | None]]:
    """(description, folder) in search order; folder None when that place is not set."""
    places = [(f"data_dir {data_dir}" if data_dir is not None else "data_dir (not given)",
               Path(data_dir) if data_dir is not None else None)]
    zoo_data = [p for p in os.environ.get("ZOO_DATA", "").split(os.pathsep) if p]
    places += [(f"$ZOO_DATA {p}", Path(p)) for p in zoo_data] or [("$ZOO_DATA (not set)", None)]
    places.append((f"the Keras cache {keras_datasets_dir()}", keras_datasets_dir()))
    return places


def _present(kind: str, path: Path) -> bool:
    if kind == "idx":
        return all((path / name).is_file() for name in IDX_NAMES)
    if kind == "npz" or is_tar_name(path.name):
        return path.is_file()
    return path.is_dir()


def _find(known: Known, places, files) -> tuple[str, Path] | None:
    for _, place in places:
        if place is None:
            continue
        for folder in (place, *(place / sub for sub in known.folders)):
            for kind, rel in files:
                if _present(kind, folder / rel):
                    return kind, folder / rel
    return None


def _partial_idx(known: Known, places) -> list[str]:
    """Folders holding some but not all four IDX files: worth naming in the error."""
    notes = []
    if _IDX not in known.files:
        return notes
    for _, place in places:
        if place is None:
            continue
        for folder in (place, *(place / sub for sub in known.folders)):
            have = [name for name in IDX_NAMES if (folder / name).is_file()]
            if have:
                missing = [name for name in IDX_NAMES if name not in have]
                notes.append(f"{folder} has an incomplete IDX set (missing {', '.join(missing)})")
    return notes


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


def _canonical(name_or_path) -> str | None:
    if not isinstance(name_or_path, str) or "/" in name_or_path or os.sep in name_or_path:
        return None
    key = name_or_path.strip().lower().replace("-", "_")
    key = _ALIASES.get(key, key)
    return key if key in KNOWN else None


def _given_file(name: str, known: Known, data_dir) -> tuple[str, str, Path, tuple[str, ...]] | None:
    """(label, format, path, class names) when ``data_dir`` is the dataset itself, not a folder holding it."""
    if data_dir is None:
        return None
    path = Path(data_dir).expanduser()
    if not path.exists() or (path.is_dir() and not (path / "data_batch_1").is_file()
                             and not ((path / "meta").is_file() and (path / "train").is_file())):
        return None  # a folder to search in (an IDX folder is found by the search itself)
    found, label, kind, _ = _identify(path)
    if found in KNOWN and found != name:
        raise DataError(f"holds {KNOWN[found].label}, not {known.label}; use --dataset {found}", file=str(path))
    if kind == "images":
        if name != "cifar10":
            raise DataError(f"is an image folder, not {known.label}; train on it with --dataset {path} "
                            f"instead of --dataset {name}", file=str(path))
        return JPEG_COPY_LABEL, kind, path, known.class_names
    if kind == "npz":  # any .npz given for a known name is read as that dataset, with its classes
        if name in ("cifar10", "cifar100"):
            raise DataError(f"is an .npz file; {known.label} is read from {known.wanted}", file=str(path))
        return known.label, kind, path, known.class_names
    return label, kind, path, None if kind in ("cifar10", "cifar100") else known.class_names


def _load_known(name: str, data_dir, download: bool, cache_dir, limits: Limits) -> Dataset:
    known = KNOWN[name]
    if data_dir is not None and Path(data_dir).name in IDX_NAMES and _IDX in known.files:
        data_dir = Path(data_dir).expanduser().parent  # one of the four IDX files: the set is in its folder
    given = _given_file(name, known, data_dir)
    if given is not None:
        label, kind, path, class_names = given
        return _read(name, label, kind, path, class_names, cache_dir, limits)
    places = _places(data_dir)
    found = _find(known, places, known.files)
    if found is not None:
        return _read(name, known.label, *found, known.class_names, cache_dir, limits)
    found = _find(known, places, known.fallback)
    if found is not None:
        return _read(name, JPEG_COPY_LABEL, *found, known.class_names, cache_dir, limits)
    failure = "download skipped (download=False)"
    if download:
        dataset, why = _download(name, known)
        if dataset is not None:
            return dataset
        failure = f"Keras download failed ({why})"
    subfolders = " or ".join(f"{sub}/" for sub in known.folders)
    notes = "".join(f"; {note}" for note in _partial_idx(known, places))
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
        key = _canonical(base[:-4])
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
        places = _places(data_dir)
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
    name = _canonical(name_or_path)
    if name is not None:
        return _load_known(name, data_dir, download, cache_dir, limits)
    return _load_path(name_or_path, data_dir, cache_dir, limits)
