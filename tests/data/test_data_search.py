"""Where load_dataset looks (data_dir, $ZOO_DATA, Keras's cache, Keras's download), in that order."""

from __future__ import annotations

import os
import subprocess
import sys
import types

import numpy as np
import pytest

from zoo.data import DataError, load_dataset
from zoo.data.datasets import keras_datasets_dir


def three_copies(synth, tmp_path, monkeypatch):
    """A different mnist.npz in each place; returns the arrays of each."""
    monkeypatch.setenv("ZOO_DATA", str(tmp_path / "env"))
    return {"data_dir": synth.npz("given"), "zoo_data": synth.npz("env"),
            "keras": synth.npz("keras_home/datasets")}


def test_data_dir_comes_first(synth, tmp_path, monkeypatch):
    copies = three_copies(synth, tmp_path, monkeypatch)
    synth.check(load_dataset("mnist", "given", download=False), copies["data_dir"])


def test_then_zoo_data(synth, tmp_path, monkeypatch):
    copies = three_copies(synth, tmp_path, monkeypatch)
    ds = load_dataset("mnist", "empty", download=False)
    assert ds.source == str(tmp_path / "env" / "mnist.npz")
    synth.check(ds, copies["zoo_data"])


def test_then_the_keras_cache(synth, tmp_path, monkeypatch):
    copies = three_copies(synth, tmp_path, monkeypatch)
    monkeypatch.setenv("ZOO_DATA", str(tmp_path / "elsewhere"))
    ds = load_dataset("mnist", download=False)
    assert ds.source == str(tmp_path / "keras_home" / "datasets" / "mnist.npz")
    synth.check(ds, copies["keras"])


def test_zoo_data_may_list_several_folders(synth, tmp_path, monkeypatch):
    expected = synth.npz("second")
    monkeypatch.setenv("ZOO_DATA", os.pathsep.join([str(tmp_path / "first"), str(tmp_path / "second")]))
    synth.check(load_dataset("mnist", download=False), expected)


def test_a_dataset_subfolder_of_a_place(synth):
    # the layout of ../shared/data: mnist/mnist.npz, cifar10/cifar10-jpeg.tar.gz
    expected = synth.npz("shared/mnist")
    synth.check(load_dataset("mnist", "shared", download=False), expected)


def test_keras_home_defaults_to_home(monkeypatch, tmp_path):
    monkeypatch.delenv("KERAS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert keras_datasets_dir() == tmp_path / ".keras" / "datasets"


def test_named_image_folder_is_found_in_data_dir(synth):
    expected = synth.image_tar("stash/pets.tar.gz")
    ds = load_dataset("pets", "stash")
    assert (ds.name, ds.source) == ("pets", "stash/pets.tar.gz")
    synth.check(ds, expected)


def test_a_known_name_wins_over_a_local_folder(synth):
    synth.image_dir("mnist")  # ./mnist is an image folder, but "mnist" means MNIST
    expected = synth.npz("data")
    synth.check(load_dataset("mnist", "data", download=False), expected)
    assert load_dataset("./mnist").class_names == ("cat", "dog")


def fake_keras(monkeypatch, module: str, load_data) -> list:
    """Stand-ins for keras.datasets.<module>: the download path runs without Keras or a network."""
    calls = []

    def wrapped():
        calls.append(module)
        return load_data()

    for name in ("keras", "keras.datasets"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, f"keras.datasets.{module}",
                        types.SimpleNamespace(load_data=wrapped))
    return calls


def test_download_is_the_last_resort(synth, monkeypatch):
    rng = np.random.default_rng(1)
    x_train, x_test = rng.integers(0, 256, (3, 32, 32, 3), np.uint8), rng.integers(0, 256, (2, 32, 32, 3), np.uint8)
    y_train, y_test = np.array([[1], [2], [9]], np.uint8), np.array([[0], [5]], np.uint8)  # Keras's (N, 1)
    calls = fake_keras(monkeypatch, "cifar10", lambda: ((x_train, y_train), (x_test, y_test)))
    ds = load_dataset("cifar10", "data")
    assert calls == ["cifar10"]
    assert (ds.label, ds.source) == ("CIFAR-10", "keras.datasets.cifar10.load_data()")
    synth.check(ds, {"x_train": x_train, "y_train": [1, 2, 9], "x_test": x_test, "y_test": [0, 5]})


def test_channels_first_download_is_transposed(synth, monkeypatch):
    x = np.arange(2 * 3 * 32 * 32, dtype=np.uint32).astype(np.uint8).reshape(2, 3, 32, 32)
    fake_keras(monkeypatch, "cifar10", lambda: ((x, np.array([0, 1])), (x, np.array([1, 0]))))
    ds = load_dataset("cifar10")
    np.testing.assert_array_equal(ds.x_train, x.transpose(0, 2, 3, 1))


def test_no_download_when_a_file_is_found(synth, monkeypatch):
    calls = fake_keras(monkeypatch, "mnist", lambda: pytest.fail("downloaded"))
    synth.npz("data")
    load_dataset("mnist", "data")
    assert calls == []


def test_no_download_when_not_allowed(monkeypatch):
    calls = fake_keras(monkeypatch, "mnist", lambda: pytest.fail("downloaded"))
    with pytest.raises(DataError):
        load_dataset("mnist", download=False)
    assert calls == []


def test_a_failed_download_is_one_more_line_of_the_error(monkeypatch):
    def offline():
        raise Exception("URL fetch failure on https://example/mnist.npz: None -- [Errno -2] Name or service\nnot known")

    fake_keras(monkeypatch, "mnist", offline)
    with pytest.raises(DataError) as caught:
        load_dataset("mnist")
    assert str(caught.value).endswith(
        "; Keras download failed (Exception: URL fetch failure on https://example/mnist.npz: None -- "
        "[Errno -2] Name or service not known)")
    assert "\n" not in str(caught.value)


def test_a_download_returning_junk_is_a_failed_download(monkeypatch):
    fake_keras(monkeypatch, "mnist", lambda: "not arrays")
    with pytest.raises(DataError, match=r"; Keras download failed \(ValueError: "):
        load_dataset("mnist")


def test_importing_zoo_data_imports_no_keras_tensorflow_or_pillow():
    code = ("import sys, zoo.data; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'keras', 'tensorflow', 'PIL', 'jax', 'torch'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(__import__("zoo").__file__))})
    assert out.stdout.strip() == "[]"
