"""zoo train end to end on small synthetic data: run files, resume, NaN, Ctrl-C, report, bad data."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

import zoo
from zoo.cli.main import app
from zoo.training.trainer import TrainingError, train

runner = CliRunner()
RUN_FILES = {"config.json", "history.csv", "metrics.json", "curves.png", "model.keras"}


def history_epochs(run_dir) -> list[int]:
    with open(run_dir / "history.csv", newline="") as f:
        return [int(row["epoch"]) for row in csv.DictReader(f)]


def test_train_writes_every_run_file(tiny_spec, mnist_dir, tmp_path):
    out = tmp_path / "run"
    result = train(str(tiny_spec), "mnist", epochs=2, limit=512, data_dir=str(mnist_dir), out=out)
    assert RUN_FILES <= {p.name for p in out.iterdir()}
    assert (out / "checkpoints" / "state.json").exists()
    assert any((out / "tensorboard").rglob("events.out.tfevents.*"))
    assert history_epochs(out) == [1, 2]
    with open(out / "history.csv", newline="") as f:
        row = next(csv.DictReader(f))
    assert set(row) == {"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds", "images_per_second"}
    assert all(row[k] != "" for k in row)
    png = (out / "curves.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["params"] == zoo.count(str(tiny_spec))["params"]
    assert metrics["train_examples"] == 410 and metrics["validation_examples"] == 102
    assert metrics["test_examples"] == 200 and 0.0 <= metrics["test_accuracy"] <= 1.0
    assert result.metrics == metrics
    config = json.loads((out / "config.json").read_text())
    assert config["model"] == "tiny" and config["recipe_name"] == "resnet_seed"
    assert config["device"]["backend"] == "tensorflow" and config["jit_compile"] is False


def test_train_names_the_adapted_layers(write_spec, mnist_dir, tmp_path):
    # 28 → 14 → 7 → 3 → 1: the fifth 2×2 pool meets a 1×1 map and is skipped
    spec = write_spec("""
        pools:
          features: [4, M, M, M, M, M]
          head: [{type: flatten}, {type: classifier}]
    """, "pools.yaml")
    result = runner.invoke(app, ["train", str(spec), "--data-dir", str(mnist_dir), "--out", str(tmp_path / "run"),
                                 "-e", "1", "--limit", "64", "--test-limit", "32", "-q"])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    at = lines.index("1 layer(s) adapted to this input:")
    assert lines[at + 1] == "  block5_pool (features[5]): skipped: the 2×2 pool does not fit the 1×1 input"
    assert json.loads((tmp_path / "run" / "config.json").read_text())["adapted"] == ["block5_pool"]


def test_the_saved_model_takes_raw_pixels(tiny_spec, mnist_dir, tmp_path):
    import keras
    import numpy as np

    out = tmp_path / "run"
    result = train(str(tiny_spec), "mnist", epochs=4, batch_size=32, data_dir=str(mnist_dir), out=out,
                   recipe="mnist_fast")
    model = keras.saving.load_model(out / "model.keras")
    data = np.load(mnist_dir / "mnist.npz")
    predictions = np.asarray(model.predict(data["x_test"][..., None].astype("float32"), verbose=0)).argmax(1)
    accuracy = float((predictions == data["y_test"]).mean())
    assert accuracy == pytest.approx(result.test_accuracy, abs=1e-6)
    assert accuracy > 0.5  # the bar's row gives the label away: a working trainer learns it in 4 short epochs


def test_divergence_stops_with_a_clear_message_and_keeps_the_last_good_checkpoint(write_spec, mnist_dir, tmp_path):
    spec = write_spec("""
        unstable:
          input_shape: [28, 28, 1]
          classes: 10
          conv: {activation: linear}
          features: [32, 32]
          head: [{type: flatten}, {type: dense, units: 64, activation: linear}, {type: classifier}]
    """, "unstable.yaml")
    recipe = write_spec("""
        explode:
          optimizer: {type: sgd, lr: 10.0, momentum: 0.9}
          epochs: 3
          batch_size: 32
          precise_bn_batches: 0
    """, "explode.yaml")
    out = tmp_path / "run"
    with pytest.raises(TrainingError) as info:
        train(str(spec), "mnist", str(recipe), data_dir=str(mnist_dir), out=out)
    message = str(info.value)
    assert message.startswith("loss became nan at epoch 1, batch ") or message.startswith("loss became inf at epoch 1")
    assert "try a lower learning rate" in message
    assert not (out / "metrics.json").exists()


def _spawn(args, **kw):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.Popen([sys.executable, "-m", "zoo.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, **kw)


def _wait_for(path, proc, timeout=120):
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read())
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("timed out")
        time.sleep(0.05)


def test_sigkill_mid_run_then_resume_gives_each_epoch_once(tiny_spec, mnist_dir, tmp_path):
    out = tmp_path / "run"
    args = ["train", str(tiny_spec), "--data-dir", str(mnist_dir), "--epochs", "3", "--batch-size", "8",
            "--out", str(out), "--quiet"]
    proc = _spawn(args)
    _wait_for(out / "checkpoints" / "state.json", proc)
    time.sleep(0.3)  # into the next epoch
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (out / "metrics.json").exists(), "the run finished before it was killed"
    done = json.loads((out / "checkpoints" / "state.json").read_text())["epoch"]
    assert 1 <= done < 3
    resumed = runner.invoke(app, [*args, "--resume"])  # in this process: one TensorFlow start-up fewer
    assert resumed.exit_code == 0, resumed.output
    assert history_epochs(out) == [1, 2, 3]
    assert json.loads((out / "metrics.json").read_text())["epochs"] == 3
    assert len(list((out / "checkpoints").glob("*.keras"))) == 1


def test_report_compares_runs(tiny_spec, mnist_dir, tmp_path):
    runs = []
    for name, limit in (("a", 128), ("b", 256)):
        runs.append(tmp_path / name)
        train(str(tiny_spec), "mnist", epochs=1, limit=limit, data_dir=str(mnist_dir), out=runs[-1])
    md = tmp_path / "report.md"
    result = runner.invoke(app, ["report", *map(str, runs), "--markdown", str(md)])
    assert result.exit_code == 0, result.output
    assert result.stdout.count("tiny") == 2 and "test acc" in result.stdout
    lines = md.read_text().splitlines()
    assert lines[0] == ("| model | dataset | recipe | epochs | limit | params | train acc | val acc | test acc "
                        "| time (s) | img/s | status |") and len(lines) == 4
    assert [line.split(" | ")[1:5] for line in lines[2:]] == [["MNIST", "resnet_seed", "1", "128"],
                                                              ["MNIST", "resnet_seed", "1", "256"]]
    data = json.loads(runner.invoke(app, ["report", *map(str, runs), "--json"]).stdout)
    assert [row["run"] for row in data] == [str(r) for r in runs]
    assert all(row["status"] == "done" and 0 <= row["test_accuracy"] <= 1 for row in data)


@pytest.mark.parametrize("case", ["missing", "truncated", "corrupt"])
def test_bad_dataset_files_give_one_line_and_exit_2(case, tiny_spec, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # no Keras cache
    monkeypatch.delenv("ZOO_DATA", raising=False)
    monkeypatch.delenv("KERAS_HOME", raising=False)
    folder = tmp_path / "d"
    folder.mkdir()
    if case == "truncated":
        import numpy as np

        np.savez(folder / "mnist.npz", x_train=np.zeros((10, 28, 28), np.uint8), y_train=np.zeros(10, np.uint8),
                 x_test=np.zeros((5, 28, 28), np.uint8), y_test=np.zeros(5, np.uint8))
        raw = (folder / "mnist.npz").read_bytes()
        (folder / "mnist.npz").write_bytes(raw[: len(raw) // 2])
    elif case == "corrupt":
        (folder / "mnist.npz").write_bytes(b"this is not a zip file at all" * 10)
    result = runner.invoke(app, ["train", str(tiny_spec), "--data-dir", str(folder), "--out", str(tmp_path / "r"),
                                 "--epochs", "1"], env={"ZOO_DATA": ""})
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.output
    if case == "missing":
        assert "mnist.npz" in lines[0] and str(folder) in lines[0]
    else:
        assert str(folder / "mnist.npz") in lines[0] or "mnist.npz" in lines[0]


def test_mixed_bfloat16_keeps_a_float32_output(tiny_spec, mnist_dir, tmp_path):
    import keras

    out = tmp_path / "run"
    result = train(str(tiny_spec), "mnist", epochs=1, limit=128, data_dir=str(mnist_dir), out=out,
                   precision="mixed_bfloat16")
    model = keras.saving.load_model(out / "model.keras")
    assert model.get_layer("float32_output").dtype_policy.compute_dtype == "float32"
    assert model.get_layer("tiny").get_layer("block1_conv1_conv").dtype_policy.compute_dtype == "bfloat16"
    assert json.loads((out / "config.json").read_text())["recipe"]["precision"] == "mixed_bfloat16"
    assert keras.config.dtype_policy().name == "float32"  # the global policy is restored
    assert 0 <= result.test_accuracy <= 1
