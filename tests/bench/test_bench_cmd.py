"""`zoo bench` through typer's test runner, registered on a fresh app."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from tests.bench.conftest import TINY_MACS, jit_auto
from zoo.cli.bench_cmd import register

QUICK_ARGS = ["--batch-size", "2", "--steps", "1", "--warmup", "1", "--repeats", "1"]


@pytest.fixture
def invoke():
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """A group, so `bench` is addressed by name as under `zoo`."""

    register(app)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, ["bench", *args])


def test_json_output_parses(invoke, tiny):
    result = invoke(tiny, "--mode", "both", "--json", *QUICK_ARGS)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert set(document) == {"system", "settings", "load_average_before", "load_average_after", "results"}
    assert set(document["system"]) == {"versions", "device"}
    assert document["settings"]["mode"] == "both" and document["settings"]["jit_compile"] is jit_auto()
    [model] = document["results"]
    assert model["macs"] == TINY_MACS
    assert [(run["mode"], run["batch_size"]) for run in model["runs"]] == [("train", 2), ("infer", 2)]
    assert all(run["samples_per_s"]["median"] > 0 for run in model["runs"])


def test_table_output(invoke, tiny):
    result = invoke(tiny, "--mode", "infer", "--peak-tflops", "1", *QUICK_ARGS)
    assert result.exit_code == 0, result.output
    assert "zoo bench" in result.stdout
    assert "tiny" in result.stdout and "MFU" in result.stdout
    jit = "on" if jit_auto() else "off"
    assert f"float32, jit {jit}, synthetic data, 1 steps × 1 repeats after 1 warm-up" in result.stdout


@pytest.mark.parametrize("args,line", [
    (["nosuchmodel"], "error: unknown model 'nosuchmodel' (see `zoo list`)"),
    (["vgg16", "--mode", "fast"], "error: --mode: must be one of train, infer, both (got 'fast')"),
    (["vgg16", "--input-shape", "32,32"],
     "error: --input-shape must be three positive integers H,W,C such as 28,28,1 (got '32,32')"),
    (["vgg16", "--vs", "keras", "--input-shape", "28,28,1"],
     "error: --vs keras: keras.applications.VGG16 needs an input of at least 32×32 (got 28×28×1); "
     "pass --input-shape 32,32,1 or larger"),
    (["alexnet*"], "error: no model matches 'alexnet*' (see `zoo list`)"),
])
def test_bad_input_is_one_line_and_exit_2(invoke, args, line):
    result = invoke(*args)
    assert result.exit_code == 2
    assert result.stderr == line + "\n"
    assert result.stdout == ""
