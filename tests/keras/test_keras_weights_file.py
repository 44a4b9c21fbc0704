"""A Keras 3 `.weights.h5` saved from keras.applications loads with plain `load_weights` into the zoo twin.

Keras matches such files by layer order, not by name: the twin must trace each block's shortcut
before its branch, as keras.applications does, or the load fails on shapes (or, worse, succeeds
on equal shapes and computes another network). Equal outputs prove every weight went home.
Parametrized over the registry's `*_keras` specs, as tests/keras/test_twins.py is.
"""

from __future__ import annotations

import numpy as np
import pytest

import zoo
from tests.keras.test_twins import CLASSES, SHAPE, TWINS, assert_same_outputs, reference

keras = pytest.importorskip("keras")


def _slow_unless(fast: bool, name: str):
    return name if fast else pytest.param(name, marks=pytest.mark.slow)


NAMES = [p if isinstance(p, str) else p.values[0] for p in TWINS]
DEFAULT = {p for p in TWINS if isinstance(p, str)}  # each family's shallowest twin (see test_twins)


# A network without residual blocks is a chain: its order cannot differ, so its file test is slow.
@pytest.mark.parametrize("name", [_slow_unless(n in DEFAULT and zoo.load_spec(n).block is not None, n)
                                  for n in NAMES])
def test_keras_applications_weights_file_loads_by_order(name, tmp_path):
    ref = reference(name)  # random weights everywhere, so a tensor loaded into the wrong layer shows
    path = tmp_path / "ref.weights.h5"
    ref.save_weights(path)
    model = zoo.build(name, SHAPE, CLASSES)
    model.load_weights(path)
    assert_same_outputs(ref, model)


# -- keras.applications' legacy `.h5` files (the layout of the official ImageNet weights) ------------------

def write_legacy_h5(model: keras.Model, path) -> None:
    """The weights-only legacy layout, as Keras's own legacy writer lays it out (Keras 3 offers it only
    there: ``save_weights`` insists on `.weights.h5`): top-level attribute ``layer_names``, one group
    per layer with attribute ``weight_names``, trainable variables before non-trainable ones."""
    legacy = pytest.importorskip("keras.src.legacy.saving.legacy_h5_format",
                                 reason="Keras moved its legacy HDF5 writer")
    h5py = pytest.importorskip("h5py")
    with h5py.File(path, "w") as f:
        legacy.save_weights_to_hdf5_group(f, model)


def write_keras2_h5(model: keras.Model, path) -> None:
    """The same layout as Keras 2 wrote the official files: weight names end in ``:0`` and there is no
    ``top_level_model_weights`` group. Written here with h5py, so no Keras writer is involved."""
    h5py = pytest.importorskip("h5py")
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [layer.name.encode() for layer in model.layers]
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.2.4"
        for layer in model.layers:
            group = f.create_group(layer.name)
            weights = layer.trainable_weights + layer.non_trainable_weights
            names = [f"{w.path}:0" for w in weights]  # "conv1_conv/kernel:0": a subgroup per layer, as Keras 2
            group.attrs["weight_names"] = [n.encode() for n in names]
            for name, w in zip(names, weights):
                group.create_dataset(name, data=keras.ops.convert_to_numpy(w))


@pytest.mark.slow  # by name, order cannot matter: the default suite has the notop test below
@pytest.mark.parametrize("name", NAMES)
def test_legacy_h5_loads_by_name(name, tmp_path):
    """Every twin loads the file Keras's legacy writer makes from its reference, by layer name."""
    ref = reference(name)
    path = tmp_path / "ref.h5"
    write_legacy_h5(ref, path)
    model = zoo.build(name, SHAPE, CLASSES)
    model.load_weights(path, by_name=True)
    assert_same_outputs(ref, model)


def test_keras2_notop_h5_loads_by_name_and_classes_differ(tmp_path):
    """The official `..._notop.h5` layout: every layer but the classifier, loaded by name into a twin
    with 10 classes; its feature maps are the reference's."""
    ref = reference("resnet50_keras")
    features = keras.Model(ref.input, ref.get_layer("avg_pool").output)
    path = tmp_path / "notop.h5"
    write_keras2_h5(keras.Model(ref.input, ref.get_layer("conv5_block3_out").output), path)
    model = zoo.build("resnet50_keras", SHAPE, 10)
    model.load_weights(path, by_name=True)
    ours = keras.Model(model.input, model.get_layer("avg_pool").output)
    x = np.random.default_rng(2).random((2, *SHAPE), dtype=np.float32)
    want, got = np.asarray(features(x, training=False)), np.asarray(ours(x, training=False))
    assert np.abs(want - got).max() <= 1e-5 * np.abs(want).max()
