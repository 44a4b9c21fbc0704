"""The standard datasets zoo knows by name, and where their files may sit: the search order of ``load_dataset``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from zoo.data.archive import is_tar_name
from zoo.data.idx import IDX_NAMES

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


@dataclass(frozen=True)
class Known:
    """Where a standard dataset may sit. ``files`` are (format, path relative to a search folder)."""

    label: str
    folders: tuple[str, ...]  # subfolders of each place that may hold the files, e.g. fashion-mnist/
    files: tuple[tuple[str, str], ...]
    wanted: str  # the file names to put there, for the not-found message
    class_names: tuple[str, ...]
    fallback: tuple[tuple[str, str], ...] = ()  # an unofficial copy used only when no official file is found


IDX_FORM = ("idx", ".")
IDX_WANTED = "the four IDX files " + ", ".join(IDX_NAMES)
KNOWN = {
    "mnist": Known("MNIST", ("mnist",), (("npz", "mnist.npz"), IDX_FORM),
                   f"mnist.npz or {IDX_WANTED}", DIGITS),
    "fashion_mnist": Known("Fashion-MNIST", ("fashion-mnist", "fashion_mnist"),
                           (IDX_FORM, ("npz", "fashion-mnist.npz"), ("npz", "fashion_mnist.npz")),
                           f"{IDX_WANTED} (Keras keeps them in fashion-mnist/) or fashion-mnist.npz", FASHION),
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
ALIASES = {"cifar_10": "cifar10", "cifar_100": "cifar100", "fashionmnist": "fashion_mnist"}


def keras_datasets_dir() -> Path:
    """Where ``keras.datasets`` caches downloads: ``$KERAS_HOME/datasets``, else ``~/.keras/datasets``."""
    home = os.environ.get("KERAS_HOME")
    if not home:
        base = os.path.expanduser("~")
        home = os.path.join(base if os.access(base, os.W_OK) else "/tmp", ".keras")
    return Path(home, "datasets")


def search_places(data_dir) -> list[tuple[str, Path | None]]:
    """(description, folder) in search order; folder None when that place is not set."""
    places = [(f"data_dir {data_dir}" if data_dir is not None else "data_dir (not given)",
               Path(data_dir) if data_dir is not None else None)]
    zoo_data = [p for p in os.environ.get("ZOO_DATA", "").split(os.pathsep) if p]
    places += [(f"$ZOO_DATA {p}", Path(p)) for p in zoo_data] or [("$ZOO_DATA (not set)", None)]
    places.append((f"the Keras cache {keras_datasets_dir()}", keras_datasets_dir()))
    return places


def present(kind: str, path: Path) -> bool:
    if kind == "idx":
        return all((path / name).is_file() for name in IDX_NAMES)
    if kind == "npz" or is_tar_name(path.name):
        return path.is_file()
    return path.is_dir()


def find(known: Known, places, files) -> tuple[str, Path] | None:
    for _, place in places:
        if place is None:
            continue
        for folder in (place, *(place / sub for sub in known.folders)):
            for kind, rel in files:
                if present(kind, folder / rel):
                    return kind, folder / rel
    return None


def partial_idx(known: Known, places) -> list[str]:
    """Folders holding some but not all four IDX files: worth naming in the error."""
    notes = []
    if IDX_FORM not in known.files:
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


def canonical(name_or_path) -> str | None:
    if not isinstance(name_or_path, str) or "/" in name_or_path or os.sep in name_or_path:
        return None
    key = name_or_path.strip().lower().replace("-", "_")
    key = ALIASES.get(key, key)
    return key if key in KNOWN else None
