"""Learning is real: the shared MNIST and CIFAR-10 (JPEG copy) files, full test sets.

Skipped where ../shared/data is absent. The long runs are marked slow:
python -m pytest -m slow tests/train/test_real_data.py -s
"""

from __future__ import annotations

import time

import pytest

from tests.conftest import SHARED_DATA
from zoo.training.trainer import train

MNIST = SHARED_DATA / "mnist"
CIFAR_JPEG = SHARED_DATA / "cifar10" / "cifar10-jpeg.tar.gz"
needs_mnist = pytest.mark.skipif(not (MNIST / "mnist.npz").exists(), reason="no shared MNIST")
needs_cifar = pytest.mark.skipif(not CIFAR_JPEG.exists(), reason="no shared CIFAR-10 JPEG copy")


@pytest.mark.slow
@needs_mnist
def test_short_resnet18_run_is_evaluated_without_batch_norm_collapse(tmp_path):
    # Without re-estimated statistics this run scored about 20% in inference mode (see zoo/training/precise_bn.py).
    result = train("resnet18", "mnist", "resnet_seed", epochs=2, limit=4000, data_dir=str(MNIST),
                   out=tmp_path / "run")
    print(f"resnet18, 2 epochs on 4,000 MNIST images: test accuracy {result.test_accuracy:.4f}")
    assert result.metrics["test_examples"] == 10_000
    assert result.test_accuracy > 0.90


@needs_mnist
@pytest.mark.slow
def test_precise_bn_is_what_prevents_the_collapse(write_spec, tmp_path):
    # Keras's default momentum 0.99: after 50 steps the moving statistics are still mostly their initial values.
    spec = write_spec("""
        resnet18_m99:
          extends: resnet18
          conv: {bn_momentum: 0.99}
    """, "m99.yaml")
    accuracy = {}
    for batches in (0, 20):
        result = train(str(spec), "mnist", "resnet_seed", epochs=2, limit=4000, data_dir=str(MNIST),
                       out=tmp_path / f"run{batches}", precise_bn_batches=batches)
        accuracy[batches] = result.test_accuracy
    print(f"momentum 0.99, 2 epochs on 4,000 images: {accuracy[0]:.4f} without, {accuracy[20]:.4f} with PreciseBN")
    assert accuracy[0] < 0.6 < 0.9 < accuracy[20]


@needs_mnist
@pytest.mark.slow
def test_small_vgg_passes_99_percent_on_full_mnist(tmp_path):
    started = time.perf_counter()
    result = train("vgg_mini", "mnist", "mnist_fast", epochs=3, data_dir=str(MNIST), out=tmp_path / "run")
    seconds = time.perf_counter() - started
    print(f"vgg_mini on MNIST: test accuracy {result.test_accuracy:.4f} in {seconds:.0f} s")
    assert result.metrics["test_examples"] == 10_000
    assert result.test_accuracy >= 0.99


@needs_cifar
@pytest.mark.slow
def test_small_vgg_passes_75_percent_on_cifar10_jpeg_copy(tmp_path):
    started = time.perf_counter()
    result = train("vgg_small", str(CIFAR_JPEG), "cifar_fast", epochs=4, out=tmp_path / "run")
    seconds = time.perf_counter() - started
    print(f"vgg_small on {result.metrics['dataset_label']}: test accuracy {result.test_accuracy:.4f} in {seconds:.0f} s")
    assert result.metrics["test_examples"] == 10_000
    assert result.test_accuracy >= 0.75
