"""Image folders (train/<class>/, test/<class>/) as folders and tar archives, and their cache."""

from __future__ import annotations

import os

import numpy as np
import pytest

from zoo.data import DataError, load_dataset

CIFAR10_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def test_png_folder(synth):
    expected = synth.image_dir("pets")
    ds = load_dataset("pets")
    assert (ds.name, ds.label, ds.source, ds.class_names) == ("pets", "pets", "pets", ("cat", "dog"))
    assert ds.x_train.shape == (6, 4, 5, 3)  # 5 wide, 4 high
    synth.check(ds, expected)


def test_png_tar_with_top_folder(synth):
    expected = synth.image_tar("pets.tar.gz", extra={"pets/README.txt": b"not an image"})
    ds = load_dataset("pets.tar.gz")
    assert (ds.name, ds.source, ds.class_names) == ("pets", "pets.tar.gz", ("cat", "dog"))
    synth.check(ds, expected)


def test_tar_without_top_folder(synth):
    expected = synth.image_tar("flat.tgz", top="")
    synth.check(load_dataset("flat.tgz"), expected)


def test_jpeg_folder_is_close_to_the_source_pixels(synth):
    expected = synth.image_dir("shots", fmt="JPEG", size=(8, 8))
    ds = load_dataset("shots")
    assert ds.x_train.shape == (6, 8, 8, 3) and ds.x_train.dtype == np.uint8
    np.testing.assert_array_equal(ds.y_train, expected["y_train"])
    # JPEG is lossy, but flat colours come back within a few levels
    assert np.abs(ds.x_train.astype(int) - expected["x_train"]).max() <= 4
    assert np.abs(ds.x_test.astype(int) - expected["x_test"]).max() <= 4


def test_grayscale_images_get_one_channel(synth):
    expected = synth.image_dir("gray", mode="L")
    ds = load_dataset("gray")
    assert ds.x_train.shape == (6, 4, 5, 1)
    synth.check(ds, expected)


def test_a_colour_image_after_grayscale_ones_widens_all_to_rgb(synth, tmp_path):
    from PIL import Image

    synth.image_dir("mixed", mode="L", per_class=(1, 1))
    # "dog" sorts after "cat": its gray image comes second; make it colour
    colour = np.zeros((4, 5, 3), np.uint8)
    colour[..., 0] = 200
    Image.fromarray(colour, "RGB").save(tmp_path / "mixed/train/dog/0000.png")
    gray = np.asarray(Image.open(tmp_path / "mixed/train/cat/0000.png"))
    ds = load_dataset("mixed")
    assert ds.x_train.shape == (2, 4, 5, 3)
    np.testing.assert_array_equal(ds.x_train[0], np.repeat(gray[..., None], 3, axis=-1))
    np.testing.assert_array_equal(ds.x_train[1], colour)


def test_classes_are_sorted_and_hidden_files_ignored(synth, tmp_path):
    expected = synth.image_dir("zoo_imgs", classes=("zebra", "ant", "moth"), per_class=(1, 1))
    (tmp_path / "zoo_imgs/train/ant/.DS_Store").write_bytes(b"junk")
    (tmp_path / "zoo_imgs/train/ant/notes.txt").write_text("not an image")
    ds = load_dataset("zoo_imgs")
    assert ds.class_names == ("ant", "moth", "zebra")
    synth.check(ds, expected)


def test_cifar10_falls_back_to_the_jpeg_copy(synth):
    expected = synth.image_tar("data/cifar10-jpeg.tar.gz", top="cifar10-jpeg", classes=CIFAR10_NAMES,
                               per_class=(1, 1), size=(32, 32))
    ds = load_dataset("cifar10", "data", download=False)
    assert (ds.name, ds.label, ds.class_names) == ("cifar10", "CIFAR-10 (JPEG copy)", CIFAR10_NAMES)
    assert ds.source == "data/cifar10-jpeg.tar.gz"
    synth.check(ds, expected)
    np.testing.assert_array_equal(ds.y_train, np.arange(10))  # airplane=0 ... truck=9


def test_jpeg_copy_by_path_keeps_its_report_label(synth):
    synth.image_dir("cifar10-jpeg", classes=CIFAR10_NAMES, per_class=(1, 1))
    ds = load_dataset("cifar10-jpeg")
    assert (ds.name, ds.label, ds.class_names) == ("cifar10-jpeg", "CIFAR-10 (JPEG copy)", CIFAR10_NAMES)


def test_official_cifar10_wins_over_the_jpeg_copy(synth):
    synth.image_dir("data/cifar10-jpeg", classes=CIFAR10_NAMES, per_class=(1, 1))
    expected = synth.cifar_tar("data/cifar-10-python.tar.gz")
    ds = load_dataset("cifar10", "data", download=False)
    assert ds.label == "CIFAR-10"
    synth.check(ds, expected)


def test_jpeg_copy_with_other_classes_is_refused(synth):
    synth.image_dir("data/cifar10-jpeg", classes=("cat", "dog"), per_class=(1, 1))
    with pytest.raises(DataError) as caught:
        load_dataset("cifar10", "data", download=False)
    assert str(caught.value) == ("data/cifar10-jpeg: class folders are cat, dog; expected airplane, automobile, "
                                 "bird, cat, deer, dog, frog, horse, ship, truck")


def test_second_load_comes_from_the_cache(synth, tmp_path, monkeypatch):
    expected = synth.image_tar("pets.tar.gz")
    first = load_dataset("pets.tar.gz")
    cached = list((tmp_path / "zoo_cache").iterdir())
    assert [p.suffix for p in cached] == [".npz"] and cached[0].name.startswith("pets-")  # no temp files left

    def no_decoding(*args):
        raise AssertionError("decoded again")

    monkeypatch.setattr("zoo.data.datasets.decode", no_decoding)
    monkeypatch.setattr("zoo.data.datasets.scan_tar", no_decoding)
    second = load_dataset("pets.tar.gz")
    synth.check(second, expected)
    assert second.class_names == first.class_names == ("cat", "dog")


def test_cache_dir_argument_beats_zoo_cache(synth, tmp_path):
    synth.image_dir("pets")
    load_dataset("pets", cache_dir=tmp_path / "mine")
    assert len(list((tmp_path / "mine").glob("pets-*.npz"))) == 1
    assert not (tmp_path / "zoo_cache").exists()


def test_a_changed_archive_is_decoded_again(synth, tmp_path):
    synth.image_tar("pets.tar.gz")
    load_dataset("pets.tar.gz")
    expected = synth.image_tar("pets.tar.gz")  # new pixels, same name
    os.utime("pets.tar.gz", ns=(1, 1))
    synth.check(load_dataset("pets.tar.gz"), expected)
    assert len(list((tmp_path / "zoo_cache").iterdir())) == 2


def test_a_changed_folder_is_decoded_again(synth, tmp_path):
    synth.image_dir("pets")
    load_dataset("pets")
    expected = synth.image_dir("pets")
    for path in (tmp_path / "pets").rglob("*.png"):
        os.utime(path, ns=(1, 1))
    synth.check(load_dataset("pets"), expected)


def test_a_damaged_cache_is_rebuilt(synth, tmp_path):
    expected = synth.image_tar("pets.tar.gz")
    load_dataset("pets.tar.gz")
    (cached,) = (tmp_path / "zoo_cache").iterdir()
    cached.write_bytes(cached.read_bytes()[:100])
    synth.check(load_dataset("pets.tar.gz"), expected)
    assert cached.stat().st_size > 100


def test_unwritable_cache_only_warns(synth, tmp_path):
    expected = synth.image_dir("pets")
    (tmp_path / "blocker").write_text("a file where the cache folder should be")
    with pytest.warns(UserWarning, match="could not write the dataset cache"):
        ds = load_dataset("pets", cache_dir=tmp_path / "blocker" / "cache")
    synth.check(ds, expected)


def test_pillow_only_tries_the_image_formats(synth, tmp_path):
    from PIL import Image

    synth.image_dir("pets", per_class=(1, 1))
    # a TIFF named .png: Pillow could read it, but untrusted bytes only reach the JPEG/PNG/BMP/GIF decoders
    Image.new("RGB", (5, 4)).save(tmp_path / "pets/train/cat/0000.png", "TIFF")
    with pytest.raises(DataError, match=r"^pets/train/cat/0000.png: not a readable image \(UnidentifiedImageError: "):
        load_dataset("pets")
