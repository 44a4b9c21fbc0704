"""Each standard format, written small and synthetic, loads to exactly the arrays written."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from zoo.data import KNOWN_DATASETS, Dataset, load_dataset
from zoo.data.datasets import CIFAR100, FASHION

CIFAR10_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def test_known_names():
    assert KNOWN_DATASETS == ("mnist", "fashion_mnist", "cifar10", "cifar100")
    assert len(CIFAR100) == 100 and len(set(CIFAR100)) == 100
    assert len(FASHION) == 10


def test_mnist_npz(synth):
    expected = synth.npz("data")
    ds = load_dataset("mnist", "data", download=False)
    assert isinstance(ds, Dataset)
    assert (ds.name, ds.label, ds.source) == ("mnist", "MNIST", "data/mnist.npz")
    assert ds.class_names == tuple("0123456789")
    assert ds.x_train.shape == (6, 28, 28, 1) and ds.input_shape == (28, 28, 1) and ds.num_classes == 10
    synth.check(ds, expected)


def test_mnist_idx(synth):
    expected = synth.idx("data")
    ds = load_dataset("mnist", "data", download=False)
    assert ds.source == "data"
    synth.check(ds, expected)


def test_npz_is_preferred_to_idx_in_the_same_folder(synth):
    synth.idx("data")
    expected = synth.npz("data")
    ds = load_dataset("mnist", "data", download=False)
    assert ds.source == "data/mnist.npz"
    synth.check(ds, expected)


def test_fashion_mnist_in_keras_layout(synth):
    # keras.datasets.fashion_mnist keeps the four IDX files in datasets/fashion-mnist/
    expected = synth.idx("keras_home/datasets/fashion-mnist")
    ds = load_dataset("fashion_mnist", download=False)
    assert (ds.name, ds.label) == ("fashion_mnist", "Fashion-MNIST")
    assert ds.class_names[0] == "T-shirt/top" and ds.class_names[9] == "Ankle boot"
    synth.check(ds, expected)


def test_fashion_mnist_by_other_spellings(synth):
    expected = synth.npz("data", "fashion-mnist.npz")
    for spelling in ("fashion-mnist", "Fashion_MNIST", "fashionmnist"):
        synth.check(load_dataset(spelling, "data", download=False), expected)


@pytest.mark.parametrize("kind", ["cifar10", "cifar100"])
def test_cifar_official_tar(synth, kind):
    archive = "cifar-10-python.tar.gz" if kind == "cifar10" else "cifar-100-python.tar.gz"
    expected = synth.cifar_tar(f"data/{archive}", kind)
    ds = load_dataset(kind, "data", download=False)
    assert ds.source == f"data/{archive}"
    assert ds.x_train.shape == ((10, 32, 32, 3) if kind == "cifar10" else (2, 32, 32, 3))
    if kind == "cifar10":
        assert (ds.label, ds.class_names) == ("CIFAR-10", CIFAR10_NAMES)
    else:  # fine labels and fine label names, not the 20 coarse ones
        assert ds.label == "CIFAR-100" and ds.num_classes == 100 and ds.class_names[7] == "class07"
    synth.check(ds, expected)


@pytest.mark.parametrize("kind", ["cifar10", "cifar100"])
def test_cifar_extracted_folder(synth, kind):
    folder = "cifar-10-batches-py" if kind == "cifar10" else "cifar-100-python"
    expected = synth.cifar_dir(f"data/{folder}", kind)
    ds = load_dataset(kind, "data", download=False)
    assert ds.source == f"data/{folder}"
    synth.check(ds, expected)


def test_cifar_pixel_layout_is_red_green_blue_planes(synth):
    """Row bytes 0..1023 are red, 1024..2047 green, 2048.. blue; each plane is row-major 32x32."""
    files, _ = synth.cifar_files()
    (synth.root / "data/cifar-10-batches-py").mkdir(parents=True)
    for name, data in files.items():
        (synth.root / "data/cifar-10-batches-py" / name).write_bytes(data)
    row = pickle.loads(files["data_batch_1"], encoding="bytes")[b"data"][0]
    ds = load_dataset("cifar10", "data", download=False)
    assert ds.x_train[0, 0, 0, 0] == row[0]           # red, top-left
    assert ds.x_train[0, 0, 1, 1] == row[1024 + 1]    # green, row 0 column 1
    assert ds.x_train[0, 1, 0, 2] == row[2048 + 32]   # blue, row 1 column 0


def test_cifar_python3_pickles(synth):
    """Batches re-pickled by Python 3 (protocol 4 and 5, numpy 2 names) load the same."""
    for protocol in (4, 5):
        expected = synth.cifar_dir(f"p{protocol}/cifar-10-batches-py",
                                   dumps=lambda obj, p=protocol: pickle.dumps(obj, protocol=p))
        synth.check(load_dataset("cifar10", f"p{protocol}", download=False), expected)


def test_keras3_cifar_cache_layout(synth):
    # keras.datasets.cifar10 in Keras 3 extracts to datasets/cifar-10-batches-py-target/cifar-10-batches-py/
    expected = synth.cifar_dir("keras_home/datasets/cifar-10-batches-py-target/cifar-10-batches-py")
    synth.check(load_dataset("cifar10", download=False), expected)


@pytest.mark.parametrize("make, given, name, label", [
    (lambda s: s.npz("d"), "d/mnist.npz", "mnist", "MNIST"),
    (lambda s: s.npz("d", "digits.npz"), "d/digits.npz", "digits", "digits"),
    (lambda s: s.idx("d/fashion-mnist"), "d/fashion-mnist", "fashion_mnist", "Fashion-MNIST"),
    (lambda s: s.cifar_tar("d/cifar-10-python.tar.gz"), "d/cifar-10-python.tar.gz", "cifar10", "CIFAR-10"),
    (lambda s: s.cifar_dir("d/batches"), "d/batches", "cifar10", "CIFAR-10"),
    (lambda s: s.cifar_dir("d/c100", "cifar100"), "d/c100", "cifar100", "CIFAR-100"),
])
def test_standard_files_by_path(synth, make, given, name, label):
    expected = make(synth)
    ds = load_dataset(given)
    assert (ds.name, ds.label, ds.source) == (name, label, given)
    synth.check(ds, expected)


def test_unknown_npz_classes_come_from_labels(synth):
    synth.npz("d", "digits.npz")
    ds = load_dataset("d/digits.npz")
    assert ds.class_names == tuple(str(i) for i in range(int(max(ds.y_train.max(), ds.y_test.max())) + 1))


def test_labels_are_a_fresh_int64_copy(synth):
    synth.idx("data")
    ds = load_dataset("mnist", "data", download=False)
    ds.x_train[0, 0, 0, 0] = 7  # writable: the trainer may shuffle in place
    assert ds.y_train.dtype == np.int64 and ds.y_train.flags.writeable
