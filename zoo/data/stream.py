"""Image folders and uncompressed ``.tar`` archives read lazily, for datasets larger than memory.

``LazyImages`` stands in for the uint8 (N, H, W, C) array of an in-memory dataset: indexing with a
slice or an index array gives another lazy view (nothing decoded); ``np.asarray``, ``astype`` or
``reshape`` decode just those images, from their files. Without ``--input-size`` images are used as
they are (one size, as in memory, and the recipe's augmentation applies). With ``--input-size S``,
as for ImageNet: training views take a random resized crop (8%–100% of the area, aspect 3/4–4/3) to
S x S and a random flip; evaluation views resize the shorter side to ``S / 0.875`` and take the centre
crop. The trainer's batches decode one batch at a time, in Keras ``PyDataset`` worker threads with a
bounded queue (``prefetch``), so memory holds a few batches, not the dataset. Pillow releases the GIL
while decoding."""

from __future__ import annotations

import os
import tarfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zoo.data.archive import member_parts
from zoo.data.base import DataError, Dataset, check_labels, reason
from zoo.data.budget import DEFAULT_MAX_PIXELS, Budget
from zoo.data.images import GRAY_MODES, Image, Layout, _arrange, _is_image, _open_image, scan_folder
from zoo.safefile import read_capped

CACHE_MODES = ("auto", "memory", "none")
EVAL_CROP = 0.875  # centre crop fraction (224 of 256), as torchvision's ImageNet evaluation
MEMBER_CAP = 64 << 20  # bytes: no image member of a streamed archive is read past this
WORKERS = max(2, min(8, os.cpu_count() or 2))  # decoding threads
QUEUE = 4  # batches decoded ahead: the bound on prefetched memory


@dataclass(frozen=True)
class Member:
    """Where an image's bytes sit in an uncompressed tar (so they can be read without scanning it)."""

    offset: int
    size: int


class LazyImages:
    """A lazily decoded uint8 image array over image files; see the module docstring."""

    ndim = 4
    dtype = np.dtype(np.uint8)

    def __init__(self, items: tuple[Image, ...], size: tuple[int, int], channels: int, train: bool, *,
                 crop: bool, seed: int = 0, index: np.ndarray | None = None):
        self.items, self.size_px, self.channels, self.train, self.seed = items, size, channels, train, seed
        self.crop = crop  # False: images are used at their own size (which must be the first one's)
        self.index = np.arange(len(items)) if index is None else index
        self._draws = 0  # counts training decodes: each gets fresh crops, reproducibly from the seed
        self._lock = threading.Lock()

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return (len(self.index), *self.size_px, self.channels)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer)):
            return self._decode(self.index[[int(key)]])[0]
        return LazyImages(self.items, self.size_px, self.channels, self.train, crop=self.crop, seed=self.seed,
                          index=self.index[key])

    def __array__(self, dtype=None, copy=None):
        out = self._decode(self.index)
        return out if dtype is None else out.astype(dtype)

    def astype(self, dtype, **_):
        return np.asarray(self).astype(dtype)

    def reshape(self, *shape):
        return np.asarray(self).reshape(*shape)

    def for_evaluation(self) -> LazyImages:
        """The same images with evaluation's centre crop (a validation split is cut from the training set)."""
        return LazyImages(self.items, self.size_px, self.channels, False, crop=self.crop, seed=self.seed,
                          index=self.index)

    def _decode(self, ids: np.ndarray) -> np.ndarray:
        with self._lock:
            draw, self._draws = self._draws, self._draws + 1
        rng = np.random.default_rng([self.seed, draw]) if self.train and self.crop else None
        out = np.empty((len(ids), *self.size_px, self.channels), np.uint8)
        for row, i in enumerate(ids):
            out[row] = load_image(self.items[int(i)], self.size_px, self.channels, rng, crop=self.crop)
        return out


def load_image(item: Image, size: tuple[int, int], channels: int, rng: np.random.Generator | None, *,
               crop: bool = True) -> np.ndarray:
    """One image as uint8 (H, W, channels) for ``size`` (H, W): with ``crop``, a random resized crop and
    flip when ``rng`` is given, else the centre crop; without, the image as it is (its size checked)."""
    from PIL import Image as PILImage

    data = _read(item)
    try:
        with _open_image(data, item, DEFAULT_MAX_PIXELS) as image:
            image = image.convert("L" if channels == 1 else "RGB")
            width, height = image.size
            side = size[0]
            if not crop:
                if (height, width) != tuple(size):
                    raise DataError(f"image is {width}x{height}, the first is {size[1]}x{size[0]}; give "
                                    f"--input-size to crop every image to one size", file=item.file, path=item.member)
            elif rng is not None:
                box = _random_box(width, height, rng)
                image = image.resize((side, side), PILImage.BILINEAR, box=box)
                if rng.random() < 0.5:
                    image = image.transpose(PILImage.FLIP_LEFT_RIGHT)
            else:
                scale = side / EVAL_CROP / min(width, height)
                resized = image.resize((max(side, round(width * scale)), max(side, round(height * scale))),
                                       PILImage.BILINEAR)
                left, top = (resized.width - side) // 2, (resized.height - side) // 2
                image = resized.crop((left, top, left + side, top + side))
            pixels = np.asarray(image, np.uint8)
    except DataError:
        raise
    except Exception as error:  # truncated or corrupt data
        raise DataError(f"not a readable image ({reason(error)})", file=item.file, path=item.member) from error
    return pixels.reshape(*size, channels)


def _random_box(width: int, height: int, rng: np.random.Generator) -> tuple[float, float, float, float]:
    """A crop of 8–100% of the area with aspect ratio 3/4–4/3 (log-uniform); the whole image if none fits."""
    area = width * height
    for _ in range(10):
        target = area * rng.uniform(0.08, 1.0)
        aspect = np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3)))
        w, h = np.sqrt(target * aspect), np.sqrt(target / aspect)
        if w <= width and h <= height:
            x, y = rng.uniform(0, width - w), rng.uniform(0, height - h)
            return (x, y, x + w, y + h)
    return (0, 0, width, height)


def _read(item: Image) -> bytes:
    if isinstance(item.payload, Member):
        with open(item.file, "rb") as handle:
            handle.seek(item.payload.offset)
            return handle.read(item.payload.size)
    return read_capped(item.payload, MEMBER_CAP, DataError, item.file, what="image file")


def scan_plain_tar(archive: str) -> Layout:
    """An uncompressed tar's layout: each image's offset and size, nothing read into memory."""
    files, folders = [], set()
    try:
        with tarfile.open(archive, "r:") as tar:
            for member in tar:
                parts = member_parts(member, archive)
                folders.update(parts[:i] for i in range(1, len(parts) + (1 if member.isdir() else 0)))
                if member.isfile() and _is_image(parts):
                    if member.size > MEMBER_CAP:
                        raise DataError(f"member is {member.size:,} bytes, over {MEMBER_CAP:,} for one image",
                                        file=archive, path="/".join(parts))
                    files.append((parts, archive, "/".join(parts), Member(member.offset_data, member.size)))
                tar.members = []  # keep no headers: a million-image archive stays small in memory
    except tarfile.ReadError as error:
        raise DataError(f"cannot stream this archive ({reason(error)}); streaming reads folders and "
                        f"uncompressed .tar files", file=archive) from error
    return _arrange(files, folders, archive)


def can_stream(path: Path) -> bool:
    return path.is_dir() or path.name.lower().endswith(".tar")


def decoded_bytes(layout: Layout, size: int | None) -> int:
    """The in-memory cost of the decoded set: every image at the first image's size (or ``size``), 3 channels."""
    if size is None:
        with _open_image(_read(layout.train[0]), layout.train[0], DEFAULT_MAX_PIXELS) as image:
            width, height = image.size
    else:
        width = height = size
    return (len(layout.train) + len(layout.test)) * width * height * 3


def should_stream(path: Path, cache: str, input_size: int | None, max_memory) -> bool:
    """``--cache none`` streams; ``auto`` streams when ``--input-size`` is given or the decoded set is over budget."""
    if cache not in CACHE_MODES:
        raise DataError(f"--cache must be one of {', '.join(CACHE_MODES)} (got {cache!r})")
    from zoo.data.known import canonical

    if canonical(str(path)) is not None:  # a standard dataset's name always means that dataset
        return False
    if cache == "memory" or not path.exists() or not can_stream(path) and cache == "auto":
        return False
    if not can_stream(path):
        raise DataError("--cache none streams image folders and uncompressed .tar archives; "
                        "extract this one or repack it as .tar", file=str(path))
    if cache == "none" or input_size is not None:
        return True
    return decoded_bytes(_layout(path), None) > Budget.create(max_memory).limit


def _layout(path: Path) -> Layout:
    try:
        return scan_folder(str(path)) if path.is_dir() else scan_plain_tar(str(path))
    except OSError as error:
        raise DataError(f"cannot read ({reason(error)})", file=str(path)) from error


def open_stream(path: str | os.PathLike, input_size: int | None = None, seed: int = 0) -> Dataset:
    """A ``Dataset`` whose images are ``LazyImages`` (train: random crops; test: centre crops)."""
    path = Path(path)
    layout = _layout(path)
    first = layout.train[0]
    with _open_image(_read(first), first, DEFAULT_MAX_PIXELS) as image:
        channels = 1 if image.mode in GRAY_MODES else 3
        size = (input_size, input_size) if input_size else (image.size[1], image.size[0])
    if input_size is not None and input_size < 8:
        raise DataError(f"--input-size must be at least 8 (got {input_size})")
    crop = input_size is not None
    classes = len(layout.class_names)
    y_train = check_labels(np.array([e.label for e in layout.train]), len(layout.train), classes, str(path), "train")
    y_test = check_labels(np.array([e.label for e in layout.test]), len(layout.test), classes, str(path), "test")
    name = path.name[:-4] if path.name.lower().endswith(".tar") else path.name
    # A grayscale first image means a grayscale set; colour images met later are converted to gray.
    return Dataset(name, name, LazyImages(layout.train, size, channels, True, crop=crop, seed=seed), y_train,
                   LazyImages(layout.test, size, channels, False, crop=crop), y_test, layout.class_names, str(path))


def prefetch(*batches) -> None:
    """Decode batches of lazy images in worker threads, at most ``QUEUE`` batches ahead."""
    for b in batches:
        if b is not None and isinstance(getattr(b, "x", None), LazyImages):
            # PyDataset's own settings: Keras then runs __getitem__ in a thread pool feeding a bounded queue.
            b._workers, b._use_multiprocessing, b._max_queue_size = WORKERS, False, QUEUE
            if not b.train:
                b.x = b.x.for_evaluation()
