"""Small learnable datasets in the official formats, and a tiny spec, for training tests."""

from __future__ import annotations

import numpy as np
import pytest

TINY_SPEC = """
tiny:
  input_shape: [28, 28, 1]
  classes: 10
  conv: {batch_norm: true, bias: false}
  features: [8, M, 16, M]
  head: [{type: flatten}, {type: classifier}]
"""


def digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Noise with a bright bar whose row encodes the label: easy to learn, impossible to fake."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    x = (rng.random((n, 28, 28)) * 60).astype(np.uint8)
    for i, label in enumerate(y):
        x[i, 2 * label + 4:2 * label + 7, 4:24] = 255
    return x, y.astype(np.uint8)


def write_mnist(folder):
    """``folder/mnist.npz`` of 640 training and 200 test digits (the official npz layout); returns ``folder``."""
    folder.mkdir(exist_ok=True)
    (x_train, y_train), (x_test, y_test) = digits(640, 0), digits(200, 1)
    np.savez(folder / "mnist.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return folder


@pytest.fixture
def mnist_dir(tmp_path):
    return write_mnist(tmp_path / "data")


@pytest.fixture
def tiny_spec(write_spec):
    return write_spec(TINY_SPEC, "tiny.yaml")
