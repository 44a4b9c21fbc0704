"""Image-folder datasets: ``train/<class>/*.jpg|png`` and ``test/<class>/...``, as a folder or a tar archive.

The layout of ``keras.utils.image_dataset_from_directory``, optionally under one top folder.
Classes are the sorted folder names; examples are ordered by class, then by file path.
Archives are read in memory, never extracted.
"""

from __future__ import annotations

import io
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zoo.data.archive import iter_tar
from zoo.data.base import DataError, reason
from zoo.data.budget import Budget, Limits
from zoo.safefile import check_regular, read_capped

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
        for f in filenames:
            parts, path = rel + (f,), os.path.join(folder, f)
            if _is_image(parts):  # a FIFO or device named x.png would hang or never end when read
                check_regular(path, DataError)
            files.append((parts, path, None, Path(path)))
    return _arrange(files, folders, root)


def scan_tar(archive: str, budget: Budget | None = None) -> Layout:
    """The archive's layout with every image's bytes, read in one pass."""
    files, folders = [], set()
    for parts, data in iter_tar(archive, _is_image, budget):
        folders.update(parts[:i] for i in range(1, len(parts)))
        if data is not None:
            files.append((parts, archive, "/".join(parts), data))
    return _arrange(files, folders, archive)


def _widen_to_rgb(x: np.ndarray) -> np.ndarray:
    return np.repeat(x, 3, axis=-1)


PROGRESS_EVERY = 5.0  # seconds between "decoded i of N images" lines


def _payload(item: Image, limits: Limits) -> bytes:
    """An image file's bytes: a regular file, read with a cap (a compressed image is rarely over 4 bytes a pixel)."""
    if isinstance(item.payload, bytes):
        return item.payload
    return read_capped(item.payload, limits.max_pixels * 4 + (1 << 20), DataError, item.file, what="image file")


def _open_image(data: bytes, item: Image, max_pixels: int):
    """The image, its size checked against ``max_pixels`` before a pixel is decoded."""
    from PIL import Image as PILImage

    with warnings.catch_warnings():
        # zoo's own limit (below Pillow's) is checked next; Pillow's error above twice its limit stays an error
        warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
        try:
            image = PILImage.open(io.BytesIO(data), formats=PIL_FORMATS)
        except PILImage.DecompressionBombError as error:
            raise DataError(f"image refused as a decompression bomb ({reason(error)})",
                            file=item.file, path=item.member) from error
    width, height = image.size
    if width * height > max_pixels:
        image.close()
        raise DataError(f"image is {width}x{height} = {width * height:,} pixels, over the limit of "
                        f"{max_pixels:,} pixels per image", file=item.file, path=item.member)
    return image


def decode(layout: Layout, limits: Limits | None = None) -> dict[str, np.ndarray]:
    """All images into one preallocated uint8 (N, H, W, C) array: C=1 if every image is grayscale, else 3."""
    limits = limits or Limits(Budget.create())
    items = layout.train + layout.test
    x = None
    height = width = channels = 0
    started = last = time.monotonic()
    for i, item in enumerate(items):
        try:
            with _open_image(_payload(item, limits), item, limits.max_pixels) as image:
                if x is None:
                    width, height = image.size
                    channels = 1 if image.mode in GRAY_MODES else 3
                    limits.budget.take(len(items) * height * width * channels,
                                       f"{len(items):,} images of {width}x{height}x{channels}",
                                       file=item.file, path=item.member)
                    x = np.empty((len(items), height, width, channels), np.uint8)
                elif image.size != (width, height):
                    raise DataError(f"image is {image.size[0]}x{image.size[1]}, the others are {width}x{height}",
                                    file=item.file, path=item.member)
                if channels == 1 and image.mode not in GRAY_MODES:  # first colour image: widen what came before
                    limits.budget.take(x.nbytes * 3, f"{len(items):,} images of {width}x{height}x3",
                                       file=item.file, path=item.member)
                    x, channels = _widen_to_rgb(x), 3
                target = "L" if channels == 1 else "RGB"
                pixels = (image if image.mode == target else image.convert(target)).tobytes()
        except DataError:
            raise
        except Exception as error:  # UnidentifiedImageError, truncated or corrupt data, OSError
            raise DataError(f"not a readable image ({reason(error)})", file=item.file, path=item.member) from error
        x[i] = np.frombuffer(pixels, np.uint8).reshape(height, width, channels)
        now = time.monotonic()
        if now - last >= PROGRESS_EVERY:
            last = now
            limits.say(f"decoded {i + 1:,} of {len(items):,} images ({now - started:.0f} s)")
    n = len(layout.train)
    return {"x_train": x[:n], "y_train": np.array([e.label for e in layout.train], np.int64),
            "x_test": x[n:], "y_test": np.array([e.label for e in layout.test], np.int64)}
