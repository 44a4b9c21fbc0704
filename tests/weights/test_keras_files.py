"""Keras files in: a Keras 3 `.weights.h5` or `.keras` (matched by layer order, as Keras does) and
keras.applications' legacy `.h5` layout, the official ImageNet files' (matched by layer name)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import zoo

keras = pytest.importorskip("keras")
SHAPE = (64, 64, 3)


@pytest.fixture(scope="module")
def reference():
    """keras.applications' ResNet50 with every weight random, batch-norm statistics included."""
    model = keras.applications.ResNet50(weights=None, input_shape=SHAPE)
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.set_weights([rng.uniform(0.5, 1.5, w.shape).astype("float32") for w in layer.get_weights()])
    return model


def _same(ref, model, x):
    want, got = np.asarray(ref(x, training=False)), np.asarray(model(x, training=False))
    assert np.abs(want - got).max() <= 1e-5 * np.abs(want).max()


X = np.random.default_rng(1).random((2, *SHAPE), dtype=np.float32) * 255


def test_keras_applications_weights_h5(reference, tmp_path):
    path = tmp_path / "resnet50.weights.h5"
    reference.save_weights(path)
    _same(reference, zoo.build("resnet50_keras", SHAPE, 1000, weights=path), X)


def _legacy(model, path, layers=None):
    legacy = pytest.importorskip("keras.src.legacy.saving.legacy_h5_format",
                                 reason="this Keras has no legacy HDF5 writer")
    import h5py

    with h5py.File(path, "w") as f:
        legacy.save_weights_to_hdf5_group(f, model)
    return path


def test_keras_applications_legacy_h5_by_name(reference, tmp_path):
    path = _legacy(reference, tmp_path / "resnet50_weights_tf_dim_ordering_tf_kernels.h5")
    _same(reference, zoo.build("resnet50_keras", SHAPE, 1000, weights=path), X)


def test_legacy_notop_file_and_another_class_count(reference, tmp_path):
    notop = keras.Model(reference.inputs, reference.get_layer("avg_pool").output)
    path = _legacy(notop, tmp_path / "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = zoo.build("resnet50_keras", SHAPE, 10, weights=path)
    notes = [str(w.message) for w in caught if issubclass(w.category, zoo.WeightsNote)]
    assert notes == ["predictions: not in the file (a file without the top?), left as initialised"]
    pooled = keras.Model(model.inputs[0], model.get_layer("avg_pool").output)
    _same(notop, pooled, X)


def test_keras_file_of_another_class_count_skips_the_classifier(tmp_path):
    source = zoo.build("vgg_mini", (28, 28, 1), 10)
    path = tmp_path / "mini.weights.h5"
    source.save_weights(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = zoo.build("vgg_mini", (28, 28, 1), 3, weights=path)
    assert [str(w.message) for w in caught if issubclass(w.category, zoo.WeightsNote)] == [
        "predictions: the file's classifier has 10 classes and the model 3; it is not loaded and starts from "
        "its initialisation"]
    for layer in source.layers[:-1]:
        for a, b in zip(layer.weights, model.get_layer(layer.name).weights):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_a_run_model_keras_file_loads_the_network_inside(tmp_path):
    """A run's model.keras wraps the zoo network (one nested model) in scaling and standardisation."""
    net = zoo.build("resnet20", (32, 32, 3), 10)
    pixels = keras.Input((32, 32, 3))
    x = keras.layers.Normalization(mean=[1.0, 2.0, 3.0], variance=[4.0, 5.0, 6.0])(pixels)
    run_model = keras.Model(pixels, net(x))
    path = tmp_path / "model.keras"
    run_model.save(path)
    model = zoo.build("resnet20", (32, 32, 3), 10, weights=path)
    x = np.random.default_rng(2).random((2, 32, 32, 3), dtype=np.float32)
    np.testing.assert_allclose(np.asarray(model(x, training=False)), np.asarray(net(x, training=False)),
                               rtol=1e-5, atol=1e-7)


def test_keras_file_of_another_architecture_is_refused(tmp_path):
    path = tmp_path / "r20.weights.h5"
    zoo.build("resnet20", (32, 32, 3), 10).save_weights(path)
    model = zoo.build("resnet32", (32, 32, 3), 10)
    before = [np.asarray(w).copy() for w in model.weights]
    from zoo.weights import load_weights

    with pytest.raises(zoo.WeightsError, match=r"conv2_block4_1_conv: the file's layers/conv2d_7/vars/0 has shape "
                                               r"\(3, 3, 16, 32\), the model's conv2_block4_1_conv/kernel needs "
                                               r"\(3, 3, 16, 16\)"):
        load_weights(model, zoo.plan("resnet32", (32, 32, 3), 10), path)
    assert all(np.array_equal(a, np.asarray(b)) for a, b in zip(before, model.weights))


def test_legacy_file_with_chunked_name_attributes(reference, tmp_path):
    """HDF5 caps an attribute at 64 KB: Keras writes a long `layer_names` as layer_names0, layer_names1, …"""
    import h5py

    path = _legacy(reference, tmp_path / "chunked.h5")
    with h5py.File(path, "r+") as f:
        names = list(f.attrs["layer_names"])
        del f.attrs["layer_names"]
        half = len(names) // 2
        f.attrs["layer_names0"], f.attrs["layer_names1"] = names[:half], names[half:]
    _same(reference, zoo.build("resnet50_keras", SHAPE, 1000, weights=path), X)
