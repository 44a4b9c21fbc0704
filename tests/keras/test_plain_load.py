"""A .keras file zoo wrote loads with plain keras.saving.load_model in a process that never imports zoo."""

from __future__ import annotations

import os
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest
from typer.testing import CliRunner

import zoo
from zoo.cli.main import app

# Runs in a fresh interpreter: loads each file, proves zoo was never imported, writes the outputs. One
# interpreter for every file of the module: a TensorFlow start-up costs ~5 s here.
LOADER = """
import sys
import numpy as np
import keras
for path, x, y in zip(*[iter(sys.argv[1:])] * 3):
    model = keras.saving.load_model(path)
    np.save(y, np.asarray(model(np.load(x), training=False)))
assert not [m for m in sys.modules if m == "zoo" or m.startswith("zoo.")], "zoo was imported"
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


def outputs_without_zoo(files: dict, folder) -> dict:
    """{name: (path, x)} → {name: outputs} from one process that never imports zoo."""
    args = []
    for name, (path, x) in files.items():
        np.save(folder / f"{name}_x.npy", x)
        args += [str(path), str(folder / f"{name}_x.npy"), str(folder / f"{name}_y.npy")]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", LOADER, *args], capture_output=True, text=True, env=env,
                          cwd=folder, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return {name: np.load(folder / f"{name}_y.npy") for name in files}


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """resnet20 saved by `zoo build -o`, and a model with every custom op saved by Keras; both loaded plainly."""
    folder = tmp_path_factory.mktemp("plain")
    cli = CliRunner().invoke(app, ["build", "resnet20", "-o", str(folder / "r.keras")])
    (folder / "tiny.yaml").write_text(EVERY_CUSTOM_OP, encoding="utf-8")
    tiny = zoo.build(f"{folder / 'tiny.yaml'}:tiny")
    tiny.save(folder / "t.keras")
    files = {"tiny": (folder / "t.keras", np.random.default_rng(1).random((3, 12, 12, 3), dtype=np.float32) * 255)}
    if cli.exit_code == 0:
        files["resnet20"] = (folder / "r.keras", np.random.default_rng(0).random((2, 32, 32, 3), dtype=np.float32))
    return SimpleNamespace(cli=cli, tiny=tiny, files=files, plain=outputs_without_zoo(files, folder))


def test_zoo_build_output_of_resnet20_loads_with_plain_keras(saved):
    import keras

    assert saved.cli.exit_code == 0, saved.cli.output
    path, x = saved.files["resnet20"]
    expected = np.asarray(keras.saving.load_model(path)(x, training=False))
    np.testing.assert_array_equal(saved.plain["resnet20"], expected)


def test_lrn_option_a_shortcut_and_adaptive_pool_load_with_plain_keras(saved):
    assert {"lrn1", "conv3_block1_0_pad", "adaptive_avg_pool"} <= {layer.name for layer in saved.tiny.layers}
    _, x = saved.files["tiny"]
    np.testing.assert_array_equal(saved.plain["tiny"], np.asarray(saved.tiny(x, training=False)))


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
