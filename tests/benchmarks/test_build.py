"""Spec → Keras model build time, beside keras.applications building the same graph."""

from __future__ import annotations

import pytest

from tests.benchmarks.conftest import TWINS


@pytest.mark.benchmark(group="build")
@pytest.mark.parametrize("by", ["zoo", "keras"])
@pytest.mark.parametrize("name", TWINS)
def test_build(benchmark, builders, name, by):
    build = builders(name, by)
    build()  # the process's first build pays one-off costs; keep them out of either side
    benchmark.group = f"build {name}"
    model = benchmark.pedantic(build, rounds=3, iterations=1)
    assert model.count_params() > 0
