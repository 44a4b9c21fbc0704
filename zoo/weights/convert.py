"""How a file's tensor becomes a Keras variable: the shape it will have, and the array."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Convert:
    """``as_keras(shape)`` is None when the file's shape cannot be converted at all."""
    words: str = ""                      # said in an error: "as HWIO", "" for none

    def as_keras(self, shape: tuple[int, ...]) -> tuple[int, ...] | None:
        return shape

    def apply(self, array: np.ndarray) -> np.ndarray:
        return array


class _OIHW(Convert):
    """PyTorch's convolution kernel (out, in/groups, kh, kw) → Keras's (kh, kw, in/groups, out)."""

    def as_keras(self, shape):
        return (shape[2], shape[3], shape[1], shape[0]) if len(shape) == 4 else None

    def apply(self, array):
        return array.transpose(2, 3, 1, 0)


class _Linear(Convert):
    """PyTorch's (out, in) → Keras's (in, out)."""

    def as_keras(self, shape):
        return (shape[1], shape[0]) if len(shape) == 2 else None

    def apply(self, array):
        return array.T


@dataclass(frozen=True)
class _LinearFromMap(Convert):
    """The first Linear after a flatten: PyTorch flattens C×H×W, Keras H×W×C, so the input
    axis is permuted as well as transposed."""
    map_shape: tuple[int, int, int] = (1, 1, 1)   # the flattened map, Keras order (H, W, C)

    def as_keras(self, shape):
        h, w, c = self.map_shape
        if len(shape) != 2 or shape[1] != h * w * c:
            return None
        return (shape[1], shape[0])

    def apply(self, array):
        h, w, c = self.map_shape
        out = array.shape[0]
        return array.reshape(out, c, h, w).transpose(2, 3, 1, 0).reshape(h * w * c, out)


SAME = Convert()
OIHW = _OIHW("as HWIO")
LINEAR = _Linear("transposed")


def linear_from_map(map_shape: tuple[int, int, int]) -> Convert:
    return _LinearFromMap(f"from C×H×W {map_shape[2]}×{map_shape[0]}×{map_shape[1]} order, transposed",
                          tuple(map_shape))
