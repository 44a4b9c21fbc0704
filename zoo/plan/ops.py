"""Shape arithmetic for the primitive ops; pure Python, no Keras."""

from __future__ import annotations

import math


def out_size(n: int, k: int, s: int, padding: str) -> int:
    """One spatial axis: Keras/TensorFlow rules for `same` and `valid`."""
    if padding == "same":
        return math.ceil(n / s)
    return (n - k) // s + 1


def conv_counts(cin: int, filters: int, kernel: tuple[int, int], bias: bool, out_hw: tuple[int, int]) -> tuple[int, int]:
    """(parameters, MACs). Bias adds are not multiply-accumulates."""
    weights = kernel[0] * kernel[1] * cin * filters
    return weights + (filters if bias else 0), out_hw[0] * out_hw[1] * weights


def shape_text(shape) -> str:
    """(28, 28, 1) → "28×28×1"; every shape the library prints goes through here."""
    return "×".join(str(int(v)) for v in shape)
