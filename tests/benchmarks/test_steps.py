"""Training-step and inference throughput of zoo models and their keras.applications twins."""

from __future__ import annotations

import numpy as np
import pytest

from tests.benchmarks.conftest import BATCH, CLASSES, INPUT, TWINS


def compiled(build):
    import keras

    model = build()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01, momentum=0.9),
                  loss=keras.losses.SparseCategoricalCrossentropy(), jit_compile=False)  # XLA off: slower on CPU
    return model


def batch():
    rng = np.random.default_rng(0)
    return rng.random((BATCH, *INPUT), dtype=np.float32), rng.integers(0, CLASSES, BATCH)


@pytest.mark.benchmark(group="train step")
@pytest.mark.parametrize("by", ["zoo", "keras"])
@pytest.mark.parametrize("name", TWINS)
def test_train_step(benchmark, builders, name, by):
    model, (x, y) = compiled(builders(name, by)), batch()
    benchmark.group = f"train step {name}, batch {BATCH}"
    loss = benchmark.pedantic(lambda: float(model.train_on_batch(x, y)), rounds=4, iterations=1,
                              warmup_rounds=1)  # float(): waits for the step to finish
    benchmark.extra_info["samples_per_s"] = BATCH / benchmark.stats.stats.median
    assert np.isfinite(loss)


@pytest.mark.benchmark(group="infer step")
@pytest.mark.parametrize("by", ["zoo", "keras"])
@pytest.mark.parametrize("name", TWINS)
def test_infer_step(benchmark, builders, name, by):
    model, (x, _) = compiled(builders(name, by)), batch()
    benchmark.group = f"infer step {name}, batch {BATCH}"
    out = benchmark.pedantic(lambda: np.asarray(model.predict_on_batch(x)), rounds=5, iterations=1,
                             warmup_rounds=1)
    benchmark.extra_info["samples_per_s"] = BATCH / benchmark.stats.stats.median
    assert out.shape == (BATCH, CLASSES)
