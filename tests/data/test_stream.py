"""Lazy image folders and .tar archives: the same pixels as the in-memory path, crops that are crops,
bounded memory as the folder grows (slow: python -m pytest -m slow tests/data/test_stream.py -s)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest

from zoo.data import load_dataset
from zoo.data.base import DataError
from zoo.data.stream import LazyImages, load_image, open_stream, should_stream


def make_folder(root: Path, n_train: int, n_test: int, size: int = 20, seed: int = 0, suffix: str = ".png") -> Path:
    """Classes c0..c3, each a bright band at its own height on noise; PNG keeps pixels exact."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for split, count in (("train", n_train), ("test", n_test)):
        for i in range(count):
            label = i % 4
            x = (rng.random((size, size, 3)) * 80).astype(np.uint8)
            x[label * size // 4:(label + 1) * size // 4] = 250
            folder = root / split / f"c{label}"
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(x).save(folder / f"{i:06d}{suffix}")
    return root


def make_tar(folder: Path, archive: Path, extra: tuple[str, bytes] | None = None) -> Path:
    with tarfile.open(archive, "w:") as tar:
        tar.add(folder, arcname="set")
        if extra is not None:
            info = tarfile.TarInfo(extra[0])
            info.size = len(extra[1])
            tar.addfile(info, io.BytesIO(extra[1]))
    return archive


def test_streamed_pixels_equal_the_in_memory_decode(tmp_path):
    folder = make_folder(tmp_path / "set", 12, 8)
    memory = load_dataset(folder, cache_dir=tmp_path / "cache")
    lazy = open_stream(folder)
    assert isinstance(lazy.x_train, LazyImages) and lazy.x_train.shape == memory.x_train.shape
    np.testing.assert_array_equal(np.asarray(lazy.x_train), memory.x_train)
    np.testing.assert_array_equal(np.asarray(lazy.x_test), memory.x_test)
    np.testing.assert_array_equal(lazy.y_train, memory.y_train)
    order = np.array([5, 0, 11])
    view = lazy.x_train[order]  # a view: nothing decoded until asked
    assert isinstance(view, LazyImages) and len(view) == 3
    np.testing.assert_array_equal(view.astype(np.float32), memory.x_train[order].astype(np.float32))


def test_a_plain_tar_streams_the_same_images(tmp_path):
    folder = make_folder(tmp_path / "set", 8, 4)
    lazy = open_stream(make_tar(folder, tmp_path / "set.tar"))
    np.testing.assert_array_equal(np.asarray(lazy.x_train), np.asarray(open_stream(folder).x_train))
    assert lazy.name == "set" and lazy.class_names == ("c0", "c1", "c2", "c3")


def test_an_unsafe_tar_member_is_one_line(tmp_path):
    archive = make_tar(make_folder(tmp_path / "set", 4, 4), tmp_path / "bad.tar", ("../evil.png", b"x"))
    with pytest.raises(DataError) as caught:
        open_stream(archive)
    assert str(caught.value) == f"{archive}: refusing member '../evil.png': '..' leaves the archive"


def test_evaluation_is_a_centre_crop_and_training_a_random_resized_crop(tmp_path):
    from zoo.data.images import Image

    from PIL import Image as PILImage

    x = np.random.default_rng(3).integers(0, 256, (40, 48, 3), dtype=np.uint8)
    path = tmp_path / "one.png"
    PILImage.fromarray(x).save(path)
    item = Image(0, str(path), None, path)
    # 35 / 0.875 = 40 = the shorter side: no resize, so the centre crop is plain slicing.
    np.testing.assert_array_equal(load_image(item, (35, 35), 3, None), x[2:37, 6:41])
    crops = [load_image(item, (16, 16), 3, np.random.default_rng(seed)) for seed in range(4)]
    assert all(c.shape == (16, 16, 3) for c in crops)
    assert len({c.tobytes() for c in crops}) == 4  # fresh crops each draw
    np.testing.assert_array_equal(load_image(item, (16, 16), 3, np.random.default_rng(1)), crops[1])  # seeded


def test_when_the_data_is_streamed(tmp_path):
    folder = make_folder(tmp_path / "set", 4, 4)
    assert should_stream(folder, "none", None, None)
    assert not should_stream(folder, "memory", None, None)
    assert not should_stream(folder, "auto", None, None)  # 8 small images fit
    assert should_stream(folder, "auto", None, 1000)  # 8 x 20 x 20 x 3 = 9,600 bytes do not fit 1,000
    assert should_stream(folder, "auto", 16, None)  # --input-size crops: only streaming does them
    assert not should_stream(Path("mnist"), "none", None, None)  # a standard dataset's name
    gz = tmp_path / "set.tar.gz"
    gz.write_bytes(b"")
    with pytest.raises(DataError) as caught:
        should_stream(gz, "none", None, None)
    assert str(caught.value) == (f"{gz}: --cache none streams image folders and uncompressed .tar archives; "
                                 "extract this one or repack it as .tar")
    with pytest.raises(DataError, match=r"--cache must be one of auto, memory, none \(got 'disk'\)"):
        should_stream(folder, "disk", None, None)


def test_images_of_different_sizes_need_an_input_size(tmp_path):
    from PIL import Image as PILImage

    folder = make_folder(tmp_path / "set", 4, 4)
    odd = folder / "train" / "c0" / "zz.png"
    PILImage.fromarray(np.zeros((10, 12, 3), np.uint8)).save(odd)
    with pytest.raises(DataError) as caught:
        np.asarray(open_stream(folder).x_train)
    assert str(caught.value) == (f"{odd}: image is 12x10, the first is 20x20; give --input-size to crop every "
                                 "image to one size")
    assert np.asarray(open_stream(folder, 16).x_train).shape == (5, 16, 16, 3)


TINY = """
tiny_rgb:
  input_shape: [16, 16, 3]
  classes: 4
  conv: {batch_norm: true, bias: false}
  features: [8, M]
  head: [{type: flatten}, {type: classifier}]
"""


def test_zoo_train_streams_a_folder_and_learns(tmp_path, write_spec):
    from typer.testing import CliRunner

    from zoo.cli.main import app

    folder = make_folder(tmp_path / "set", 160, 40)
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["train", str(write_spec(TINY, "tiny.yaml")), "--dataset", str(folder),
                                      "--cache", "none", "--input-size", "16", "--recipe", "mnist_fast", "-e", "3",
                                      "-b", "16", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["input_shape"] == [16, 16, 3] and metrics["test_examples"] == 40
    assert metrics["test_accuracy"] >= 0.9  # the bands survive crops of 8%-100% of the area


def _peak_rss_mb(args: list[str]) -> tuple[float, float]:
    """Peak RSS (MB) of one `zoo train` child, measured by a fresh parent, and its wall time."""
    probe = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
             "r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
             "sys.stderr.write(r.stderr[-3000:]) if r.returncode else None; "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, time.perf_counter() - t, "
             "r.returncode)")
    done = subprocess.run([sys.executable, "-c", probe, sys.executable, "-m", "zoo.cli", "train", *args],
                          capture_output=True, text=True, timeout=1800)
    peak, seconds, code = done.stdout.split()
    assert code == "0", done.stderr
    return float(peak), float(seconds)


@pytest.mark.slow
def test_peak_memory_is_flat_as_the_folder_grows(tmp_path):
    small_n, large_n = (int(v) for v in os.environ.get("ZOO_STREAM_SIZES", "20000,80000").split(","))
    peaks = {}
    for n in (small_n, large_n):
        started = time.perf_counter()
        folder = make_folder(tmp_path / f"set{n}", n, 1000, size=40, seed=n, suffix=".jpg")
        print(f"\n{n} images generated in {time.perf_counter() - started:.0f} s")
        peaks[n] = _peak_rss_mb(["resnet18", "--dataset", str(folder), "--cache", "none", "--input-size", "32",
                                 "--epochs", "1", "--limit", "1024", "--test-limit", "256", "--batch-size", "64",
                                 "--out", str(tmp_path / f"run{n}"), "--quiet"])
        print(f"{n} images: peak RSS {peaks[n][0]:.0f} MB, {peaks[n][1]:.0f} s")
    assert abs(peaks[large_n][0] - peaks[small_n][0]) <= 0.10 * peaks[small_n][0]


@pytest.mark.slow
def test_streaming_throughput_against_the_in_memory_path(tmp_path):
    """Prints decoded images/s (no timed assertion): one decode into memory, then batches from memory,
    then streamed batches (random resized crops) in one thread and in the prefetch workers."""
    from concurrent.futures import ThreadPoolExecutor

    from zoo.data.stream import WORKERS, prefetch
    from zoo.training.pipeline import Batches, Split

    n = int(os.environ.get("ZOO_STREAM_THROUGHPUT", "4000"))
    side = int(os.environ.get("ZOO_STREAM_SIDE", "40"))  # generated JPEGs are side x side; crops 0.8 x side
    folder = make_folder(tmp_path / "set", n, 100, size=side, suffix=".jpg")

    def rate(run) -> float:
        started = time.perf_counter()
        count = run()
        return count / (time.perf_counter() - started)

    memory = load_dataset(folder, cache_dir=tmp_path / "cache")
    decode = rate(lambda: len(load_dataset(folder, cache_dir=tmp_path / "cache2").x_train) + 100)
    in_memory = Batches(Split(memory.x_train, memory.y_train), 4, 64, train=True)
    from_memory = rate(lambda: sum(len(in_memory[i][0]) for i in range(len(in_memory))))
    lazy = open_stream(folder, side * 4 // 5)
    streamed = Batches(Split(lazy.x_train, lazy.y_train), 4, 64, train=True)
    prefetch(streamed)
    one_thread = rate(lambda: sum(len(streamed[i][0]) for i in range(len(streamed))))
    with ThreadPoolExecutor(WORKERS) as pool:
        workers = rate(lambda: sum(len(b[0]) for b in pool.map(streamed.__getitem__, range(len(streamed)))))
    print(f"\n{n} JPEGs {side}x{side}: decode into memory {decode:.0f} img/s; batches from memory "
          f"{from_memory:.0f} img/s; streamed {side * 4 // 5}-pixel crops, 1 thread {one_thread:.0f} img/s, "
          f"{WORKERS} threads {workers:.0f} img/s")
    assert streamed[0][0].shape == (64, side * 4 // 5, side * 4 // 5, 3)
