"""zoo.reset_classifier: a new head; every other layer, and its weights, kept."""

from __future__ import annotations

import numpy as np
import pytest

import zoo


def run_like(name: str, shape):
    """As zoo train saves a model: raw pixels → scale → standardise → the zoo network (nested)."""
    import keras

    base = zoo.build(name, shape)
    pixels = keras.Input(shape=shape, name="pixels")
    x = keras.layers.Rescaling(1.0 / 255.0, name="scale")(pixels)
    x = keras.layers.Normalization(mean=[0.4] * shape[-1], variance=[0.09] * shape[-1], name="standardise")(x)
    return keras.Model(pixels, base(x), name=name)


def _with_old_head(new, old_head) -> None:
    names = [layer.name for layer in new.layers]
    head = new.get_layer("predictions") if "predictions" in names else new.layers[-1].get_layer("predictions")
    head.set_weights(old_head.get_weights())


def test_a_built_model_gets_a_new_head_and_keeps_the_rest():
    model = zoo.build("resnet20", (32, 32, 3))
    swapped = zoo.reset_classifier(model, 3)
    assert swapped.output.shape[1:] == (3,)
    assert swapped.get_layer("predictions").kernel.shape == (64, 3)
    assert swapped.get_layer("predictions") is not model.get_layer("predictions")
    for layer in model.layers[:-1]:
        assert swapped.get_layer(layer.name) is layer  # the same layer object, so the same weights
    same = zoo.reset_classifier(model, 10)
    _with_old_head(same, model.get_layer("predictions"))
    x = np.random.default_rng(0).random((2, 32, 32, 3), dtype=np.float32)
    np.testing.assert_array_equal(np.asarray(same(x)), np.asarray(model(x)))


def test_a_run_model_keeps_its_normalisation_and_takes_raw_pixels(tmp_path):
    import keras

    model = run_like("vgg_mini", (28, 28, 1))
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    swapped = zoo.reset_classifier(loaded, 4)
    assert [layer.name for layer in swapped.layers[:3]] == ["pixels", "scale", "standardise"]
    assert swapped.output.shape[1:] == (4,)
    same = zoo.reset_classifier(loaded, 10)
    _with_old_head(same, loaded.layers[-1].get_layer("predictions"))
    x = np.random.default_rng(1).integers(0, 256, (3, 28, 28, 1)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(same(x)), np.asarray(model(x)))
    swapped.save(tmp_path / "four.keras")  # and it saves and loads like any other
    again = keras.saving.load_model(tmp_path / "four.keras")
    np.testing.assert_array_equal(np.asarray(again(x)), np.asarray(swapped(x)))


def test_a_model_without_a_dense_head_is_refused():
    backbone = zoo.build("resnet20", (32, 32, 3), outputs="pooled")
    with pytest.raises(zoo.ShapeError) as e:
        zoo.reset_classifier(backbone, 3)
    assert str(e.value) == "resnet20_pooled does not end in a Dense classifier, so there is none to replace"


@pytest.mark.parametrize("classes", [0, True, 2.5])
def test_classes_must_be_a_positive_integer(classes):
    with pytest.raises(zoo.ShapeError, match="classes must be a positive integer"):
        zoo.reset_classifier(zoo.build("vgg_mini"), classes)
