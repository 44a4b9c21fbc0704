"""Issue 8 through `zoo train`: hostile datasets are one `error:` line and exit status 2, before any training.

Every case fails while the dataset is read, before Keras is imported, so each test is quick.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from tests.cli.test_errors import fails, runner
from zoo.cli.main import app

from .conftest import image_folder, npy_member, npz_of, png_header, write_npz

CLI = "import sys; from zoo.cli.main import run; sys.argv[0] = 'zoo'; run()"


def train(*args: str) -> list[str]:
    return ["train", "vgg_mini", "--quiet", *args]


def test_a_fifo_named_x_png_in_an_image_folder_is_refused_at_once(synth):
    synth.image_dir("pics", per_class=(1, 1))
    os.mkfifo("pics/train/cat/x.png")

    def waited(signum, frame):
        raise AssertionError("the FIFO was opened and the read waited for a writer")

    # in this process (a subprocess pays a TensorFlow start-up): an alarm ends a read that would wait for ever
    previous = signal.signal(signal.SIGALRM, waited)
    signal.alarm(60)
    try:
        fails(train("--dataset", "pics"), "pics/train/cat/x.png: is a FIFO (named pipe), not a regular file")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_a_device_as_the_dataset():
    fails(train("--dataset", "/dev/zero"), "/dev/zero: is a character device, not a regular file")


def test_an_empty_test_split_is_refused_before_training(tmp_path):
    np.savez("empty.npz", x_train=np.zeros((4, 2, 2), np.uint8), y_train=np.array([0, 1, 0, 1]),
             x_test=np.zeros((0, 2, 2), np.uint8), y_test=np.zeros(0, np.int64))
    fails(train("--dataset", "empty.npz", "--out", "run"), "empty.npz: the test split is empty (x_test has 0 images)")
    assert not (tmp_path / "run").exists()  # refused up front: no run folder left without metrics


def test_uint64_labels_near_2_to_the_63_are_refused():
    np.savez("big.npz", x_train=np.zeros((3, 2, 2), np.uint8), y_train=np.array([0, 1, 2**63 + 5], np.uint64),
             x_test=np.zeros((1, 2, 2), np.uint8), y_test=np.zeros(1, np.uint64))
    fails(train("--dataset", "big.npz"),
          "big.npz: y_train[2] is 9223372036854775813, expected a label from 0 to 99999 (zoo takes at most 100,000 classes)")


def test_single_class_data_is_refused():
    np.savez("one.npz", x_train=np.zeros((3, 2, 2), np.uint8), y_train=np.zeros(3, np.int64),
             x_test=np.zeros((1, 2, 2), np.uint8), y_test=np.zeros(1, np.int64))
    fails(train("--dataset", "one.npz"), "one.npz: has 1 class (0); a classifier needs at least 2")


def test_a_12000_by_12000_png_is_refused_and_nothing_is_cached(synth, tmp_path):
    image_folder(synth, png_header(12000, 12000))
    fails(train("--dataset", "pics"), "pics/train/cat/big.png: image is 12000x12000 = 144,000,000 pixels, over the "
                                      "limit of 64,000,000 pixels per image")
    assert not any((tmp_path / "zoo_cache").glob("*"))


def test_a_decompression_bomb_npz_and_max_memory():
    write_npz("bomb.npz", {"x_train": npy_member((3 * 1024, 1024, 1024), data=bytes(16)),
                           **npz_of({"y_train": np.zeros(3, np.uint8), "x_test": np.zeros((1, 2, 2), np.uint8),
                                     "y_test": np.zeros(1, np.uint8)})})
    fails(train("--dataset", "bomb.npz", "--max-memory", "2G"),
          "bomb.npz: x_train (3072x1024x1024 uint8) needs 3.0 GiB in memory, over the memory budget of 2.0 GiB "
          "(max_memory 2G)")


def test_under_ulimit_v_the_default_budget_refuses_a_3_gib_npz():
    # the probe's setting: a 2 GiB address-space limit; half of what is left is the default budget
    import re
    import resource

    write_npz("bomb.npz", {"x_train": npy_member((3 * 1024, 1024, 1024), data=bytes(16)),
                           **npz_of({"y_train": np.zeros(3, np.uint8), "x_test": np.zeros((1, 2, 2), np.uint8),
                                     "y_test": np.zeros(1, np.uint8)})})
    limit = lambda: resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))  # noqa: E731
    done = subprocess.run([sys.executable, "-c", CLI, *train("--dataset", "bomb.npz")], capture_output=True,
                          text=True, timeout=120, preexec_fn=limit)
    assert (done.returncode, done.stdout) == (2, "")
    assert re.fullmatch(r"error: bomb.npz: x_train \(3072x1024x1024 uint8\) needs 3.0 GiB in memory, over the memory "
                        r"budget of \d+ MiB \(half the available memory; --max-memory changes it\)\n", done.stderr)


def test_a_bad_max_memory():
    fails(train("--max-memory", "lots"), "max_memory: expected a size such as 4G, 512M or a number of bytes (got 'lots')")


def test_data_dir_naming_another_dataset_says_what_to_do():
    np.savez("mnist.npz", x=np.zeros(1))
    fails(train("--dataset", "cifar10", "--data-dir", "mnist.npz"),
          "mnist.npz: holds MNIST, not CIFAR-10; use --dataset mnist")


@pytest.mark.parametrize("args", [["--help"]])
def test_max_memory_is_documented(args):
    result = runner.invoke(app, ["train", *args], env={"COLUMNS": "200"})
    assert "--max-memory" in result.stdout and "half the available memory" in result.stdout
