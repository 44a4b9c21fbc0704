"""A Keras 3 `.weights.h5` saved from keras.applications loads with plain `load_weights` into the zoo twin.

Keras matches such files by layer order, not by name: the twin must trace each block's shortcut
before its branch, as keras.applications does, or the load fails on shapes (or, worse, succeeds
on equal shapes and computes another network). Equal outputs prove every weight went home.
"""

from __future__ import annotations

import numpy as np
import pytest

import zoo

keras = pytest.importorskip("keras")


@pytest.mark.parametrize("name, reference", [("resnet50_keras", "ResNet50"), ("resnet50v2_keras", "ResNet50V2")])
def test_keras_applications_weights_file_loads_by_order(name, reference, tmp_path):
    ref = getattr(keras.applications, reference)(weights=None, input_shape=(64, 64, 3))
    rng = np.random.default_rng(0)
    for layer in ref.layers:  # random statistics too, so that a batch norm loaded into the wrong place shows
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.set_weights([rng.uniform(0.5, 1.5, w.shape).astype("float32") for w in layer.get_weights()])
    path = tmp_path / "ref.weights.h5"
    ref.save_weights(path)
    model = zoo.build(name, input_shape=(64, 64, 3), classes=1000)
    model.load_weights(path)
    x = rng.random((2, 64, 64, 3), dtype=np.float32) * 255
    want, got = np.asarray(ref(x, training=False)), np.asarray(model(x, training=False))
    assert np.abs(want - got).max() <= 1e-5 * np.abs(want).max()
