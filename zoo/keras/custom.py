"""The layers Keras lacks, as small functional models of keras.ops.

Each factory returns a callable that, on its first call, wraps the computation in a
``keras.Model`` named like the plan node. A saved file then holds only Keras's own
classes (its ops and Model), so plain ``keras.saving.load_model`` reads it without
importing zoo: Keras 3 imports classes by module only from its own packages, so a
registered custom layer would need zoo imported first. Files written by zoo 0.1,
which name the old registered layers, load through ``zoo.load_model`` (zoo.keras.legacy).
"""

from __future__ import annotations

from typing import Callable

import keras
from keras import ops


class _OpsBlock:
    """Builds ``keras.Model(input, fn(input), name)`` for the input shape it is first called on."""

    def __init__(self, fn: Callable, name: str | None):
        self.fn, self.name, self.model = fn, name, None

    def __call__(self, x):
        if self.model is None:
            inputs = keras.Input(shape=tuple(x.shape[1:]), dtype=getattr(x, "dtype", None) or "float32")
            self.model = keras.Model(inputs, self.fn(inputs), name=self.name)
        return self.model(x)


def local_response_norm(x, size: int, alpha: float, beta: float, bias: float):
    """b = a / (k + alpha · Σ a²)^beta over `size` neighbouring channels of ``x`` (N×H×W×C)."""
    channels = x.shape[-1]
    half = size // 2
    squares = ops.pad(ops.square(x), [[0, 0], [0, 0], [0, 0], [half, half]])
    total = squares[..., 0:channels]
    for i in range(1, size):
        total = total + squares[..., i:i + channels]
    return x / ops.power(bias + alpha * total, beta)


def channel_pad(x, stride: int, channels: int):
    """``x`` subsampled by `stride`, with `channels` zero channels appended."""
    if stride > 1:
        x = x[:, ::stride, ::stride, :]
    return ops.pad(x, [[0, 0], [0, 0], [0, 0], [0, channels]])


def LocalResponseNorm(size: int = 5, alpha: float = 1e-4, beta: float = 0.75, bias: float = 2.0,
                      name: str | None = None) -> _OpsBlock:
    """Local response normalisation (AlexNet §3.3, as VGG A-LRN uses)."""
    return _OpsBlock(lambda x: local_response_norm(x, size, alpha, beta, bias), name)


def ChannelPad(stride: int = 1, channels: int = 0, name: str | None = None) -> _OpsBlock:
    """He et al. 2016 shortcut option A: subsample by `stride`, append `channels` zero channels."""
    return _OpsBlock(lambda x: channel_pad(x, stride, channels), name)


def adaptive_bins(size: int, out: int) -> list[tuple[int, int]]:
    """PyTorch's adaptive pooling windows on one axis: [⌊i·size/out⌋, ⌈(i+1)·size/out⌉) for i < out."""
    return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]


def adaptive_pool(x, grid: tuple[int, int], mode: str):
    """``x`` (N×H×W×C) pooled to ``grid`` with PyTorch's adaptive windows."""
    reduce = ops.mean if mode == "avg" else ops.max
    # windows are rectangles of rows × columns, so pooling rows then columns gives each window's value
    for axis, out in ((1, grid[0]), (2, grid[1])):
        size = x.shape[axis]
        if size == out:
            continue
        index = [slice(None)] * 4
        parts = []
        for start, stop in adaptive_bins(size, out):
            index[axis] = slice(start, stop)
            parts.append(reduce(x[tuple(index)], axis=axis, keepdims=True))
        x = ops.concatenate(parts, axis=axis)
    return x


def AdaptivePool(output=(7, 7), mode: str = "avg", name: str | None = None) -> _OpsBlock:
    """Pool H×W to a fixed `output` grid (average or maximum per window), as torch.nn.AdaptiveAvgPool2d."""
    grid = (output, output) if isinstance(output, int) else tuple(output)
    return _OpsBlock(lambda x: adaptive_pool(x, grid, mode), name)
