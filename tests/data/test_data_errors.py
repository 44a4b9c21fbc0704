"""Missing, truncated, corrupt and hostile inputs: each is one DataError line naming the file."""

from __future__ import annotations

import gzip
import io
import os
import pickle
import tarfile

import numpy as np
import pytest
from PIL import Image

from zoo.data import DataError, load_dataset
from zoo.errors import ZooError

IDX_LIST = ("train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
            "t10k-labels-idx1-ubyte.gz")


def error_of(*args, **kwargs) -> str:
    with pytest.raises(DataError) as caught:
        load_dataset(*args, **kwargs)
    text = str(caught.value)
    assert isinstance(caught.value, ZooError) and "\n" not in text
    return text


def idx_file(array: np.ndarray) -> bytes:
    """A gzipped IDX file: magic 0x0800 | ndim (unsigned bytes), big-endian dimensions, the data."""
    header = (0x0800 | array.ndim).to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


# -- not found --------------------------------------------------------------------------------------------

def test_missing_mnist_lists_places_and_files(tmp_path):
    keras = tmp_path / "keras_home" / "datasets"
    assert error_of("mnist", "data", download=False) == (
        f"mnist: no data found; looked in data_dir data, $ZOO_DATA (not set), the Keras cache {keras} "
        f"(each also in a mnist/ subfolder) for mnist.npz or the four IDX files {IDX_LIST}; "
        "download skipped (download=False)")


def test_missing_cifar10_names_the_official_files_and_the_jpeg_copy(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_DATA", str(tmp_path / "shared"))
    keras = tmp_path / "keras_home" / "datasets"
    assert error_of("cifar10", download=False) == (
        f"cifar10: no data found; looked in data_dir (not given), $ZOO_DATA {tmp_path / 'shared'}, "
        f"the Keras cache {keras} (each also in a cifar10/ or cifar-10/ subfolder) for cifar-10-python.tar.gz "
        "or its extracted cifar-10-batches-py/ (or the image-folder copy cifar10-jpeg.tar.gz or cifar10-jpeg/); "
        "download skipped (download=False)")


def test_incomplete_idx_set_is_named(synth, tmp_path):
    synth.idx("data")
    os.remove("data/train-images-idx3-ubyte.gz")
    os.remove("data/train-labels-idx1-ubyte.gz")
    assert error_of("mnist", "data", download=False).endswith(
        "; data has an incomplete IDX set (missing train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz); "
        "download skipped (download=False)")


def test_unknown_name(tmp_path):
    keras = tmp_path / "keras_home" / "datasets"
    assert error_of("imagenet", "data") == (
        "unknown dataset 'imagenet': not one of mnist, fashion_mnist, cifar10, cifar100 and no file or folder "
        "imagenet, imagenet.tar.gz, imagenet.tgz or imagenet.tar here or in data_dir data, $ZOO_DATA (not set), "
        f"the Keras cache {keras}")


def test_missing_path():
    assert error_of("some/where.tar.gz") == "some/where.tar.gz: no such file or folder"


def test_unsupported_file(tmp_path):
    (tmp_path / "data.zip").write_bytes(b"PK")
    assert error_of("data.zip") == ("data.zip: unsupported file: expected an .npz, a tar archive "
                                    "(.tar.gz, .tgz, .tar) or a folder")


def test_folder_that_is_no_image_folder(tmp_path):
    (tmp_path / "stuff" / "a").mkdir(parents=True)
    assert error_of("stuff") == ("stuff: is not an image folder: expected train/<class>/ and test/<class>/ "
                                 "folders, at the top or under one top folder")


# -- MNIST files ------------------------------------------------------------------------------------------

def test_truncated_gzip(synth):
    synth.idx("data")
    path = "data/train-images-idx3-ubyte.gz"
    data = open(path, "rb").read()
    open(path, "wb").write(data[: len(data) // 2])
    assert error_of("mnist", "data", download=False) == f"{path}: truncated gzip file: the compressed data ends early"


def test_not_gzip(synth):
    synth.idx("data")
    open("data/t10k-labels-idx1-ubyte.gz", "wb").write(b"plain bytes, no gzip header")
    assert error_of("mnist", "data", download=False) == (
        "data/t10k-labels-idx1-ubyte.gz: not a valid gzip file (BadGzipFile: Not a gzipped file (b'pl'))")


def test_wrong_idx_magic(synth):
    arrays = synth.idx("data")
    # an images file (0x803) where the labels file belongs
    open("data/train-labels-idx1-ubyte.gz", "wb").write(idx_file(arrays["x_train"]))
    assert error_of("mnist", "data", download=False) == (
        "data/train-labels-idx1-ubyte.gz: wrong IDX magic number 0x00000803, expected 0x00000801 "
        "(unsigned bytes, 1-D)")


def test_truncated_idx_data(synth):
    arrays = synth.idx("data")
    raw = gzip.decompress(idx_file(arrays["x_test"]))
    open("data/t10k-images-idx3-ubyte.gz", "wb").write(gzip.compress(raw[:-10]))
    assert error_of("mnist", "data", download=False) == (
        "data/t10k-images-idx3-ubyte.gz: truncated IDX file: dimensions 4x28x28 need 3136 bytes of data, found 3126")


def test_idx_counts_disagree(synth):
    arrays = synth.idx("data")
    open("data/train-labels-idx1-ubyte.gz", "wb").write(idx_file(arrays["y_train"][:5]))
    assert error_of("mnist", "data", download=False) == (
        "data/train-labels-idx1-ubyte.gz: has 5 labels but data/train-images-idx3-ubyte.gz has 6 images")


def test_label_out_of_range(synth):
    arrays = synth.mnist_arrays()
    arrays["y_test"][1] = 10
    synth.npz("data", arrays=arrays)
    assert error_of("mnist", "data", download=False) == (
        "data/mnist.npz: y_test[1] is 10, expected a label from 0 to 9")


def test_npz_counts_disagree(synth):
    arrays = synth.mnist_arrays()
    arrays["y_train"] = arrays["y_train"][:-1]
    synth.npz("data", arrays=arrays)
    assert error_of("mnist", "data", download=False) == "data/mnist.npz: y_train has 5 labels but there are 6 images"


def test_truncated_npz(synth):
    synth.npz("data")
    data = open("data/mnist.npz", "rb").read()
    open("data/mnist.npz", "wb").write(data[:-40])
    assert error_of("mnist", "data", download=False).startswith(
        "data/mnist.npz: not a readable .npz file (BadZipFile: ")


def test_npz_missing_arrays(tmp_path):
    (tmp_path / "data").mkdir()
    np.savez("data/mnist.npz", x_train=np.zeros((1, 28, 28), np.uint8))
    assert error_of("mnist", "data", download=False) == (
        "data/mnist.npz: has no y_train, x_test, y_test (found: x_train)")


def test_npz_that_needs_pickle_is_refused(tmp_path):
    (tmp_path / "data").mkdir()
    np.savez("data/mnist.npz", x_train=np.array([object()], dtype=object), y_train=[0], x_test=[0], y_test=[0])
    assert error_of("mnist", "data", download=False).startswith(
        "data/mnist.npz: not a readable .npz file (ValueError: Object arrays cannot be loaded when allow_pickle=False")


def test_wrong_image_dtype(synth):
    arrays = synth.mnist_arrays()
    arrays["x_train"] = arrays["x_train"].astype(np.float32)
    synth.npz("data", arrays=arrays)
    assert error_of("mnist", "data", download=False) == "data/mnist.npz: x_train has dtype float32, expected uint8"


# -- CIFAR files ------------------------------------------------------------------------------------------

def test_cifar_batch_missing(synth):
    synth.cifar_dir("data/cifar-10-batches-py")
    os.remove("data/cifar-10-batches-py/data_batch_3")
    assert error_of("cifar10", "data", download=False) == (
        "data/cifar-10-batches-py: has no data_batch_3; is it the official python version?")


def test_cifar_label_count_mismatch(synth):
    files, _ = synth.cifar_files()
    batch = pickle.loads(files["test_batch"], encoding="bytes")
    batch[b"labels"].append(3)
    files["test_batch"] = pickle.dumps(batch, protocol=4)
    with tarfile.open("cifar-10-python.tar.gz", "w:gz") as tar:
        for name, data in files.items():
            add(tar, f"cifar-10-batches-py/{name}", data)
    assert error_of("cifar10", ".", download=False) == (
        "cifar-10-python.tar.gz: cifar-10-batches-py/test_batch: has 3 labels for 2 images")


def test_truncated_cifar_tar(synth):
    synth.cifar_tar("data/cifar-10-python.tar.gz")
    data = open("data/cifar-10-python.tar.gz", "rb").read()
    open("data/cifar-10-python.tar.gz", "wb").write(data[: len(data) // 2])
    assert error_of("cifar10", "data", download=False).startswith(
        "data/cifar-10-python.tar.gz: not a readable tar archive (")


class RunsCode:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_malicious_pickle_is_refused_without_running_it(synth, tmp_path):
    synth.cifar_dir("data/cifar-10-batches-py")
    evil = {b"data": np.zeros((1, 3072), np.uint8), b"labels": [0], b"payload": RunsCode()}
    open("data/cifar-10-batches-py/data_batch_1", "wb").write(pickle.dumps(evil, protocol=4))
    assert error_of("cifar10", "data", download=False) == (
        "data/cifar-10-batches-py/data_batch_1: not a valid CIFAR pickle "
        f"(UnpicklingError: refusing to load global {os.system.__module__}.system)")
    assert not (tmp_path / "pwned").exists()


def test_malicious_pickle_inside_an_archive(synth, tmp_path):
    files, _ = synth.cifar_files()
    files["batches.meta"] = pickle.dumps(RunsCode(), protocol=4)
    with tarfile.open("cifar-10-python.tar.gz", "w:gz") as tar:
        for name, data in files.items():
            add(tar, f"cifar-10-batches-py/{name}", data)
    assert error_of("cifar10", ".", download=False) == (
        "cifar-10-python.tar.gz: cifar-10-batches-py/batches.meta: not a valid CIFAR pickle "
        f"(UnpicklingError: refusing to load global {os.system.__module__}.system)")
    assert not (tmp_path / "pwned").exists()


def test_pickled_object_arrays_are_refused(synth):
    synth.cifar_dir("data/cifar-10-batches-py")
    evil = {b"data": np.array([None], dtype=object), b"labels": [0]}
    open("data/cifar-10-batches-py/data_batch_2", "wb").write(pickle.dumps(evil, protocol=4))
    assert error_of("cifar10", "data", download=False) == (
        "data/cifar-10-batches-py/data_batch_2: not a valid CIFAR pickle (UnpicklingError: refusing an object array)")


def test_symlinked_cifar_batch_is_refused(synth, tmp_path):
    synth.cifar_dir("data/cifar-10-batches-py")
    os.replace("data/cifar-10-batches-py/test_batch", "elsewhere")
    os.symlink(tmp_path / "elsewhere", "data/cifar-10-batches-py/test_batch")
    assert error_of("cifar10", "data", download=False) == (
        "data/cifar-10-batches-py/test_batch: refusing a symlinked CIFAR batch")


# -- image folders and hostile archives --------------------------------------------------------------------

def add(tar: tarfile.TarFile, name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, link: str = "") -> None:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size = kind, link, len(data)
    tar.addfile(info, io.BytesIO(data) if data else None)


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (10, 20, 30)).save(out, "PNG")
    return out.getvalue()


def image_tar(path: str, *extra) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for split in ("train", "test"):
            add(tar, f"set/{split}/cat/0.png", png())
        for args in extra:
            add(tar, *args)


@pytest.mark.parametrize("member, why", [
    (("../evil.png", png()), "'..' leaves the archive"),
    (("set/train/cat/../../../evil.png", png()), "'..' leaves the archive"),
    (("/etc/evil.png", png()), "absolute path"),
    (("set/train/cat/1.png", b"", tarfile.SYMTYPE, "/etc/passwd"), "links are not allowed"),
    (("set/train/cat/2.png", b"", tarfile.LNKTYPE, "set/train/cat/0.png"), "links are not allowed"),
    (("set/train/cat/dev", b"", tarfile.CHRTYPE), "device, fifo or other special file"),
    (("set/fifo", b"", tarfile.FIFOTYPE), "device, fifo or other special file"),
])
def test_unsafe_archive_members_are_refused(member, why):
    image_tar("set.tar.gz", member)
    assert error_of("set.tar.gz") == f"set.tar.gz: refusing member {member[0]!r}: {why}"


def test_unsafe_members_refuse_a_cifar_archive_too(synth):
    files, _ = synth.cifar_files()
    with tarfile.open("cifar-10-python.tar.gz", "w:gz") as tar:
        for name, data in files.items():
            add(tar, f"cifar-10-batches-py/{name}", data)
        add(tar, "cifar-10-batches-py/link", b"", tarfile.SYMTYPE, "../../etc/passwd")
    assert error_of("cifar10", ".", download=False) == (
        "cifar-10-python.tar.gz: refusing member 'cifar-10-batches-py/link': links are not allowed")


def test_corrupt_jpeg_in_folder(synth):
    synth.image_dir("shots", fmt="JPEG", per_class=(2, 1))
    path = "shots/train/dog/0001.jpg"
    data = open(path, "rb").read()
    open(path, "wb").write(data[: len(data) // 2])
    assert error_of("shots") == f"{path}: not a readable image (OSError: Truncated File Read)"


def test_corrupt_jpeg_in_archive(synth):
    image_tar("set.tar.gz", ("set/test/cat/1.jpg", b"not an image at all"))
    assert error_of("set.tar.gz").startswith("set.tar.gz: set/test/cat/1.jpg: not a readable image "
                                             "(UnidentifiedImageError: cannot identify image file ")


def test_truncated_image_archive(synth):
    synth.image_tar("pets.tar.gz")
    data = open("pets.tar.gz", "rb").read()
    open("pets.tar.gz", "wb").write(data[:-30])
    assert error_of("pets.tar.gz") == ("pets.tar.gz: not a readable tar archive (EOFError: Compressed file ended "
                                       "before the end-of-stream marker was reached)")


def test_images_of_different_sizes(synth):
    synth.image_dir("pets", per_class=(1, 1))
    Image.new("RGB", (7, 7)).save("pets/test/dog/0000.png")
    assert error_of("pets") == "pets/test/dog/0000.png: image is 7x7, the others are 5x4"


def test_test_class_without_train_class(synth, tmp_path):
    synth.image_dir("pets", per_class=(1, 1))
    (tmp_path / "pets/test/bird").mkdir()
    assert error_of("pets") == "pets: test/bird/ has no matching train/bird/ folder"


def test_empty_split(synth, tmp_path):
    synth.image_dir("pets", per_class=(1, 1))
    for path in (tmp_path / "pets/test").rglob("*.png"):
        path.unlink()
    assert error_of("pets") == "pets: has no images in test/<class>/ (looked for .jpg, .jpeg, .png, .bmp, .gif)"


def plain_image_tar(synth) -> tuple[bytes, int]:
    """An uncompressed image archive and the offset of its last member's header."""
    synth.image_tar("pets.tar.gz")
    with tarfile.open("pets.tar.gz") as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar]
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:") as tar:
        for member, data in members:
            tar.addfile(member, io.BytesIO(data))
    with tarfile.open(fileobj=io.BytesIO(out.getvalue())) as tar:
        last = tar.getmembers()[-1].offset
    return out.getvalue(), last


def test_tar_cut_between_members_is_not_a_smaller_dataset(synth):
    data, last = plain_image_tar(synth)
    open("cut.tar", "wb").write(data[:last])
    assert error_of("cut.tar") == ("cut.tar: truncated or damaged tar archive: no end-of-archive marker after "
                                   "the last member read")


def test_tar_with_a_damaged_header(synth):
    data, last = plain_image_tar(synth)
    open("bad.tar", "wb").write(data[:last] + b"\x07" * 512 + data[last + 512:])
    assert error_of("bad.tar") == ("bad.tar: truncated or damaged tar archive: no end-of-archive marker after "
                                   "the last member read")


def test_intact_plain_tar_loads(synth):
    data, _ = plain_image_tar(synth)
    open("whole.tar", "wb").write(data)
    assert load_dataset("whole.tar").x_train.shape == (6, 4, 5, 3)


def test_gzip_with_a_bad_crc(synth):
    synth.image_tar("pets.tar.gz")
    data = bytearray(open("pets.tar.gz", "rb").read())
    data[-8] ^= 0xFF  # the CRC-32 in the gzip trailer
    open("pets.tar.gz", "wb").write(bytes(data))
    assert error_of("pets.tar.gz").startswith("pets.tar.gz: not a readable tar archive (BadGzipFile: CRC check failed ")
