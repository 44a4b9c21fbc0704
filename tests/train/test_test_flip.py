"""Test-time flips (recipe `test_flip`) and batch-norm re-estimation only where an evaluation reads it."""

from __future__ import annotations

import json

import keras
import numpy as np

from zoo.training import callbacks
from zoo.training.recipe import Recipe
from zoo.training.trainer import train
from zoo.training.tta import flip_averaged


def test_flip_averaged_is_the_mean_of_the_image_and_its_mirror():
    keras.utils.set_random_seed(0)
    pixels = keras.Input((6, 5, 2))
    model = keras.Model(pixels, keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(pixels)))
    model.compile(loss="categorical_crossentropy")
    x = np.random.default_rng(0).random((4, 6, 5, 2)).astype("float32")
    expected = (model.predict(x, verbose=0) + model.predict(x[:, :, ::-1], verbose=0)) / 2
    averaged = flip_averaged(model).predict(x, verbose=0)
    assert not np.allclose(model.predict(x, verbose=0), averaged, atol=1e-3)  # the mirror changes the outputs
    np.testing.assert_allclose(averaged, expected, rtol=1e-5, atol=1e-6)


def test_test_flip_scores_the_averaged_model_and_keeps_the_plain_score(tiny_spec, mnist_dir, tmp_path, monkeypatch):
    calls = []
    real = callbacks.recompute_batch_norm
    monkeypatch.setattr(callbacks, "recompute_batch_norm", lambda *a: calls.append(1) or real(*a))
    recipe = Recipe(epochs=3, batch_size=64, validation_split=0.0, test_flip=True, precise_bn_batches=2,
                    optimizer={"type": "adam", "lr": 0.003})
    result = train(str(tiny_spec), "mnist", recipe, limit=256, data_dir=str(mnist_dir), out=tmp_path / "run")
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["test_flip"] is True and result.test_accuracy == metrics["test_accuracy"]
    # the noise is not mirror-symmetric, so the averaged probabilities (and the loss) differ from the plain ones
    assert metrics["test_loss"] != metrics["test_loss_unflipped"]
    assert min(metrics["test_accuracy"], metrics["test_accuracy_unflipped"]) > 0.9
    assert len(calls) == 1  # no validation split: only the final test reads the statistics
