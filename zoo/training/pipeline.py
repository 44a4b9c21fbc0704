"""In-memory batches for any backend: shuffling, crop and flip augmentation, one-hot labels.

Images stay uint8 in memory and are cast per batch; normalisation lives in the model,
so a saved run model takes raw 0–255 pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np


@dataclass(frozen=True)
class Split:
    x: np.ndarray  # uint8 NHWC
    y: np.ndarray  # int64


def split_train(x: np.ndarray, y: np.ndarray, fraction: float, seed: int) -> tuple[Split, Split | None]:
    """A seeded shuffle, then the last `fraction` is held out for validation."""
    if fraction <= 0:
        return Split(x, y), None
    order = np.random.default_rng([seed, 7]).permutation(len(x))
    n_val = max(1, int(round(len(x) * fraction)))
    if n_val >= len(x):
        n_val = len(x) - 1
    train, val = order[:-n_val], order[-n_val:]
    return Split(x[train], y[train]), Split(x[val], y[val])


def channel_stats(x: np.ndarray) -> tuple[list[float], list[float]]:
    """Per-channel mean and variance of pixels scaled to [0, 1], in chunks to bound memory."""
    channels = x.shape[-1]
    total = np.zeros(channels)
    squares = np.zeros(channels)
    step = max(1, min(4096, (64 << 20) // (8 * int(np.prod(x.shape[1:])))))  # float64 chunks of <= 64 MB
    for start in range(0, len(x), step):
        chunk = x[start:start + step].reshape(-1, channels).astype(np.float64) / 255.0
        total += chunk.sum(0)
        squares += (chunk ** 2).sum(0)
    count = x.size // channels
    mean = total / count
    var = np.maximum(squares / count - mean ** 2, 1e-12)
    return mean.tolist(), var.tolist()


class Batches(keras.utils.PyDataset):
    """Batches of (float32 images, one-hot labels). Shuffling and augmentation are seeded by (seed, epoch)."""

    def __init__(self, split: Split, classes: int, batch_size: int, *, train: bool, seed: int = 0,
                 crop_padding: int = 0, flip: bool = False, epoch: int = 0):
        # Two threads fill a bounded queue (Keras's enqueuer). With Keras's default, one worker, TensorFlow
        # wraps the dataset in a tf.data prefetch whose autotuner sleeps up to a minute between passes, and
        # each epoch's end waited for it: CIFAR-10 epochs of 43 s took 80 s (docs/benchmarks.md, "The stall").
        super().__init__(workers=2, use_multiprocessing=False, max_queue_size=4)
        self.x, self.y, self.classes = split.x, split.y, classes
        self.batch_size, self.train, self.seed = batch_size, train, seed
        self.crop_padding, self.flip = crop_padding, flip
        self.epoch = epoch
        self._order = self._make_order()

    def _make_order(self) -> np.ndarray:
        if not self.train:
            return np.arange(len(self.x))
        return np.random.default_rng([self.seed, self.epoch]).permutation(len(self.x))

    def __len__(self) -> int:
        if self.train:  # full batches only: a last tiny batch makes batch-norm statistics noisy
            return max(1, len(self.x) // self.batch_size)
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, index: int):
        idx = self._order[index * self.batch_size:(index + 1) * self.batch_size]
        images = self.x[idx]
        if self.train and (self.crop_padding or self.flip):
            rng = np.random.default_rng([self.seed, self.epoch, index])
            images = augment(images, rng, self.crop_padding, self.flip)
        labels = np.zeros((len(idx), self.classes), dtype=np.float32)
        labels[np.arange(len(idx)), self.y[idx]] = 1.0
        return images.astype(np.float32), labels

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self._order = self._make_order()


def augment(images: np.ndarray, rng: np.random.Generator, padding: int, flip: bool) -> np.ndarray:
    """Random crop from a zero-padded copy, and random horizontal flip, per image."""
    n, h, w, _ = images.shape
    out = images
    if padding:
        padded = np.pad(images, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
        dy = rng.integers(0, 2 * padding + 1, n)
        dx = rng.integers(0, 2 * padding + 1, n)
        out = np.empty_like(images)
        for i in range(n):
            out[i] = padded[i, dy[i]:dy[i] + h, dx[i]:dx[i] + w]
    if flip:
        mirror = rng.random(n) < 0.5
        out = out.copy() if out is images else out
        out[mirror] = out[mirror, :, ::-1]
    return out
