"""Small synthetic datasets written in each real on-disk format, and an isolated search environment."""

from __future__ import annotations

import gzip
import io
import pickle
import struct
import tarfile
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

CIFAR10_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """No real Keras cache, $ZOO_DATA or user cache leaks into a test."""
    monkeypatch.delenv("ZOO_DATA", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path / "zoo_cache"))


def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    """An IDX file: big-endian magic (0x0800 | ndim for unsigned bytes), the dimensions, the data."""
    magic = 0x0800 | array.ndim if magic is None else magic
    return struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape) + array.astype(np.uint8).tobytes()


class Py2Pickler(pickle._Pickler):
    """Writes bytes as Python 2 ``str`` opcodes, as in the official CIFAR files (pickled by Python 2)."""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_py2_str(self, obj):
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str


def py2_pickle(obj) -> bytes:
    out = io.BytesIO()
    Py2Pickler(out, protocol=2).dump(obj)
    return out.getvalue()


def cifar_rows(images: np.ndarray) -> np.ndarray:
    """(N, 32, 32, 3) -> CIFAR's (N, 3072) rows: the red plane, then green, then blue, each row-major."""
    return images.transpose(0, 3, 1, 2).reshape(len(images), 3072)


def npy_member(shape, dtype="uint8", data: bytes = b"") -> bytes:
    """An .npy file: its header declares ``shape``; ``data`` follows (maybe far less than declared)."""
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(out, {"descr": np.dtype(dtype).str, "fortran_order": False,
                                               "shape": tuple(shape)})
    return out.getvalue() + data


def write_npz(path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for key, data in members.items():
            zf.writestr(f"{key}.npy", data)


def npz_of(arrays: dict) -> dict[str, bytes]:
    members = {}
    for key, value in arrays.items():
        out = io.BytesIO()
        np.save(out, value)
        members[key] = out.getvalue()
    return members


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares ``width`` x ``height`` grayscale pixels: signature, IHDR, an empty IDAT, IEND."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def image_folder(synth, big: bytes, name="big.png"):
    """A small grayscale image folder with one more file, ``big``, in train/cat/."""
    synth.image_dir("pics", per_class=(1, 1), mode="L")
    (synth.root / "pics" / "train" / "cat" / name).write_bytes(big)


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


class Synth:
    """Writers for every supported format; each returns the arrays it wrote so tests can compare exactly."""

    @staticmethod
    def check(dataset, expected: dict) -> None:
        """Exact equality of all four arrays, with the contract's dtypes; MNIST's (N, H, W) gains C=1."""
        for key in ("x_train", "y_train", "x_test", "y_test"):
            got, want = getattr(dataset, key), np.asarray(expected[key])
            if key.startswith("x"):
                assert got.dtype == np.uint8
                if want.ndim == 3:
                    want = want[..., np.newaxis]
            else:
                assert got.dtype == np.int64
            assert got.shape == want.shape, key
            np.testing.assert_array_equal(got, want, err_msg=key)

    def __init__(self, root: Path):
        self.root = root
        self.rng = np.random.default_rng(0)

    def mnist_arrays(self, n_train=6, n_test=4):
        return {"x_train": self.rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
                "y_train": np.arange(n_train, dtype=np.uint8) % 10,
                "x_test": self.rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
                "y_test": (np.arange(n_test, dtype=np.uint8) * 3) % 10}

    def npz(self, folder, name="mnist.npz", arrays=None) -> dict:
        arrays = arrays or self.mnist_arrays()
        Path(folder).mkdir(parents=True, exist_ok=True)
        np.savez_compressed(Path(folder) / name, **arrays)
        return arrays

    def idx(self, folder, arrays=None) -> dict:
        arrays = arrays or self.mnist_arrays()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for prefix, split in (("train", "train"), ("t10k", "test")):
            (folder / f"{prefix}-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(arrays[f"x_{split}"])))
            (folder / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(arrays[f"y_{split}"])))
        return arrays

    def cifar_files(self, kind="cifar10", per_batch=2, dumps=py2_pickle) -> tuple[dict[str, bytes], dict]:
        """Member name -> pickled bytes for the official python version, and the expected arrays."""
        if kind == "cifar10":
            train, test, meta = [f"data_batch_{i}" for i in range(1, 6)], ["test_batch"], "batches.meta"
            label_key, classes = b"labels", 10
            meta_obj = {b"label_names": [n.encode() for n in CIFAR10_NAMES], b"num_cases_per_batch": per_batch,
                        b"num_vis": 3072}
        else:
            train, test, meta = ["train"], ["test"], "meta"
            label_key, classes = b"fine_labels", 100
            meta_obj = {b"fine_label_names": [f"class{i:02d}".encode() for i in range(100)],
                        b"coarse_label_names": [f"super{i:02d}".encode() for i in range(20)]}
        files, expected = {meta: dumps(meta_obj)}, {}
        for split, names in (("train", train), ("test", test)):
            xs, ys = [], []
            for name in names:
                x = self.rng.integers(0, 256, (per_batch, 32, 32, 3), dtype=np.uint8)
                y = [int(v) for v in self.rng.integers(0, classes, per_batch)]
                batch = {b"batch_label": name.encode(), label_key: y, b"data": cifar_rows(x),
                         b"filenames": [f"img_{i}.png".encode() for i in range(per_batch)]}
                if kind == "cifar100":
                    batch[b"coarse_labels"] = [v // 5 for v in y]
                files[name] = dumps(batch)
                xs.append(x)
                ys.extend(y)
            expected[f"x_{split}"], expected[f"y_{split}"] = np.concatenate(xs), np.array(ys, np.int64)
        return files, expected

    def cifar_tar(self, path, kind="cifar10", top=None, **kw) -> dict:
        files, expected = self.cifar_files(kind, **kw)
        top = top or ("cifar-10-batches-py" if kind == "cifar10" else "cifar-100-python")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(path, "w:gz") as tar:
            info = tarfile.TarInfo(top)
            info.type = tarfile.DIRTYPE
            tar.addfile(info)
            for name, data in files.items():
                add_bytes(tar, f"{top}/{name}", data)
            add_bytes(tar, f"{top}/readme.html", b"<html></html>")
        return expected

    def cifar_dir(self, folder, kind="cifar10", **kw) -> dict:
        files, expected = self.cifar_files(kind, **kw)
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (folder / name).write_bytes(data)
        return expected

    def image_files(self, classes=("cat", "dog"), per_class=(3, 2), size=(5, 4), mode="RGB", fmt="PNG",
                    top="pets") -> tuple[dict[str, bytes], dict]:
        """Relative path -> encoded image, and the expected arrays (classes sorted, files sorted by name)."""
        from PIL import Image

        channels = 1 if mode == "L" else 3
        files, expected = {}, {}
        for split, count in zip(("train", "test"), per_class):
            xs, ys = [], []
            for label, name in enumerate(sorted(classes)):
                for i in range(count):
                    if fmt == "JPEG":  # flat colours survive JPEG almost exactly
                        pixel = self.rng.integers(0, 256, channels, dtype=np.uint8)
                        x = np.broadcast_to(pixel, (size[1], size[0], channels)).copy()
                    else:
                        x = self.rng.integers(0, 256, (size[1], size[0], channels), dtype=np.uint8)
                    out = io.BytesIO()
                    Image.fromarray(x[..., 0] if mode == "L" else x, mode).save(out, fmt)
                    suffix = ".png" if fmt == "PNG" else ".jpg"
                    files[f"{top + '/' if top else ''}{split}/{name}/{i:04d}{suffix}"] = out.getvalue()
                    xs.append(x)
                    ys.append(label)
            expected[f"x_{split}"], expected[f"y_{split}"] = np.stack(xs), np.array(ys, np.int64)
        return files, expected

    def image_dir(self, folder, **kw) -> dict:
        files, expected = self.image_files(top=None, **kw)
        for rel, data in files.items():
            path = Path(folder) / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        return expected

    def image_tar(self, path, extra: dict[str, bytes] | None = None, **kw) -> dict:
        files, expected = self.image_files(**kw)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(path, "w:gz") as tar:
            for rel, data in {**files, **(extra or {})}.items():
                add_bytes(tar, rel, data)
        return expected


@pytest.fixture
def synth(tmp_path) -> Synth:
    return Synth(tmp_path)
