"""Every registered spec builds at several input shapes and its analytic counts equal Keras's."""

from __future__ import annotations

import numpy as np
import pytest

import zoo
from tests.conftest import MODELS
from tests.keras.cover import covering

SHAPES = [(28, 28, 1), (32, 32, 3), (224, 224, 3)]
# A build costs 0.2–12 s a spec here (ResNet-1202: 12 s; 60 specs × 3 shapes took 2 min of the suite). By
# default each shape builds the cheap specs that together hold every layer kind of the registry at that
# shape (tests/keras/cover.py); every other spec and shape runs with -m slow. Every spec's plan is still
# checked by default (tests/plan, tests/docs/test_new_specs.py).


def _slow_unless(name, shape):
    return [] if name in covering(shape) else [pytest.mark.slow]


def cases(shapes):
    for name in MODELS:
        for shape in shapes:
            yield pytest.param(name, shape, marks=_slow_unless(name, shape),
                               id=f"{name}-{'x'.join(map(str, shape))}")


def weight_count(weights) -> int:
    return sum(int(np.prod(w.shape)) for w in weights)


# At CIFAR size: a class count no spec defaults to, and a forward pass through the same model (one build, not two).
FORWARD = (32, 32, 3)
FORWARD_CLASSES = 7


@pytest.mark.parametrize("name,shape", cases(SHAPES))
def test_built_model_matches_plan(name, shape):
    classes = FORWARD_CLASSES if shape == FORWARD else 10
    plan = zoo.plan(name, shape, classes)
    model = zoo.build(name, shape, classes)
    assert model.count_params() == plan.params
    assert weight_count(model.trainable_weights) == plan.trainable_params
    assert weight_count(model.non_trainable_weights) == plan.non_trainable_params
    assert tuple(model.output_shape[1:]) == plan.output_shape
    layers = {layer.name: layer for layer in model.layers}
    assert sorted(layers) == sorted(n.name for n in plan.nodes)
    for node in plan.nodes[1:]:
        assert tuple(layers[node.name].output.shape[1:]) == node.shape, node.name
    if shape == FORWARD:
        forward_pass_gives_probabilities(model, classes)


def forward_pass_gives_probabilities(model, classes: int) -> None:
    x = np.random.default_rng(0).random((2, *FORWARD), dtype=np.float32)
    y = np.asarray(model(x, training=False))
    assert y.shape == (2, classes)
    assert np.isfinite(y).all()
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("shape", SHAPES)
def test_every_plan_is_a_graph_keras_can_wire(name, shape):
    """What the builder relies on, for every spec by default: unique layer names, inputs defined before use."""
    seen: set[str] = set()
    for node in zoo.plan(name, shape, 10).nodes:
        assert node.name not in seen, node.name
        assert set(node.inputs) <= seen, node.name
        seen.add(node.name)


def test_saved_model_loads_back_with_identical_outputs(tmp_path):
    import keras

    model = zoo.build("vgg11_lrn", (32, 32, 3), 10)  # includes the custom LRN layer
    path = tmp_path / "m.keras"
    model.save(path)
    again = keras.saving.load_model(path)
    x = np.random.default_rng(1).random((3, 32, 32, 3), dtype=np.float32)
    np.testing.assert_array_equal(np.asarray(model(x)), np.asarray(again(x)))


def test_resnet_layer_names_follow_keras_applications():
    names = [layer.name for layer in zoo.build("resnet50_keras", (64, 64, 3)).layers]
    for expected in ("conv1_pad", "conv1_conv", "conv1_bn", "conv1_relu", "pool1_pad", "pool1_pool",
                     "conv2_block1_0_conv", "conv2_block1_1_conv", "conv3_block4_3_bn", "conv5_block3_out",
                     "avg_pool", "predictions"):
        assert expected in names


def test_lrn_matches_the_alexnet_formula():
    from zoo.keras.custom import LocalResponseNorm

    x = np.random.default_rng(2).random((1, 2, 2, 7), dtype=np.float32) * 10
    y = np.asarray(LocalResponseNorm(size=5, alpha=1e-2, beta=0.75, bias=2.0)(x))
    # b_c = a_c / (k + alpha · Σ_{|j-c|≤2} a_j²)^beta, the window clipped at the edges
    expected = np.empty_like(x)
    for c in range(7):
        window = x[..., max(0, c - 2):c + 3]
        expected[..., c] = x[..., c] / (2.0 + 1e-2 * (window ** 2).sum(-1)) ** 0.75
    np.testing.assert_allclose(y, expected, rtol=1e-5)


def test_channel_pad_is_option_a_shortcut():
    from zoo.keras.custom import ChannelPad

    x = np.arange(1 * 5 * 5 * 2, dtype=np.float32).reshape(1, 5, 5, 2)
    y = np.asarray(ChannelPad(stride=2, channels=3)(x))
    assert y.shape == (1, 3, 3, 5)
    np.testing.assert_array_equal(y[..., :2], x[:, ::2, ::2, :])
    assert not y[..., 2:].any()
