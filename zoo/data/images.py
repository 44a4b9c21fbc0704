"""Image-folder datasets: ``train/<class>/*.jpg|png`` and ``test/<class>/...``, as a folder or a tar archive.

The layout of ``keras.utils.image_dataset_from_directory``, optionally under one top folder.
Classes are the sorted folder names; examples are ordered by class, then by file path.
Archives are read in memory, never extracted.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zoo.data.archive import iter_tar
from zoo.data.base import DataError, reason

SPLITS = ("train", "test")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
PIL_FORMATS = ("JPEG", "PNG", "BMP", "GIF")  # Pillow tries only these decoders on untrusted bytes
GRAY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "F"})


@dataclass(frozen=True)
class Image:
    """One example: its label, where errors point (file, member inside an archive) and its bytes or path."""

    label: int
    file: str
    member: str | None
    payload: bytes | Path


@dataclass(frozen=True)
class Layout:
    class_names: tuple[str, ...]
    train: tuple[Image, ...]
    test: tuple[Image, ...]


def _hidden(parts) -> bool:
    return any(p.startswith(".") or p == "__MACOSX" for p in parts)


def _is_image(parts) -> bool:
    return parts[-1].lower().endswith(IMAGE_SUFFIXES) and not _hidden(parts)


def _root_depth(folders: set[tuple[str, ...]], source: str) -> int:
    """0 when train/ and test/ are at the top, 1 when they sit under a single top folder."""
    tops = {f[0] for f in folders if f and not _hidden(f[:1])}
    if set(SPLITS) <= tops:
        return 0
    if len(tops) == 1 and set(SPLITS) <= {f[1] for f in folders if len(f) > 1 and f[0] in tops}:
        return 1
    raise DataError("is not an image folder: expected train/<class>/ and test/<class>/ folders, "
                    "at the top or under one top folder", file=source)


def _arrange(files: list[tuple[tuple[str, ...], str, str | None, bytes | Path]],
             folders: set[tuple[str, ...]], source: str) -> Layout:
    """Classes and labelled examples from relative paths; ``files`` are (parts, file, member, payload)."""
    depth = _root_depth(folders, source)
    classes = {split: set() for split in SPLITS}
    for folder in folders:  # class folders count even while empty, as in Keras
        if len(folder) == depth + 2 and folder[depth] in SPLITS and not _hidden(folder):
            classes[folder[depth]].add(folder[depth + 1])
    examples = {split: [] for split in SPLITS}
    for parts, file, member, payload in files:
        if len(parts) >= depth + 3 and parts[depth] in SPLITS and _is_image(parts):
            classes[parts[depth]].add(parts[depth + 1])
            examples[parts[depth]].append((parts[depth + 1], "/".join(parts), file, member, payload))
    class_names = tuple(sorted(classes["train"]))
    extra = sorted(classes["test"] - classes["train"])
    if extra:
        raise DataError(f"test/{extra[0]}/ has no matching train/{extra[0]}/ folder", file=source)
    index = {name: i for i, name in enumerate(class_names)}
    ordered = {}
    for split in SPLITS:
        if not examples[split]:
            raise DataError(f"has no images in {split}/<class>/ (looked for {', '.join(IMAGE_SUFFIXES)})",
                            file=source)
        examples[split].sort(key=lambda e: (index[e[0]], e[1]))
        ordered[split] = tuple(Image(index[c], file, member, payload)
                               for c, _, file, member, payload in examples[split])
    return Layout(class_names, ordered["train"], ordered["test"])


def scan_folder(root: str) -> Layout:
    """The image folder's layout; files are read later, when decoded."""
    files, folders = [], set()
    base = Path(root)
    for folder, dirnames, filenames in os.walk(base):
        rel = Path(folder).relative_to(base).parts
        dirnames[:] = [d for d in dirnames if not _hidden((d,))]
        folders.update(rel + (d,) for d in dirnames)
        files.extend((rel + (f,), os.path.join(folder, f), None, Path(folder, f)) for f in filenames)
    return _arrange(files, folders, root)


def scan_tar(archive: str) -> Layout:
    """The archive's layout with every image's bytes, read in one pass."""
    files, folders = [], set()
    for parts, data in iter_tar(archive, _is_image):
        folders.update(parts[:i] for i in range(1, len(parts)))
        if data is not None:
            files.append((parts, archive, "/".join(parts), data))
    return _arrange(files, folders, archive)


def _widen_to_rgb(x: np.ndarray) -> np.ndarray:
    return np.repeat(x, 3, axis=-1)


def decode(layout: Layout) -> dict[str, np.ndarray]:
    """All images into one preallocated uint8 (N, H, W, C) array: C=1 if every image is grayscale, else 3."""
    from PIL import Image as PILImage

    items = layout.train + layout.test
    x = None
    height = width = channels = 0
    for i, item in enumerate(items):
        try:
            data = item.payload if isinstance(item.payload, bytes) else item.payload.read_bytes()
            with PILImage.open(io.BytesIO(data), formats=PIL_FORMATS) as image:
                if x is None:
                    width, height = image.size
                    channels = 1 if image.mode in GRAY_MODES else 3
                    x = np.empty((len(items), height, width, channels), np.uint8)
                elif image.size != (width, height):
                    raise DataError(f"image is {image.size[0]}x{image.size[1]}, the others are {width}x{height}",
                                    file=item.file, path=item.member)
                if channels == 1 and image.mode not in GRAY_MODES:  # first colour image: widen what came before
                    x, channels = _widen_to_rgb(x), 3
                target = "L" if channels == 1 else "RGB"
                pixels = (image if image.mode == target else image.convert(target)).tobytes()
        except DataError:
            raise
        except Exception as error:  # UnidentifiedImageError, truncated or corrupt data, OSError
            raise DataError(f"not a readable image ({reason(error)})", file=item.file, path=item.member) from error
        x[i] = np.frombuffer(pixels, np.uint8).reshape(height, width, channels)
    n = len(layout.train)
    return {"x_train": x[:n], "y_train": np.array([e.label for e in layout.train], np.int64),
            "x_test": x[n:], "y_test": np.array([e.label for e in layout.test], np.int64)}
