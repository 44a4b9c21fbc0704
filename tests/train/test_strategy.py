"""The mirrored strategy on two logical CPU devices: one model, two replicas, a finished run."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap


def test_mirrored_strategy_trains_on_two_logical_cpus(tiny_spec, mnist_dir, tmp_path):
    out = tmp_path / "run"
    script = textwrap.dedent(f"""
        import os
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])
        import zoo.training.trainer as t
        result = t.train({str(tiny_spec)!r}, "mnist", epochs=1, batch_size=32, limit=128,
                         data_dir={str(mnist_dir)!r}, out={str(out)!r}, strategy="mirrored")
        print("ACC", result.test_accuracy)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    config = json.loads((out / "config.json").read_text())
    assert config["strategy"] == "mirrored" and config["device"]["replicas"] == 2
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs"] == 1 and 0 <= metrics["test_accuracy"] <= 1
