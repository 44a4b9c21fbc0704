"""resnet*v2_keras against keras.applications' ResNetV2: same weights by name, same outputs."""

from __future__ import annotations

import numpy as np
import pytest

import zoo

# (zoo twin, keras.applications constructor); the deeper two take ~10 s each here.
TWINS = [("resnet50v2_keras", "ResNet50V2"),
         pytest.param("resnet101v2_keras", "ResNet101V2", marks=pytest.mark.slow),
         pytest.param("resnet152v2_keras", "ResNet152V2", marks=pytest.mark.slow)]


@pytest.mark.parametrize("name,keras_name", TWINS)
def test_v2_twin_computes_what_keras_applications_computes(name, keras_name):
    import keras

    shape = (64, 64, 3)  # small and fast; the stride-2 3×3s see even maps (16, 8, 4), where padding matters
    theirs = getattr(keras.applications, keras_name)(weights=None, input_shape=shape)
    ours = zoo.build(name, shape, 1000)
    assert ours.count_params() == theirs.count_params()
    rng = np.random.default_rng(0)
    for layer in theirs.layers:
        if layer.weights:  # random values, so that every copied tensor matters (BN statistics included)
            layer.set_weights([rng.normal(0.5 if "var" in w.path else 0.0, 0.1, w.shape).astype("float32")
                               for w in layer.weights])
    named = {layer.name: layer for layer in ours.layers}
    for layer in theirs.layers:
        if layer.weights:
            named[layer.name].set_weights(layer.get_weights())
    for x in (rng.random((2, *shape), dtype=np.float32), np.full((1, *shape), 0.5, np.float32)):
        a, b = np.asarray(theirs(x, training=False)), np.asarray(ours(x, training=False))
        assert np.abs(a - b).max() <= 1e-5 * np.abs(a).max()
