"""A .keras file zoo wrote loads with plain keras.saving.load_model in a process that never imports zoo."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
from typer.testing import CliRunner

import zoo
from zoo.cli.main import app

# Runs in a fresh interpreter: loads the file, proves zoo was never imported, writes the outputs.
LOADER = """
import sys
import numpy as np
import keras
model = keras.saving.load_model(sys.argv[1])
assert not [m for m in sys.modules if m == "zoo" or m.startswith("zoo.")], "zoo was imported"
np.save(sys.argv[3], np.asarray(model(np.load(sys.argv[2]), training=False)))
"""

EVERY_CUSTOM_OP = """
tiny:
  input_shape: [12, 12, 3]
  classes: 5
  conv: {batch_norm: true, bias: false}
  stem: [{type: conv, filters: 4, name: conv1}, {type: lrn, name: lrn1}]
  block: {type: basic, shortcut: zero_pad}
  stages: [1, 1]
  widths: [4, 8]
  head: [{type: adaptive_pool, output: 5, mode: avg}, {type: flatten}, {type: classifier}]
"""


def outputs_without_zoo(path, x, tmp_path) -> np.ndarray:
    np.save(tmp_path / "x.npy", x)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", LOADER, str(path), str(tmp_path / "x.npy"), str(tmp_path / "y.npy")],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return np.load(tmp_path / "y.npy")


def test_zoo_build_output_of_resnet20_loads_with_plain_keras(tmp_path):
    import keras

    result = CliRunner().invoke(app, ["build", "resnet20", "-o", str(tmp_path / "r.keras")])
    assert result.exit_code == 0, result.output
    x = np.random.default_rng(0).random((2, 32, 32, 3), dtype=np.float32)
    expected = np.asarray(keras.saving.load_model(tmp_path / "r.keras")(x, training=False))
    np.testing.assert_array_equal(outputs_without_zoo(tmp_path / "r.keras", x, tmp_path), expected)


def test_lrn_option_a_shortcut_and_adaptive_pool_load_with_plain_keras(write_spec, tmp_path):
    model = zoo.build(f"{write_spec(EVERY_CUSTOM_OP)}:tiny")
    assert {"lrn1", "conv3_block1_0_pad", "adaptive_avg_pool"} <= {
        layer.name for layer in model.layers}
    model.save(tmp_path / "t.keras")
    x = np.random.default_rng(1).random((3, 12, 12, 3), dtype=np.float32) * 255
    np.testing.assert_array_equal(outputs_without_zoo(tmp_path / "t.keras", x, tmp_path),
                                  np.asarray(model(x, training=False)))


def test_files_of_zoo_0_1_with_registered_layers_still_load_through_zoo(tmp_path):
    """The old classes stay registered under their names for ``zoo.load_model``."""
    import keras

    from zoo.keras import legacy

    inputs = keras.Input((6, 6, 3))
    x = legacy.LocalResponseNorm(name="lrn")(inputs)
    x = legacy.ChannelPad(stride=2, channels=2, name="pad")(x)
    x = legacy.AdaptivePool((2, 2), "max", name="pool")(x)
    old = keras.Model(inputs, x)
    old.save(tmp_path / "old.keras")
    data = np.random.default_rng(2).random((2, 6, 6, 3), dtype=np.float32)
    np.testing.assert_array_equal(np.asarray(zoo.load_model(str(tmp_path / "old.keras"))(data)),
                                  np.asarray(old(data)))
