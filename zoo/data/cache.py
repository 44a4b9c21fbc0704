"""Decoded image folders cached as .npz, keyed on the source's identity, written atomically.

The key is the resolved path (symlinks followed) and the content's size and modification times,
so one dataset reached through two paths is decoded and stored once.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import warnings
from pathlib import Path

import numpy as np

from zoo.data.base import reason
from zoo.data.budget import Budget, OverBudget
from zoo.data.images import Layout
from zoo.data.npz import read_npz

CACHE_VERSION = 1  # bump when decoding changes, so old caches are never read
ARRAY_KEYS = ("x_train", "y_train", "x_test", "y_test")


def cache_folder(cache_dir=None) -> Path:
    """``cache_dir``, else ``$ZOO_CACHE``, else ``~/.cache/zoo``."""
    chosen = cache_dir or os.environ.get("ZOO_CACHE") or Path("~/.cache/zoo")
    return Path(chosen).expanduser()


def archive_key(path: str) -> str:
    """An archive is identified by its resolved path, size and modification time."""
    stat = os.stat(path)
    return _digest(f"archive {os.path.realpath(path)} {stat.st_size} {stat.st_mtime_ns}")


def folder_key(root: str, layout: Layout) -> str:
    """A folder by its resolved path and every image's relative path, size and modification time."""
    lines = [f"folder {os.path.realpath(root)}"]
    for split, items in (("train", layout.train), ("test", layout.test)):
        for item in items:
            stat = os.stat(item.payload)
            rel = os.path.relpath(item.payload, root)
            lines.append(f"{split} {item.label} {rel} {stat.st_size} {stat.st_mtime_ns}")
    lines.append(" ".join(layout.class_names))
    return _digest("\n".join(lines))


def _digest(text: str) -> str:
    return hashlib.sha256(f"zoo-data-cache v{CACHE_VERSION}\n{text}".encode()).hexdigest()[:20]


def cache_path(folder: Path, name: str, key: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:60] or "dataset"
    return folder / f"{safe}-{key}.npz"


def load(path: Path, budget: Budget) -> tuple[dict[str, np.ndarray], tuple[str, ...]] | None:
    """The cached arrays and class names, or None when absent or unreadable (then it is rebuilt).

    Over the memory budget is the user's problem: that DataError is raised.
    """
    if not path.is_file():
        return None
    used = budget.used
    try:
        arrays = read_npz(path, (*ARRAY_KEYS, "class_names"), budget)
        class_names = tuple(str(n) for n in arrays.pop("class_names"))
    except OverBudget:
        raise
    except Exception:  # a damaged cache is ours to replace, not the user's problem
        budget.used = used
        return None
    if any(arrays[k].ndim != 4 or arrays[k].dtype != np.uint8 for k in ("x_train", "x_test")):
        return None
    return arrays, class_names


def save(path: Path, arrays: dict[str, np.ndarray], class_names: tuple[str, ...]) -> bool:
    """Write to a temp file in the same folder, then rename: readers never see half a file. False if it failed."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            # uncompressed: loading 60,000 CIFAR images is then a plain read (~180 MB)
            np.savez(handle, **{k: arrays[k] for k in ARRAY_KEYS}, class_names=np.array(class_names, dtype=str))
        os.replace(tmp, path)
        tmp = None
        return True
    except Exception as error:  # a read-only or full disk only costs speed next time
        warnings.warn(f"zoo: could not write the dataset cache {path} ({reason(error)})", stacklevel=3)
        return False
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
