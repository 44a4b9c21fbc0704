"""Issue 12's acceptance: a trained run's model.keras, exported, scores the run's own test accuracy on raw
MNIST test pixels in onnxruntime, LiteRT and TensorFlow's SavedModel loader.

python -m pytest -m slow tests/export/test_mnist_acceptance.py -s   (about a minute here)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import SHARED_DATA
from zoo.exporting import FORMATS
from zoo.exporting.formats import missing
from zoo.exporting.runtimes import Runner

MNIST = SHARED_DATA / "mnist"
OUT = {"onnx": "m.onnx", "litert": "m.tflite", "saved_model": "m_saved_model"}


def zoo_cli(*args, cwd):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-m", "zoo.cli", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.mark.slow
@pytest.mark.skipif(not (MNIST / "mnist.npz").exists(), reason="no shared MNIST")
def test_exported_run_model_scores_the_runs_test_accuracy_on_raw_pixels(tmp_path):
    absent = missing(["tf2onnx", "onnx", "onnxruntime", "ai_edge_litert"])
    if absent:
        pytest.skip(f"{', '.join(absent)} not installed (pip install 'zoo[export]')")
    zoo_cli("train", "vgg_mini", "--data-dir", str(MNIST), "--recipe", "mnist_fast", "--limit", "5000",
            "--epochs", "1", "--out", "run", cwd=tmp_path)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["test_examples"] == 10_000
    with np.load(MNIST / "mnist.npz") as data:
        pixels = data["x_test"].astype(np.float32)[..., None]  # raw 0–255, as the run model takes them
        labels = data["y_test"]
    reported = round(metrics["test_accuracy"] * len(labels))
    for fmt in FORMATS:
        facts = json.loads(zoo_cli("export", "run/model.keras", "--format", fmt, "-o", OUT[fmt], "--json",
                                   cwd=tmp_path))
        runner = Runner(tmp_path / OUT[fmt], fmt)
        correct = sum(int((runner(pixels[i:i + 500])[0].argmax(-1) == labels[i:i + 500]).sum())
                      for i in range(0, len(labels), 500))
        print(f"{fmt}: {facts['bytes']:,} bytes; {correct / len(labels):.4f} on raw test pixels, "
              f"the run reported {metrics['test_accuracy']:.4f}")
        assert abs(correct - reported) <= 1  # one image of 10,000: float32 ties between runtimes
