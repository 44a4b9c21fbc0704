"""Run folders: only zoo's own are written, damaged ones are one line, a stopped start leaves nothing."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.train.conftest import TINY_SPEC, digits, write_mnist
from zoo.cli.main import app
from zoo.training import callbacks
from zoo.training.trainer import Interrupted, train

runner = CliRunner()
USER_FILES = {"config.json": "{}", "history.csv": "mine\n", "model.keras": "mine", "curves.png": "mine"}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Data, the tiny spec and one finished 1-epoch run, shared by the module."""
    root = tmp_path_factory.mktemp("runfolder")
    write_mnist(root / "data")
    (root / "tiny.yaml").write_text(TINY_SPEC, encoding="utf-8")
    train(str(root / "tiny.yaml"), "mnist", epochs=1, batch_size=32, limit=64, data_dir=str(root / "data"),
          out=root / "done")
    return root


def _copy(data, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(data / "done", run)
    return run


def _train(data, out, *more):
    return runner.invoke(app, ["train", str(data / "tiny.yaml"), "--data-dir", str(data / "data"), "--out", str(out),
                               "-e", "1", "--limit", "64", "-q", *more])


def test_a_folder_holding_the_users_files_is_refused_and_left_as_it_was(data, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    for name, text in USER_FILES.items():
        (out / name).write_text(text)
    result = _train(data, out)
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"error: {out}: not a zoo run folder and not empty (holds config.json, "
                                     "curves.png, history.csv, model.keras); zoo writes only into a new, empty or "
                                     "zoo run folder: choose another --out")
    assert {p.name: p.read_text() for p in out.iterdir()} == USER_FILES


def test_a_folder_holding_a_run_is_not_overwritten(data, tmp_path):
    run = _copy(data, tmp_path)
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    result = _train(data, run)
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"error: {run}: run folder already holds a run; use --resume to continue it "
                                     "or another --out")
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()} == before


def test_an_empty_folder_is_used_and_marked(data, tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    assert _train(data, out).exit_code == 0
    marker = json.loads((out / ".zoo-run").read_text())
    assert marker["zoo"] and {"config.json", "metrics.json", "model.keras"} <= {p.name for p in out.iterdir()}


def _damage(state: dict, case: str) -> object:
    if case == "a list":
        return [state]
    if case == "no epoch":
        return {k: v for k, v in state.items() if k != "epoch"}
    if case == "epoch as text":
        return {**state, "epoch": "1"}
    if case == "negative epoch":
        return {**state, "epoch": -3}
    if case == "row without loss":
        return {**state, "history": [{k: v for k, v in state["history"][0].items() if k != "loss"}]}
    if case == "history too short":
        return {**state, "epoch": 2}
    if case == "checkpoint outside":
        return {**state, "checkpoint": "../../elsewhere/evil.keras"}
    raise AssertionError(case)


@pytest.mark.parametrize("case, line", [
    ("a list", "must be a JSON object (got list)"),
    ("no epoch", "epoch: missing"),
    ("epoch as text", "epoch: input should be a valid integer (got '1')"),
    ("negative epoch", "epoch: input should be greater than or equal to 1 (got -3)"),
    ("row without loss", "history[0].loss: missing"),
    ("history too short", "history: must hold epochs 1 to 2 in order (got [1])"),
    ("checkpoint outside", "checkpoint: must name a file inside {run}/checkpoints (got '../../elsewhere/evil.keras')"),
])
def test_a_damaged_state_is_one_line_on_resume(case, line, data, tmp_path):
    run = _copy(data, tmp_path)
    state_file = run / "checkpoints" / "state.json"
    state_file.write_text(json.dumps(_damage(json.loads(state_file.read_text()), case)))
    result = runner.invoke(app, ["train", "--resume", "--out", str(run)])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {state_file}: {line.format(run=run)}"


def test_a_truncated_checkpoint_is_called_damaged_not_missing(data, tmp_path):
    run = _copy(data, tmp_path)
    checkpoint = next((run / "checkpoints").glob("epoch-*.keras"))
    checkpoint.write_bytes(checkpoint.read_bytes()[:1000])
    result = runner.invoke(app, ["train", "--resume", "--out", str(run), "-e", "2"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"error: {checkpoint}: the checkpoint is damaged (not a complete .keras "
                                     "archive); the run cannot continue from it")


def test_ctrl_c_before_the_first_checkpoint_says_nothing_was_saved_and_leaves_no_folder(data, tmp_path, monkeypatch):
    def interrupt(self, batch, logs=None):
        raise KeyboardInterrupt  # as Ctrl-C does, in the middle of epoch 1

    monkeypatch.setattr(callbacks.EpochLoop, "on_train_batch_end", interrupt)
    out = tmp_path / "new" / "run"
    with pytest.raises(Interrupted) as info:
        train(str(data / "tiny.yaml"), "mnist", epochs=2, limit=64, data_dir=str(data / "data"), out=out)
    assert str(info.value) == "interrupted during epoch 1, before its checkpoint: nothing was saved"
    assert not out.exists()


def test_an_empty_test_split_fails_before_training_and_leaves_no_folder(data, tmp_path):
    folder = tmp_path / "d"
    folder.mkdir()
    x, y = digits(64, 0)
    np.savez(folder / "mnist.npz", x_train=x, y_train=y, x_test=x[:0], y_test=y[:0])
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", str(data / "tiny.yaml"), "--data-dir", str(folder), "--out", str(out)])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "test" in result.stderr and "empty" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize("file, text, line", [
    ("config.json", "[1, 2]", "must be a JSON object (got list)"),
    ("config.json", '{"model": "tiny"}', "params: missing"),
    ("metrics.json", '{"epochs": "one"}', "epochs: input should be a valid integer (got 'one')"),
])
def test_report_says_which_folder_is_damaged_and_goes_on(file, text, line, data, tmp_path):
    damaged = _copy(data, tmp_path)
    (damaged / file).write_text(text)
    result = runner.invoke(app, ["report", str(data / "done"), str(damaged)])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {damaged / file}: {line}"
    assert "tiny" in result.stdout and "done" in result.stdout  # the good run is still reported


def test_train_without_a_model_or_a_run_to_resume_is_one_line(tmp_path):
    result = runner.invoke(app, ["train", "--out", str(tmp_path / "run")])
    assert result.exit_code == 2
    assert result.stderr.strip() == ("error: name the model to train (zoo train SPEC), or continue a run with "
                                     "--resume --out RUN")
    assert not (tmp_path / "run").exists()
