"""The trainer under Keras's JAX backend, with TensorFlow made impossible to import."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("jax")


def test_jax_backend_trains_without_tensorflow(tiny_spec, mnist_dir, tmp_path):
    out = tmp_path / "run"
    script = textwrap.dedent(f"""
        import importlib.abc, os, sys
        os.environ["KERAS_BACKEND"] = "jax"

        class NoTensorFlow(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name.split(".")[0] in ("tensorflow", "tensorboard"):
                    raise ImportError(name + " is blocked in this test")

        sys.meta_path.insert(0, NoTensorFlow())
        import zoo.training.trainer as t
        result = t.train({str(tiny_spec)!r}, "mnist", epochs=2, batch_size=32, limit=256,
                         data_dir={str(mnist_dir)!r}, out={str(out)!r})
        print("TF_LOADED", "tensorflow" in sys.modules)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "TF_LOADED False" in done.stdout
    config = json.loads((out / "config.json").read_text())
    assert config["device"]["backend"] == "jax"
    assert json.loads((out / "metrics.json").read_text())["epochs"] == 2
    assert {"model.keras", "curves.png", "history.csv"} <= {p.name for p in out.iterdir()}
