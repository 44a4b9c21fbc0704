"""PreciseBN: after re-estimation the moving statistics are the exact mean of the batches' statistics."""

from __future__ import annotations

import keras
import numpy as np

from zoo.training.precise_bn import batch_norm_layers, recompute_batch_norm


def test_moving_statistics_become_the_average_of_batch_statistics():
    inputs = keras.Input((3,))
    outputs = keras.layers.BatchNormalization(momentum=0.99, name="bn")(inputs)
    model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(0)
    batches = [(rng.normal(loc=5.0, scale=2.0, size=(16, 3)).astype(np.float32), None) for _ in range(4)]
    used = recompute_batch_norm(model, batches, 10)
    assert used == 4
    bn = model.get_layer("bn")
    expected_mean = np.mean([b[0].mean(0) for b in batches], axis=0)
    expected_var = np.mean([b[0].var(0) for b in batches], axis=0)
    np.testing.assert_allclose(np.asarray(bn.moving_mean), expected_mean, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(bn.moving_variance), expected_var, rtol=1e-4)
    assert bn.momentum == 0.99  # restored


def test_nested_models_are_searched_and_models_without_batch_norm_are_left_alone():
    inner_in = keras.Input((2,))
    inner = keras.Model(inner_in, keras.layers.BatchNormalization()(inner_in))
    outer_in = keras.Input((2,))
    outer = keras.Model(outer_in, inner(outer_in))
    assert len(batch_norm_layers(outer)) == 1
    plain_in = keras.Input((2,))
    plain = keras.Model(plain_in, keras.layers.Dense(1)(plain_in))
    assert recompute_batch_norm(plain, [(np.zeros((1, 2), np.float32), None)], 5) == 0
