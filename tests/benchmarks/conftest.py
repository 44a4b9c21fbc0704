"""Speed benchmarks (pytest-benchmark). Excluded from the default run; run them with

    python -m pytest tests/benchmarks -m benchmark --benchmark-enable -p no:cacheprovider

Zoo-built models are measured beside their keras.applications twins at 32×32×3,
10 classes, batch 16: a few minutes on two CPU cores. Each pair shares a
benchmark group so pytest-benchmark prints them together. pytest-benchmark runs
one test's rounds back to back; `zoo bench NAME --vs keras` alternates the two
and is the fairer comparison on a busy machine.
"""

from __future__ import annotations

import pytest

INPUT, CLASSES, BATCH = (32, 32, 3), 10, 16
TWINS = ["vgg16", "resnet50"]  # resnet50 is built from resnet50_keras, keras.applications' layout


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/benchmarks/" in str(item.fspath).replace("\\", "/"):
            assert item.get_closest_marker("benchmark"), f"{item.nodeid} needs @pytest.mark.benchmark"


@pytest.fixture
def builders():
    """zoo and keras.applications constructors of each twin, same input shape and classes."""
    import zoo
    from zoo.bench.twins import build_twin, twin_of

    def make(name: str, by: str):
        twin = twin_of(name)
        if by == "zoo":
            return lambda: zoo.build(twin.zoo_model, INPUT, CLASSES)
        return lambda: build_twin(twin, INPUT, CLASSES)
    return make
