"""Every `*_keras` spec computes what its keras.applications model computes.

Parametrized over the registry: a new `NAME_keras` spec is tested with no new test code, and one
whose keras.applications constructor is unknown fails (zoo.docs.references.KERAS_NAMES maps each
twin to its constructor; the docs call the pair "the same network", so this test is what backs
that claim). Each family's shallowest twin runs in the default suite, the deeper ones are slow.

The reference is built with ``weights=None`` (no download) and every weight is randomised, batch-norm
moving statistics included, so that a weight copied into the wrong place or a missing op shows.
The comparison is at 64×64×3: the stride-2 convolutions then see even maps (32, 16, 8, 4), where
TensorFlow's `same` padding and a symmetric pad differ, and keras.applications accepts it with
``include_top=True`` (it refuses sides below 32).
"""

from __future__ import annotations

import numpy as np
import pytest

import zoo
from zoo.docs.references import KERAS_NAMES

keras = pytest.importorskip("keras")

SHAPE = (64, 64, 3)
CLASSES = 1000


def _twins() -> list:
    """Each `*_keras` spec; all but each family's shallowest twin marked slow (ResNet-152: ~10 s to build)."""
    names = zoo.list_models("*_keras")
    family = {name: zoo.load_spec(name).family for name in names}
    depth = {name: zoo.count(name)["depth"] for name in names}
    shallowest = {f: min(depth[n] for n in names if family[n] == f) for f in family.values()}
    return [name if depth[name] == shallowest[family[name]] else pytest.param(name, marks=pytest.mark.slow)
            for name in names]


TWINS = _twins()


def reference(name: str) -> keras.Model:
    """keras.applications' model for twin ``name`` with random weights everywhere; fails if none is known."""
    assert name in KERAS_NAMES, (f"{name}: no keras.applications constructor known; "
                                 "add it to zoo.docs.references.KERAS_NAMES")
    model = getattr(keras.applications, KERAS_NAMES[name])(weights=None, input_shape=SHAPE, classes=CLASSES)
    rng = np.random.default_rng(0)
    for layer in model.layers:
        layer.set_weights([random_like(w, rng) for w in layer.weights])
    return model


def random_like(weight, rng: np.random.Generator) -> np.ndarray:
    """Kernels with std 1/√fan-in, batch-norm scales and variances around 1, every other vector
    (bias, beta, moving mean) around 0: the signal keeps its scale through 150 layers, so that a
    change anywhere reaches the logits, and the softmax stays unsaturated."""
    shape = tuple(weight.shape)
    if len(shape) > 1:
        std = 1 / np.sqrt(np.prod(shape[:-1]))
        return rng.normal(0.0, std, shape).astype("float32")
    scale = "gamma" in weight.path or "variance" in weight.path
    return rng.normal(1.0 if scale else 0.0, 0.1, shape).astype("float32")


def assert_same_outputs(theirs: keras.Model, ours: keras.Model) -> None:
    """Equal outputs on random and constant images in inference mode, to 1e-5 of the largest.

    Then the same for the logits (the classifier's softmax switched off in both): random weights can
    saturate the softmax to a one-hot vector, which would hide a difference behind it.
    """
    rng = np.random.default_rng(1)
    images = (rng.random((2, *SHAPE), dtype=np.float32), np.full((1, *SHAPE), 0.5, np.float32))
    for softmax in (True, False):
        if not softmax:
            for model in (theirs, ours):
                assert model.layers[-1].activation is keras.activations.softmax
                model.layers[-1].activation = keras.activations.linear
        for x in images:
            want, got = np.asarray(theirs(x, training=False)), np.asarray(ours(x, training=False))
            assert want.shape == got.shape == (len(x), CLASSES)
            assert np.abs(want - got).max() <= 1e-5 * np.abs(want).max(), f"softmax {softmax}"


def test_every_keras_twin_names_its_constructor():
    """The registry's `*_keras` specs are exactly the twins the docs and this file know."""
    known = {name for name in KERAS_NAMES if name.endswith("_keras")}
    assert sorted(set(zoo.list_models("*_keras")) - known) == []
    assert all(hasattr(keras.applications, KERAS_NAMES[name]) for name in known)


@pytest.mark.parametrize("name", TWINS)
def test_twin_computes_what_keras_applications_computes(name):
    theirs = reference(name)
    ours = zoo.build(name, SHAPE, CLASSES)
    assert ours.count_params() == theirs.count_params()
    named = {layer.name: layer for layer in ours.layers}
    for layer in theirs.layers:
        if layer.weights:  # by name: a missing or misnamed layer raises KeyError here
            named[layer.name].set_weights(layer.get_weights())
    assert_same_outputs(theirs, ours)
