"""Wall time of `zoo list` and `zoo show` as a user runs them: a fresh interpreter each time."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

ZOO = [sys.executable, "-c", "from zoo.cli.main import run; run()"]


def zoo_command(*args: str) -> str:
    env = {**os.environ, "COLUMNS": "200"}  # wide enough that rich does not shorten layer names
    done = subprocess.run([*ZOO, *args], capture_output=True, text=True, check=True, env=env)
    return done.stdout


@pytest.mark.benchmark(group="cli")
def test_zoo_list(benchmark):
    listing = benchmark.pedantic(zoo_command, args=("list",), rounds=5, iterations=1, warmup_rounds=1)
    assert "resnet50" in listing
    assert benchmark.stats.stats.median < 1.0  # acceptance: under a second


@pytest.mark.benchmark(group="cli")
def test_zoo_show(benchmark):
    shown = benchmark.pedantic(zoo_command, args=("show", "resnet152"), rounds=5, iterations=1, warmup_rounds=1)
    assert "conv5_block3_3_conv" in shown
