"""Benchmark batches: synthetic, and real data through zoo.data (faked here, so no files are read)."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

from zoo.bench import data
from zoo.bench.data import make_batches
from zoo.errors import ZooError


def test_synthetic_batches_are_float32_nhwc_with_labels_in_range():
    batches = make_batches("synthetic", (8, 8, 1), 3, 5)
    x, y = batches[7]  # any step: one batch, reused
    assert (len(batches), batches.source) == (1, "synthetic")
    assert x.shape == (5, 8, 8, 1) and x.dtype == np.float32 and 0 <= x.min() and x.max() < 1
    assert y.shape == (5,) and y.dtype == np.int64 and set(y) <= {0, 1, 2}


@pytest.fixture
def fake_zoo_data(monkeypatch):
    """A zoo.data whose load_dataset returns 20 MNIST-shaped images, labels 0–9."""
    module = types.ModuleType("zoo.data")
    images = np.arange(20 * 28 * 28, dtype=np.int64).reshape(20, 28, 28, 1) % 256
    module.load_dataset = lambda name, data_dir=None: types.SimpleNamespace(x_train=images.astype(np.uint8),
                                                             y_train=np.arange(20, dtype=np.int64) % 10)
    monkeypatch.setitem(sys.modules, "zoo.data", module)
    data._load.cache_clear()
    yield
    data._load.cache_clear()


def test_real_data_is_scaled_and_cycled(fake_zoo_data):
    batches = make_batches("mnist", (28, 28, 1), 10, 6)
    assert (len(batches), batches.source) == (3, "mnist")  # 20 images make 3 whole batches of 6
    x, y = batches[4]  # step 4 reads batch 1
    assert x.dtype == np.float32 and x.shape == (6, 28, 28, 1)
    assert x[0, 0, 0, 0] == pytest.approx((6 * 784 % 256) / 255)
    assert list(y) == [6, 7, 8, 9, 0, 1]


def test_real_data_checks_classes_and_batch(fake_zoo_data):
    with pytest.raises(ZooError) as info:
        make_batches("mnist", (28, 28, 1), 5, 6)
    assert str(info.value) == "--dataset mnist has 10 classes; --classes 5 is too few"
    with pytest.raises(ZooError) as info:
        make_batches("mnist", (28, 28, 1), 10, 32)
    assert str(info.value) == "--dataset mnist has 20 training images, fewer than one batch of 32"


