"""Issue 8: sizes a file declares are checked before allocating; labels before anything is built from them.

Each hostile file here is small on disk and declares far more than the budget: the refusal comes
from its header, so a test never allocates what the file asks for.
"""

from __future__ import annotations

import gzip
import os
import struct
import tarfile
import tracemalloc

import numpy as np
import pytest

from zoo.data import DataError, load_dataset
from zoo.data.archive import iter_tar
from zoo.data.budget import Budget, parse_size, size_text
from zoo.errors import ZooError

from .conftest import image_folder, npy_member, npz_of, png_header, write_npz



def error_of(*args, **kwargs) -> str:
    with pytest.raises(DataError) as caught:
        load_dataset(*args, **kwargs)
    text = str(caught.value)
    assert isinstance(caught.value, ZooError) and "\n" not in text
    return text


def peak_bytes_of_error(*args, **kwargs) -> tuple[str, int]:
    """The error and the peak of Python and NumPy allocations (tracemalloc sees both) while it was found."""
    tracemalloc.start()
    try:
        return error_of(*args, **kwargs), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# -- sizes: parse, show, default budget -------------------------------------------------------------------

@pytest.mark.parametrize("text, value", [("4G", 4 << 30), ("512M", 512 << 20), ("1.5GiB", 3 << 29),
                                         ("100", 100), ("64k", 64 << 10), (2048, 2048)])
def test_sizes(text, value):
    assert parse_size(text) == value


@pytest.mark.parametrize("text, why", [
    ("lots", "expected a size such as 4G, 512M or a number of bytes (got 'lots')"),
    ("0", "must be at least 1 byte (got '0')"),
])
def test_bad_sizes(text, why):
    with pytest.raises(DataError) as caught:
        parse_size(text)
    assert str(caught.value) == f"max_memory: {why}"


def test_size_text():
    assert [size_text(n) for n in (512, 3 << 30, 184_801_656)] == ["512 bytes", "3.0 GiB", "176 MiB"]


def test_the_default_budget_is_half_the_available_memory(monkeypatch):
    monkeypatch.setattr("zoo.data.budget.available_memory", lambda: 64 << 20)
    budget = Budget.create()
    assert budget.limit == 32 << 20
    budget.take(30 << 20, "first")
    with pytest.raises(DataError) as caught:
        budget.take(4 << 20, "second", file="f.npz")
    assert str(caught.value) == ("f.npz: second needs 4.0 MiB in memory on top of 30.0 MiB already read, over the "
                                 "memory budget of 32.0 MiB (half the available memory; --max-memory changes it)")


# -- .npz: array headers ----------------------------------------------------------------------------------

def test_npz_declaring_3_gib_is_refused_from_its_header(tmp_path):
    # the data is 16 bytes; the header asks for 3 GiB: refused before anything is inflated
    write_npz("bomb.npz", {"x_train": npy_member((3 * 1024, 1024, 1024), data=bytes(16)),
                           **npz_of({"y_train": np.zeros(3, np.uint8), "x_test": np.zeros((1, 2, 2), np.uint8),
                                     "y_test": np.zeros(1, np.uint8)})})
    assert error_of("bomb.npz", max_memory="1G") == (
        "bomb.npz: x_train (3072x1024x1024 uint8) needs 3.0 GiB in memory, over the memory budget of 1.0 GiB "
        "(max_memory 1G)")


def test_a_real_deflate_bomb_is_refused_before_it_is_inflated(tmp_path):
    # 64 MiB of zeros deflate to ~64 KiB: a true zip bomb, at a size a test can afford to build
    arrays = {"x_train": np.zeros((64, 1024, 1024), np.uint8), "y_train": np.arange(64) % 2,
              "x_test": np.zeros((1, 1024, 1024), np.uint8), "y_test": np.zeros(1, np.int64)}
    np.savez_compressed("zeros.npz", **arrays)
    assert os.path.getsize("zeros.npz") < 1 << 20
    error, peak = peak_bytes_of_error("zeros.npz", max_memory="16M")
    assert error == ("zeros.npz: x_train (64x1024x1024 uint8) needs 64.0 MiB in memory, over the memory budget of "
                     "16.0 MiB (max_memory 16M)")
    assert peak < 4 << 20  # nothing near the 64 MiB was inflated


def test_npz_sizes_add_up(synth):
    synth.npz("data")  # 6 + 4 images of 28x28 bytes, and their labels
    assert load_dataset("mnist", "data", max_memory=10 * 784 + 10).x_train.shape == (6, 28, 28, 1)
    assert error_of("mnist", "data", max_memory=6 * 784 + 6).startswith(
        "data/mnist.npz: x_test (4x28x28 uint8) needs 3.1 KiB in memory on top of 4.6 KiB already read")


def test_npz_with_an_unparsable_header():
    write_npz("odd.npz", {key: b"\x93NUMPY\x01\x00\x04\x00junk" for key in ("x_train", "y_train", "x_test", "y_test")})
    assert error_of("odd.npz").startswith("odd.npz: not a readable .npz file (ValueError: ")


def test_a_single_npy_file_is_named():
    np.save("one.npy", np.zeros(3, np.uint8))
    os.replace("one.npy", "one.npz")
    assert error_of("one.npz") == "one.npz: is a single .npy array, expected an .npz archive with x_train, y_train, x_test, y_test"


# -- IDX .gz: dimensions ----------------------------------------------------------------------------------

def idx_header(magic: int, *dims: int) -> bytes:
    return struct.pack(">I", magic) + struct.pack(f">{len(dims)}I", *dims)


def test_idx_gz_declaring_gigabytes_is_refused_from_its_header(synth):
    synth.idx("data")
    # 2,000,000 images of 56x56: 6.3 GB declared, 3 KiB on disk
    with open("data/train-images-idx3-ubyte.gz", "wb") as handle:
        handle.write(gzip.compress(idx_header(0x803, 2_000_000, 56, 56) + bytes(2048)))
    error, peak = peak_bytes_of_error("mnist", "data", download=False, max_memory="1G")
    assert error == ("data/train-images-idx3-ubyte.gz: IDX data (2000000x56x56 bytes) needs 5.8 GiB in memory, "
                     "over the memory budget of 1.0 GiB (max_memory 1G)")
    assert peak < 4 << 20


def test_idx_dimensions_beyond_any_memory_are_refused_by_default(synth):
    synth.idx("data")
    with open("data/t10k-labels-idx1-ubyte.gz", "wb") as handle:
        handle.write(gzip.compress(idx_header(0x801, 0xFFFFFFFF)))
    with open("data/t10k-images-idx3-ubyte.gz", "wb") as handle:
        handle.write(gzip.compress(idx_header(0x803, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)))
    assert error_of("mnist", "data", download=False).startswith(
        "data/t10k-images-idx3-ubyte.gz: IDX data (4294967295x4294967295x4294967295 bytes) needs ")


def test_idx_with_extra_bytes(synth):
    arrays = synth.idx("data")
    raw = idx_header(0x801, 4) + arrays["y_test"].tobytes() + b"\x00\x01"
    open("data/t10k-labels-idx1-ubyte.gz", "wb").write(gzip.compress(raw))
    assert error_of("mnist", "data", download=False) == (
        "data/t10k-labels-idx1-ubyte.gz: IDX file has extra bytes: dimensions 4 need 4 bytes of data, found 6")


def test_idx_header_cut_short(synth):
    synth.idx("data")
    open("data/t10k-images-idx3-ubyte.gz", "wb").write(gzip.compress(idx_header(0x803, 4)))
    assert error_of("mnist", "data", download=False) == (
        "data/t10k-images-idx3-ubyte.gz: truncated IDX file: 8 bytes, shorter than its 16-byte header")


# -- tar members: declared sizes ---------------------------------------------------------------------------

def test_tar_member_declaring_3_gib_is_refused_before_it_is_read():
    info = tarfile.TarInfo("set/train/cat/big.png")
    info.size = 3 << 30  # the header says 3 GiB; 1 KiB follows
    with gzip.open("set.tar.gz", "wb") as handle:
        handle.write(info.tobuf(format=tarfile.GNU_FORMAT) + bytes(1024))
    assert error_of("set.tar.gz", max_memory="1G") == (
        "set.tar.gz: member 'set/train/cat/big.png' needs 3.0 GiB in memory, over the memory budget of 1.0 GiB "
        "(max_memory 1G)")


@pytest.mark.parametrize("kind", [tarfile.XHDTYPE, tarfile.GNUTYPE_LONGNAME])
def test_a_pax_or_long_name_header_declaring_3_gib_is_refused(kind):
    # tarfile itself would read such a header's data whole, before zoo sees a member
    info = tarfile.TarInfo("././@Header")
    info.type, info.size = kind, 3 << 30
    with gzip.open("set.tar.gz", "wb") as handle:
        handle.write(info.tobuf(format=tarfile.USTAR_FORMAT) + bytes(1024))
    error, peak = peak_bytes_of_error("set.tar.gz")
    assert error == ("set.tar.gz: a tar header asks to read 3.0 GiB of names or metadata at once (at most 1.0 MiB)")
    assert peak < 4 << 20


def peak_of_empty_members(count: int) -> int:
    header = tarfile.TarInfo("set/notes/x.txt").tobuf(format=tarfile.USTAR_FORMAT)
    with gzip.open("many.tar.gz", "wb", compresslevel=1) as handle:
        handle.write(header * count + bytes(1024))
    tracemalloc.start()
    try:
        assert sum(1 for _ in iter_tar("many.tar.gz", lambda parts: False)) == count
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_headers_of_members_already_read_are_not_kept():
    # tarfile keeps a TarInfo (~450 bytes) per header it read: 4,000 empty members would add ~1.8 MB,
    # and a few MB of .tar.gz can hold millions of them
    assert peak_of_empty_members(4000) - peak_of_empty_members(40) < 256 << 10


def test_tar_members_add_up(synth):
    synth.image_tar("pets.tar.gz")  # ten small PNGs
    with tarfile.open("pets.tar.gz") as tar:
        total = sum(m.size for m in tar)
    assert error_of("pets.tar.gz", max_memory=total - 1).startswith("pets.tar.gz: member 'pets/test/dog/0001.png' needs ")


# -- images: pixels per image, decompression bombs, the decoded array ---------------------------------------

def test_a_12000_by_12000_png_is_refused_before_decoding(synth, tmp_path):
    image_folder(synth, png_header(12000, 12000))
    assert error_of("pics") == ("pics/train/cat/big.png: image is 12000x12000 = 144,000,000 pixels, over the limit "
                                "of 64,000,000 pixels per image")
    assert not any((tmp_path / "zoo_cache").glob("*.npz"))  # nothing decoded, nothing cached


def test_pixels_per_image_are_configurable(synth):
    synth.image_dir("pics", per_class=(1, 1))  # 5x4 images
    assert error_of("pics", max_pixels=19) == ("pics/train/cat/0000.png: image is 5x4 = 20 pixels, over the limit "
                                               "of 19 pixels per image")
    assert load_dataset("pics", max_pixels=20).x_train.shape == (2, 4, 5, 3)


def test_pillows_decompression_bomb_error_is_a_data_error(synth):
    image_folder(synth, png_header(20000, 20000))
    assert error_of("pics", max_pixels=10**9).startswith(
        "pics/train/cat/big.png: image refused as a decompression bomb (DecompressionBombError: Image size "
        "(400000000 pixels) exceeds limit of ")


def test_pillows_decompression_bomb_warning_is_not_a_crash(synth):
    import warnings

    image_folder(synth, png_header(10000, 10000))  # above Pillow's warning limit, below its error limit
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert error_of("pics") == ("pics/train/cat/big.png: image is 10000x10000 = 100,000,000 pixels, over the "
                                    "limit of 64,000,000 pixels per image")


def test_the_decoded_array_is_checked_against_the_budget(synth):
    synth.image_tar("pets.tar.gz", per_class=(3, 2), size=(50, 40))  # 10 RGB images of 50x40: 60,000 bytes
    with tarfile.open("pets.tar.gz") as tar:
        members = sum(m.size for m in tar)
    assert error_of("pets.tar.gz", max_memory=members + 59_999).startswith(
        "pets.tar.gz: pets/train/cat/0000.png: 10 images of 50x40x3 needs 58.6 KiB in memory on top of ")
    assert load_dataset("pets.tar.gz", max_memory=members + 60_000).x_train.shape == (6, 40, 50, 3)


# -- files that are not files ---------------------------------------------------------------------------

def test_a_fifo_named_like_an_image_is_refused(synth):
    synth.image_dir("pics", per_class=(1, 1))
    os.mkfifo("pics/train/cat/x.png")
    assert error_of("pics") == "pics/train/cat/x.png: is a FIFO (named pipe), not a regular file"


def test_a_socket_or_a_link_to_a_device_named_like_an_image_is_refused(synth):
    import socket

    synth.image_dir("pics", per_class=(1, 1))
    with socket.socket(socket.AF_UNIX) as server:
        server.bind("pics/train/cat/s.png")
        assert error_of("pics") == "pics/train/cat/s.png: is a socket, not a regular file"
    os.remove("pics/train/cat/s.png")
    os.symlink("/dev/zero", "pics/test/dog/z.png")
    assert error_of("pics") == "pics/test/dog/z.png: is a character device, not a regular file"


def test_a_fifo_named_like_a_dataset_is_refused():
    os.mkfifo("data.npz")
    assert error_of("data.npz") == "data.npz: is a FIFO (named pipe), not a regular file"
    os.mkfifo("set.tar.gz")
    assert error_of("set.tar.gz") == "set.tar.gz: is a FIFO (named pipe), not a regular file"


def test_a_device_is_refused():
    assert error_of("/dev/zero") == "/dev/zero: is a character device, not a regular file"


def test_a_fifo_as_a_cifar_batch_is_refused(synth):
    synth.cifar_dir("data/cifar-10-batches-py")
    os.remove("data/cifar-10-batches-py/test_batch")
    os.mkfifo("data/cifar-10-batches-py/test_batch")
    assert error_of("cifar10", "data", download=False) == (
        "data/cifar-10-batches-py/test_batch: is a FIFO (named pipe), not a regular file")


# -- labels: before anything is built from their values -------------------------------------------------------

def unknown_npz(name="big.npz", y_train=None, y_test=None, x_test=None):
    arrays = {"x_train": np.zeros((4, 2, 2), np.uint8), "y_train": np.array([0, 1, 0, 1]) if y_train is None else y_train,
              "x_test": np.zeros((2, 2, 2), np.uint8) if x_test is None else x_test,
              "y_test": np.array([1, 0]) if y_test is None else y_test}
    np.savez(name, **arrays)


def test_a_label_of_2_to_the_63_plus_5_is_named_with_its_index():
    unknown_npz(y_train=np.array([0, 1, 2**63 + 5, 1], np.uint64))
    assert error_of("big.npz") == ("big.npz: y_train[2] is 9223372036854775813, expected a label from 0 to 99999 "
                                   "(zoo takes at most 100,000 classes)")


def test_uint64_labels_near_2_to_the_63_are_refused():
    unknown_npz(y_test=np.array([1, 2**63 - 1], np.uint64))
    assert error_of("big.npz") == ("big.npz: y_test[1] is 9223372036854775807, expected a label from 0 to 99999 "
                                   "(zoo takes at most 100,000 classes)")


def test_negative_and_float_labels_in_an_unknown_npz():
    unknown_npz(y_test=np.array([1, -3]))
    assert error_of("big.npz") == ("big.npz: y_test[1] is -3, expected a label from 0 to 99999 "
                                   "(zoo takes at most 100,000 classes)")
    unknown_npz(y_train=np.array([0.0, 1.0, 0.5, 1.0]))
    assert error_of("big.npz") == "big.npz: y_train has shape (4,) and dtype float64, expected integer labels (N,)"


def test_single_class_data_is_refused(synth):
    unknown_npz(y_train=np.zeros(4, np.int64), y_test=np.zeros(2, np.int64))
    assert error_of("big.npz") == "big.npz: has 1 class (0); a classifier needs at least 2"
    synth.image_dir("pics", classes=("cat",), per_class=(2, 1))
    assert error_of("pics") == "pics: has 1 class (cat); a classifier needs at least 2"


def test_training_labels_of_one_class_are_refused(synth):
    arrays = synth.mnist_arrays()
    arrays["y_train"][:] = 3
    synth.npz("data", arrays=arrays)
    assert error_of("mnist", "data", download=False) == (
        "data/mnist.npz: every training label is 3 (3); a classifier needs examples of at least 2 classes")


def test_an_empty_test_split_is_refused_up_front():
    unknown_npz(x_test=np.zeros((0, 2, 2), np.uint8), y_test=np.zeros(0, np.int64))
    assert error_of("big.npz") == "big.npz: the test split is empty (x_test has 0 images)"


# -- --data-dir naming the dataset itself; the cache keyed by the resolved path ---------------------------------

def test_data_dir_may_be_the_npz_file_itself(synth):
    expected = synth.npz("data")
    dataset = load_dataset("mnist", "data/mnist.npz", download=False)
    assert (dataset.source, dataset.label) == ("data/mnist.npz", "MNIST")
    synth.check(dataset, expected)


def test_data_dir_may_be_one_of_the_idx_files(synth):
    expected = synth.idx("data")
    synth.check(load_dataset("mnist", "data/t10k-images-idx3-ubyte.gz", download=False), expected)


def test_data_dir_may_be_the_cifar_archive_or_the_jpeg_copy(synth):
    expected = synth.cifar_tar("cifar-10-python.tar.gz")
    synth.check(load_dataset("cifar10", "cifar-10-python.tar.gz", download=False), expected)
    synth.image_tar("cifar10-jpeg.tar.gz", classes=tuple(f"c{i}" for i in range(10)), per_class=(1, 1))
    assert error_of("cifar10", "cifar10-jpeg.tar.gz", download=False).startswith(
        "cifar10-jpeg.tar.gz: class folders are c0, c1, ")


def test_data_dir_holding_another_dataset_says_which(synth):
    np.savez("mnist.npz", x=np.zeros(1))
    assert error_of("fashion_mnist", "mnist.npz", download=False) == (
        "mnist.npz: holds MNIST, not Fashion-MNIST; use --dataset mnist")
    synth.cifar_dir("cifar-10-batches-py")
    assert error_of("cifar100", "cifar-10-batches-py", download=False) == (
        "cifar-10-batches-py: holds CIFAR-10, not CIFAR-100; use --dataset cifar10")
    synth.image_tar("pets.tar.gz")
    assert error_of("mnist", "pets.tar.gz", download=False) == (
        "pets.tar.gz: is an image archive, not MNIST's files; train on it with --dataset pets.tar.gz")


def test_data_dir_may_be_the_extracted_cifar_folder(synth):
    expected = synth.cifar_dir("cifar-10-batches-py")
    synth.check(load_dataset("cifar10", "cifar-10-batches-py", download=False), expected)


def test_a_symlinked_path_reads_the_same_cache(synth, tmp_path, monkeypatch):
    synth.image_tar("pets.tar.gz")
    os.symlink(tmp_path / "pets.tar.gz", "link.tar.gz")
    first = load_dataset("pets.tar.gz")
    monkeypatch.setattr("zoo.data.datasets.decode", lambda *a: pytest.fail("decoded a second time"))
    second = load_dataset("link.tar.gz")
    np.testing.assert_array_equal(first.x_train, second.x_train)
    assert len(list((tmp_path / "zoo_cache").glob("*.npz"))) == 1


def test_decoding_says_what_it_does_and_where_the_cache_is(synth, tmp_path, monkeypatch):
    synth.image_tar("pets.tar.gz")
    monkeypatch.setattr("zoo.data.datasets.ANNOUNCE_FROM", 10)  # as if these 10 were the 60,000 of CIFAR-10
    said = []
    load_dataset("pets.tar.gz", progress=said.append)
    cached = next((tmp_path / "zoo_cache").glob("*.npz"))
    assert said[0] == "decoding 10 images from pets.tar.gz (only this once: they are cached)"
    assert said[-1].startswith("decoded 10 images in ")
    assert said[-1].endswith(f" s; cached in {cached} ({size_text(cached.stat().st_size)}); later runs read that")
    again = []
    load_dataset("pets.tar.gz", progress=again.append)
    assert again == []


def test_a_small_decode_says_only_where_the_cache_is(synth, tmp_path):
    synth.image_dir("pics", per_class=(1, 1))
    said = []
    load_dataset("pics", progress=said.append)
    assert len(said) == 1 and said[0].startswith("decoded 4 images in ")
