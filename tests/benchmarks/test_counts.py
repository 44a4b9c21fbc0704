"""Analytic parameter and MAC counts for every model in the zoo, without Keras."""

from __future__ import annotations

import subprocess
import sys

import pytest

import zoo


def count_all() -> int:
    return sum(zoo.count(name)["macs"] for name in zoo.list_models())


@pytest.mark.benchmark(group="counts")
def test_count_whole_zoo(benchmark):
    total = benchmark.pedantic(count_all, rounds=10, iterations=1, warmup_rounds=1)
    assert total > 0
    assert benchmark.stats.stats.median < 0.5  # acceptance: under half a second


@pytest.mark.benchmark(group="counts")
def test_count_whole_zoo_cold(benchmark):
    """A fresh interpreter: importing zoo, reading and validating every spec, then counting."""
    code = "import zoo; print(sum(zoo.count(n)['macs'] for n in zoo.list_models()))"
    out = benchmark.pedantic(lambda: subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                                    check=True).stdout, rounds=5, iterations=1)
    assert int(out) == count_all()
    assert "keras" not in subprocess.run([sys.executable, "-c", "import sys, zoo; zoo.count('vgg16'); "
                                          "print(sorted(m for m in sys.modules if m.startswith('keras')))"],
                                         capture_output=True, text=True, check=True).stdout.replace("[]", "")
