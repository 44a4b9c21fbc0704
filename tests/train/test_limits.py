"""--limit and --test-limit draw a seeded, class-stratified sample; the public zoo.train works as the README says."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

import zoo
from zoo.cli.main import app
from zoo.data.sample import stratified
from tests.train.conftest import digits

runner = CliRunner()


def test_a_sample_of_class_ordered_labels_has_every_class_in_proportion():
    labels = np.repeat(np.arange(10), 5000)  # the CIFAR-10 JPEG copy's order: all airplanes first
    keep = stratified(labels, 5000, seed=0)
    assert len(keep) == 5000 and np.all(np.diff(keep) > 0)
    assert np.bincount(labels[keep]).tolist() == [500] * 10
    assert np.array_equal(keep, stratified(labels, 5000, seed=0))
    assert not np.array_equal(keep, stratified(labels, 5000, seed=1))


def test_small_and_uneven_samples():
    labels = np.array([0] * 90 + [1] * 10)
    assert np.bincount(labels[stratified(labels, 11, 3)]).tolist() == [10, 1]
    assert len(stratified(labels, 2, 3)) == 2 and set(labels[stratified(labels, 2, 3)]) == {0, 1}
    assert np.array_equal(stratified(labels, 500, 3), np.arange(100))


@pytest.fixture
def sorted_mnist(tmp_path):
    """An npz whose examples are sorted by class, as class-ordered folders are."""
    folder = tmp_path / "sorted"
    folder.mkdir()
    (x_train, y_train), (x_test, y_test) = digits(640, 0), digits(200, 1)
    a, b = np.argsort(y_train, kind="stable"), np.argsort(y_test, kind="stable")
    np.savez(folder / "mnist.npz", x_train=x_train[a], y_train=y_train[a], x_test=x_test[b], y_test=y_test[b])
    return folder


def test_limit_on_class_ordered_data_trains_and_tests_on_every_class(tiny_spec, sorted_mnist, tmp_path):
    result = zoo.train(str(tiny_spec), "mnist", data_dir=str(sorted_mnist), out=tmp_path / "run", epochs=3,
                       limit=300, batch_size=32)
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["dataset"]["limit"] == 300 and config["dataset"]["sample"].startswith("stratified")
    assert result.metrics["test_examples"] == 200
    # the first 300 sorted examples hold under five classes: trained on them, a model cannot pass 50% on all ten
    assert result.test_accuracy > 0.6


@pytest.mark.parametrize("option, value, line", [
    ("--test-limit", "-5", "error: --test-limit must be at least 1 (got -5)"),
    ("--test-limit", "0", "error: --test-limit must be at least 1 (got 0)"),
    ("--limit", "1", "error: --limit must be at least 2 (got 1)"),
])
def test_limits_that_would_drop_data_silently_are_refused(option, value, line, tiny_spec, mnist_dir, tmp_path):
    result = runner.invoke(app, ["train", str(tiny_spec), "--dataset", "mnist", "--data-dir", str(mnist_dir),
                                 "--out", str(tmp_path / "run"), option, value])
    assert result.exit_code == 2 and result.stderr.strip() == line
    assert not (tmp_path / "run").exists()


def test_zoo_train_is_the_function_even_after_the_training_modules_are_imported():
    import zoo.training.trainer  # noqa: F401

    assert callable(zoo.train) and zoo.train.__module__ == "zoo.api"
    assert "zoo.training" in sys.modules
