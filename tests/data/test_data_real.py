"""The real files in ../shared/data (skipped where that folder is absent)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from zoo.data import DataError, load_dataset
from zoo.data.formats import read_idx

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
needs_shared = pytest.mark.skipif(not (SHARED / "mnist" / "mnist.npz").is_file(), reason="../shared/data is absent")
CIFAR10_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


@pytest.fixture(scope="module")
def mnist():
    if not (SHARED / "mnist" / "mnist.npz").is_file():
        pytest.skip("../shared/data is absent")
    return load_dataset("mnist", SHARED, download=False)


@needs_shared
def test_real_mnist_npz(mnist):
    assert (mnist.name, mnist.label, mnist.source) == ("mnist", "MNIST", str(SHARED / "mnist" / "mnist.npz"))
    assert mnist.x_train.shape == (60000, 28, 28, 1) and mnist.x_test.shape == (10000, 28, 28, 1)
    assert mnist.x_train.dtype == np.uint8 and mnist.y_train.dtype == np.int64
    # the well-known first training labels and the per-class test counts of MNIST
    assert mnist.y_train[:8].tolist() == [5, 0, 4, 1, 9, 2, 1, 3]
    assert np.bincount(mnist.y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@needs_shared
def test_real_idx_test_files_match_the_npz(mnist):
    images = read_idx(str(SHARED / "mnist" / "t10k-images-idx3-ubyte.gz"), 3)
    labels = read_idx(str(SHARED / "mnist" / "t10k-labels-idx1-ubyte.gz"), 1)
    assert images.shape == (10000, 28, 28) and labels.shape == (10000,)
    np.testing.assert_array_equal(images, mnist.x_test[..., 0])
    np.testing.assert_array_equal(labels, mnist.y_test)


@needs_shared
def test_the_test_half_of_an_idx_set_is_reported_incomplete(tmp_path):
    (tmp_path / "idx").mkdir()
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        os.symlink(SHARED / "mnist" / name, tmp_path / "idx" / name)
    with pytest.raises(DataError, match=r"; idx has an incomplete IDX set \(missing train-images-idx3-ubyte.gz, "
                                        r"train-labels-idx1-ubyte.gz\); download skipped"):
        load_dataset("mnist", "idx", download=False)


@needs_shared
def test_real_cifar10_resolves_to_the_jpeg_copy(monkeypatch):
    seen = []
    monkeypatch.setattr("zoo.data.datasets._read_images", lambda *args: seen.append(args))
    load_dataset("cifar10", SHARED, download=False)
    name, label, path, class_names = seen[0][:4]
    assert (name, label, path, class_names) == ("cifar10", "CIFAR-10 (JPEG copy)",
                                                SHARED / "cifar10" / "cifar10-jpeg.tar.gz", CIFAR10_NAMES)


@pytest.mark.slow
@needs_shared
def test_real_cifar10_jpeg_copy_decodes_and_caches(tmp_path):
    start = time.perf_counter()
    first = load_dataset("cifar10", SHARED, download=False, cache_dir=tmp_path)
    decoded = time.perf_counter() - start
    start = time.perf_counter()
    second = load_dataset("cifar10", SHARED, download=False, cache_dir=tmp_path)
    cached = time.perf_counter() - start
    print(f"\nCIFAR-10 (JPEG copy): first load (decode) {decoded:.1f} s, cached load {cached:.2f} s")

    assert (first.label, first.class_names) == ("CIFAR-10 (JPEG copy)", CIFAR10_NAMES)
    assert first.x_train.shape == (50000, 32, 32, 3) and first.x_test.shape == (10000, 32, 32, 3)
    assert np.bincount(first.y_train).tolist() == [5000] * 10
    assert np.bincount(first.y_test).tolist() == [1000] * 10
    assert 100 < first.x_train.mean() < 140  # real photos, not zeros: CIFAR-10's mean is about 121
    for key in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(first, key), getattr(second, key))
    assert cached < decoded / 5
