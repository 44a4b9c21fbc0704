"""Each format's artefact, run in its own runtime, gives the Keras model's outputs within 1e-5 relative.

vgg_mini runs by default; resnet20 and an ImageNet-size ResNet-50 with -m slow (a SavedModel or LiteRT
export takes 5–10 s here). A format whose packages are absent is skipped with the reason.
"""

from __future__ import annotations

import numpy as np
import pytest

import zoo
from zoo.exporting import FORMATS, export_model
from zoo.exporting.formats import missing
from zoo.exporting.runtimes import Runner, relative_difference

SUFFIX = {"saved_model": "sm", "onnx": "m.onnx", "litert": "m.tflite"}


def needs(fmt: str):
    import keras

    absent = missing(FORMATS[fmt].needs[keras.config.backend()] + [FORMATS[fmt].runtime])
    if absent:
        pytest.skip(f"{', '.join(absent)} not installed (pip install 'zoo[export]')")


def round_trip(model, fmt, path, batch=None, n=3) -> float:
    needs(fmt)
    export_model(model, fmt, path, batch)
    x = np.random.default_rng(0).random((batch or n, *model.input_shape[1:]), dtype=np.float32)
    (got,) = Runner(path, fmt)(x)
    want = np.asarray(model(x, training=False))
    assert got.shape == want.shape
    return relative_difference(got, want)


@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("name", ["vgg_mini", pytest.param("resnet20", marks=pytest.mark.slow)])
def test_artefact_equals_keras(name, fmt, tmp_path):
    assert round_trip(zoo.build(name), fmt, tmp_path / SUFFIX[fmt]) <= 1e-5


@pytest.mark.slow
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_imagenet_size_resnet50_artefact_equals_keras(fmt, tmp_path):
    assert round_trip(zoo.build("resnet50"), fmt, tmp_path / SUFFIX[fmt], n=2) <= 1e-5


@pytest.mark.parametrize("fmt", ["onnx", "litert"])
def test_batch_fixes_the_batch_dimension(fmt, tmp_path):
    needs(fmt)
    path = tmp_path / SUFFIX[fmt]
    assert round_trip(zoo.build("vgg_mini"), fmt, path, batch=2) <= 1e-5
    if fmt == "onnx":
        import onnxruntime

        assert onnxruntime.InferenceSession(str(path)).get_inputs()[0].shape == [2, 28, 28, 1]
    else:
        from ai_edge_litert.interpreter import Interpreter

        assert list(Interpreter(model_path=str(path)).get_input_details()[0]["shape_signature"]) == [2, 28, 28, 1]


def test_free_batch_takes_any_batch_size(tmp_path):
    needs("onnx")
    model = zoo.build("vgg_mini")
    export_model(model, "onnx", tmp_path / "m.onnx")
    runner = Runner(tmp_path / "m.onnx", "onnx")
    for n in (1, 5):
        x = np.random.default_rng(n).random((n, 28, 28, 1), dtype=np.float32)
        assert relative_difference(runner(x)[0], np.asarray(model(x))) <= 1e-5


def test_feature_backbone_exports_every_map(tmp_path):
    needs("onnx")
    model = zoo.build("resnet20", outputs="features")
    export_model(model, "onnx", tmp_path / "f.onnx")
    x = np.random.default_rng(3).random((2, 32, 32, 3), dtype=np.float32)
    got = Runner(tmp_path / "f.onnx", "onnx")(x)
    want = model(x)
    assert sorted(g.shape for g in got) == sorted(tuple(np.shape(w)) for w in want.values())
    for w in want.values():
        match = [g for g in got if g.shape == tuple(np.shape(w))]
        assert min(relative_difference(g, np.asarray(w)) for g in match) <= 1e-5


@pytest.mark.parametrize("fmt", ["onnx", "litert"])
def test_a_run_model_keeps_its_normalisation_and_takes_raw_pixels(fmt, tmp_path):
    """Normalization's statistics become graph constants: one input (raw 0–255 pixels), not three."""
    import keras

    from tests.keras.test_reset_classifier import run_like

    run_like("vgg_mini", (28, 28, 1)).save(tmp_path / "model.keras")
    model = keras.saving.load_model(tmp_path / "model.keras")
    needs(fmt)
    export_model(str(tmp_path / "model.keras"), fmt, tmp_path / SUFFIX[fmt])
    if fmt == "onnx":
        import onnxruntime

        assert len(onnxruntime.InferenceSession(str(tmp_path / "m.onnx")).get_inputs()) == 1
    x = np.random.default_rng(4).integers(0, 256, (4, 28, 28, 1)).astype(np.float32)
    (got,) = Runner(tmp_path / SUFFIX[fmt], fmt)(x)
    assert relative_difference(got, np.asarray(model([x], training=False))) <= 1e-5
