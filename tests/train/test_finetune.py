"""`zoo train --weights`: a run starts from a file's weights (the classifier swapped when the class
count differs), records the file, and a resume may not name another one."""

from __future__ import annotations

import json

import numpy as np
import pytest

import zoo
from tests.train.conftest import TINY_SPEC
from zoo.errors import ZooError
from zoo.training.trainer import _with_normalisation, train


def test_normalised_run_model_starts_from_the_file(write_spec, tmp_path):
    spec = write_spec(TINY_SPEC, "tiny.yaml")
    source = zoo.build(str(spec), (28, 28, 1), 4)
    path = tmp_path / "tiny.weights.h5"
    source.save_weights(path)
    model = _with_normalisation(zoo.plan(str(spec), (28, 28, 1), 10), [0.5], [0.25], path)
    network = model.layers[-1]
    for layer in source.layers[:-1]:  # all but the classifier: 4 classes in the file, 10 in the run
        for a, b in zip(layer.weights, network.get_layer(layer.name).weights):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    head = network.layers[-1]
    assert head.kernel.shape == (head.kernel.shape[0], 10)


def test_run_records_the_file_and_resume_keeps_it(write_spec, mnist_dir, tmp_path, capfd):
    spec = write_spec(TINY_SPEC, "tiny.yaml")
    path = tmp_path / "tiny.weights.h5"
    zoo.build(str(spec), (28, 28, 1), 10).save_weights(path)
    run = tmp_path / "run"
    train(str(spec), "mnist", "mnist_fast", epochs=1, batch_size=64, data_dir=str(mnist_dir), out=run,
          weights=path, precise_bn_batches=1)
    assert f"weights: 12 tensors of 5 layers from {path} (keras layout)\n" in capfd.readouterr().err
    settings = json.loads((run / "config.json").read_text())["settings"]
    assert settings["weights"] == str(path.resolve())
    other = tmp_path / "other.weights.h5"
    other.write_bytes(path.read_bytes())
    with pytest.raises(ZooError, match=r"--weights .*other.weights.h5 contradicts the run's --weights"):
        train(out=run, resume=True, epochs=2, weights=other)


def test_a_missing_weights_file_is_refused_before_the_data_loads(write_spec, tmp_path):
    spec = write_spec(TINY_SPEC, "tiny.yaml")
    with pytest.raises(ZooError, match=r"none.weights.h5: no such file"):
        train(str(spec), "mnist", data_dir=str(tmp_path / "no-data-here"), weights=tmp_path / "none.weights.h5",
              out=tmp_path / "run")
