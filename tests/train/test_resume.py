"""--resume: Ctrl-C then the printed command reproduces the uninterrupted run; the run's settings come back."""

from __future__ import annotations

import csv
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import zipfile

import pytest
from typer.testing import CliRunner

from tests.train.conftest import TINY_SPEC, write_mnist
from zoo.cli.main import app
from zoo.training.runfolder import RunFolderError
from zoo.training.trainer import train

runner = CliRunner()
# The tiny spec with dropout: a resumed process must draw the same masks as the uninterrupted one.
DROPOUT_SPEC = TINY_SPEC.replace("{type: flatten}, {type: classifier}",
                                 "{type: flatten}, {type: dropout, rate: 0.5}, {type: classifier}")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Data, spec and one finished 1-epoch run (limit 128, test limit 50, mnist_fast), shared by the module."""
    root = tmp_path_factory.mktemp("resume")
    write_mnist(root / "data")
    (root / "drop.yaml").write_text(DROPOUT_SPEC, encoding="utf-8")
    train(str(root / "drop.yaml"), "mnist", "mnist_fast", epochs=1, batch_size=32, limit=128, test_limit=50,
          data_dir=str(root / "data"), out=root / "done")
    return root


def _copy(data, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(data / "done", run)
    return run


# A real SIGINT sent at a random point of a ~0.5 s epoch. Before zoo.training.interrupt the child
# twice in about 20 runs finished every epoch and exited 0 (a KeyboardInterrupt Python dropped is the
# likely cause); wherever it lands now, the run stops at a whole epoch, and the check allows any.
def test_ctrl_c_then_the_printed_command_gives_the_uninterrupted_history(data, tmp_path):
    args = [str(data / "drop.yaml"), "--data-dir", str(data / "data"), "--recipe", "mnist_fast", "-e", "3",
            "-b", "4", "--quiet"]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.Popen([sys.executable, "-m", "zoo.cli", "train", *args, "--out", str(tmp_path / "b")],
                            stderr=subprocess.PIPE, text=True, env=env)
    state = tmp_path / "b" / "checkpoints" / "state.json"
    deadline = time.monotonic() + 120
    while not state.exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
        time.sleep(0.05)
    # A second writer into the same folder, while the first holds it: refused, naming the holder.
    with pytest.raises(RunFolderError) as second:
        train(out=tmp_path / "b", resume=True)
    assert str(second.value) == (f"{tmp_path / 'b'}: run folder is in use by another zoo process (PID {proc.pid}); "
                                 "wait for it to finish or choose another --out")
    time.sleep(0.1)  # usually inside epoch 2's steps; in its checkpoint or a later epoch on a slow machine
    proc.send_signal(signal.SIGINT)
    stderr = proc.communicate(timeout=120)[1]
    assert proc.returncode == 130, stderr
    last = stderr.strip().splitlines()[-1]
    stopped = re.fullmatch(r"interrupted: interrupted during (?:epoch (\d)|the final test); the checkpoint of "
                           r"epoch (\d) is kept; continue with: zoo (.*)", last)
    assert stopped, last
    during, kept = int(stopped[1] or 4), int(stopped[2])
    assert during == kept + 1 and kept >= 1 and stopped[3] == f"train --resume --out {tmp_path / 'b'}"
    assert "Traceback" not in stderr
    assert not re.search(r"absl::InitializeLog|cuInit|^I\d{4} ", stderr, re.M), stderr  # start-up noise filtered
    state_b = json.loads(state.read_text())
    assert state_b["epoch"] == kept and (tmp_path / "b" / "history.csv").read_text().count("\n") == kept + 1
    prefix = last[:stopped.start(3)]
    # The printed command, run as printed (in this process: the same CLI code without a second TF start-up).
    resumed = runner.invoke(app, shlex.split(last.removeprefix(prefix)))
    assert resumed.exit_code == 0, resumed.output

    whole = train(str(data / "drop.yaml"), "mnist", "mnist_fast", epochs=3, batch_size=4,
                  data_dir=str(data / "data"), out=tmp_path / "a")
    after = json.loads((tmp_path / "b" / "metrics.json").read_text())
    figures = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr")
    states = [json.loads((tmp_path / k / "checkpoints" / "state.json").read_text()) for k in "ab"]
    assert [[row[f] for f in figures] for row in states[0]["history"]] == \
           [[row[f] for f in figures] for row in states[1]["history"]]  # full float precision, every epoch
    csvs = [list(csv.DictReader((tmp_path / k / "history.csv").open(newline=""))) for k in "ab"]
    assert [[row[f] for f in figures] for row in csvs[0]] == [[row[f] for f in figures] for row in csvs[1]]
    assert after["test_loss"] == whole.metrics["test_loss"]
    assert after["test_accuracy"] == whole.metrics["test_accuracy"]
    assert after["total_seconds"] >= sum(row["seconds"] for row in states[1]["history"])  # both processes


def test_resume_restores_every_setting_and_extends_the_epochs(data, tmp_path):
    run = _copy(data, tmp_path)
    result = runner.invoke(app, ["train", "--resume", "--out", str(run), "--epochs", "2", "-q"])
    assert result.exit_code == 0, result.output
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["epochs"] == 2 and metrics["recipe"] == "mnist_fast"
    assert (metrics["train_examples"], metrics["validation_examples"], metrics["test_examples"]) == (115, 13, 50)
    # 128 sampled, mnist_fast holds out round(0.1 * 128) = 13 for validation; 50 test examples
    assert metrics["limit"] == 128 and metrics["test_limit"] == 50
    config = json.loads((run / "config.json").read_text())
    assert config["recipe"]["epochs"] == 2 and config["recipe"]["batch_size"] == 32
    assert [r["changed"] for r in config["resumes"]] == [{"epochs": [1, 2]}]
    state = json.loads((run / "checkpoints" / "state.json").read_text())
    assert [row["epoch"] for row in state["history"]] == [1, 2]
    # the schedule was stretched to the new length (115 // 32 = 3 steps an epoch), not run past its end
    with zipfile.ZipFile(run / "checkpoints" / state["checkpoint"]) as archive:
        saved = archive.read("config.json").decode()
    assert re.search(r'"total_steps": 6\b', saved) and not re.search(r'"total_steps": 3\b', saved)


@pytest.mark.parametrize("option, value, line", [
    ("--limit", "100", "--limit 100 contradicts the run's --limit 128"),
    ("--test-limit", "20", "--test-limit 20 contradicts the run's --test-limit 50"),
    ("--recipe", "resnet_seed", "--recipe resnet_seed contradicts the run's --recipe mnist_fast"),
    ("--batch-size", "64", "--batch-size 64 contradicts the run's --batch-size 32"),
    ("--dataset", "cifar10", "--dataset cifar10 contradicts the run's --dataset mnist"),
    ("--epochs", "0", None),
])
def test_an_option_that_contradicts_the_run_is_refused(option, value, line, data, tmp_path):
    run = _copy(data, tmp_path)
    before = (run / "checkpoints" / "state.json").read_bytes()
    result = runner.invoke(app, ["train", "--resume", "--out", str(run), option, value])
    assert result.exit_code == 2
    if line is None:
        line = "--epochs 0 is fewer than the 1 epochs this run has finished"
    else:
        line += "; leave it out to resume with the run's settings, or start a new run with another --out"
    assert result.stderr.strip() == f"error: {run / 'config.json'}: {line}"
    assert (run / "checkpoints" / "state.json").read_bytes() == before


def test_the_same_model_given_again_is_fine_another_is_refused(data, tmp_path):
    run = _copy(data, tmp_path)
    result = runner.invoke(app, ["train", "vgg_mini", "--resume", "--out", str(run)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"error: {run / 'config.json'}: SPEC vgg_mini contradicts the run's SPEC "
                                     f"{data / 'drop.yaml'}; leave it out to resume with the run's settings, or "
                                     "start a new run with another --out")
    os.chdir(data)  # the same spec file named by a relative path is the same setting
    result = runner.invoke(app, ["train", "drop.yaml", "--resume", "--out", str(run), "--data-dir", "data", "-q"])
    assert result.exit_code == 0, result.output


def test_ctrl_c_in_the_final_test_keeps_the_last_epoch_and_resume_only_tests(data, tmp_path, monkeypatch):
    import zoo.training.trainer as trainer
    from zoo.training.trainer import Interrupted

    finish = trainer.finish

    def interrupted_test(*args, **kwargs):
        raise KeyboardInterrupt  # as a Ctrl-C during the final test's predictions

    monkeypatch.setattr(trainer, "finish", interrupted_test)
    with pytest.raises(Interrupted) as stopped:
        train(str(data / "drop.yaml"), "mnist", "mnist_fast", epochs=1, batch_size=32, limit=128, test_limit=50,
              data_dir=str(data / "data"), out=tmp_path / "run")
    assert str(stopped.value) == ("interrupted during the final test; the checkpoint of epoch 1 is kept; continue "
                                  f"with: zoo train --resume --out {tmp_path / 'run'}")
    assert not (tmp_path / "run" / "metrics.json").exists()
    monkeypatch.setattr(trainer, "finish", finish)
    resumed = train(out=tmp_path / "run", resume=True)
    done = json.loads((data / "done" / "metrics.json").read_text())
    assert resumed.metrics["epochs"] == 1 and resumed.metrics["test_accuracy"] == done["test_accuracy"]
