"""`zoo export NAME --weights FILE`: the artefact computes what the loaded Keras model computes."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

import zoo
from zoo.cli.main import app
from zoo.exporting.formats import missing


def test_onnx_export_carries_the_loaded_weights(tmp_path):
    absent = missing(["tf2onnx", "onnx", "onnxruntime"])
    if absent:
        pytest.skip(f"the export extra is not installed ({', '.join(absent)})")
    import onnxruntime

    source = zoo.build("vgg_mini", (28, 28, 1), 10)
    rng = np.random.default_rng(0)
    for w in source.weights:  # far from any initialisation: an export of fresh weights would differ
        w.assign((rng.uniform(0.5, 1.5, w.shape) if "variance" in w.path else rng.normal(0, 0.2, w.shape))
                 .astype("float32"))
    weights = tmp_path / "mini.weights.h5"
    source.save_weights(weights)
    out = tmp_path / "m.onnx"
    result = CliRunner().invoke(app, ["export", "vgg_mini", "-i", "28,28,1", "-c", "10", "--weights", str(weights),
                                      "--format", "onnx", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stderr == f"weights: 32 tensors of 13 layers from {weights} (keras layout)\n"
    x = rng.random((3, 28, 28, 1), dtype=np.float32)
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    want = np.asarray(source(x, training=False))
    assert np.abs(got - want).max() <= 1e-5 * np.abs(want).max()


def test_weights_with_a_keras_file_is_refused(tmp_path):
    model = tmp_path / "m.keras"
    zoo.build("vgg_mini", (28, 28, 1), 10).save(model)
    result = CliRunner().invoke(app, ["export", str(model), "--weights", str(model), "--format", "onnx",
                                      "-o", str(tmp_path / "m.onnx")])
    assert result.exit_code == 2
    assert result.stderr == (f"error: {model}: --input-shape, --classes and --weights apply to a zoo name or spec, "
                             "not a .keras file (it has its weights)\n")
    assert not (tmp_path / "m.onnx").exists()
