"""Backbone outputs: the feature maps the plan names are the built model's outputs, for every spec."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

import zoo
from tests.conftest import MODELS
from zoo.cli.main import app
from zoo.plan.features import features as feature_maps

SHAPES = [(224, 224, 3), (32, 32, 3)]
# A feature build costs 10–20 ms a layer on the loaded 2-core machine (ResNet-152: 5–10 s). By default
# the smallest model of each family runs, and those with a layer kind of their own (LRN, option-A
# shortcuts); every other spec runs with -m slow.
DEFAULT = {"vgg11_lrn", "resnet20"}


def _layers(name: str) -> int:
    plan = zoo.plan(name, SHAPES[0])
    index = {n.name: i for i, n in enumerate(plan.nodes)}
    return max(index[f.node] for f in feature_maps(plan))


def _default_models() -> set[str]:
    smallest: dict[str, tuple[int, str]] = {}
    for name in MODELS:
        family = zoo.load_spec(name).family
        smallest[family] = min(smallest.get(family, (10**9, "")), (_layers(name), name))
    return DEFAULT | {name for _, name in smallest.values()}


def cases():
    default = _default_models()
    for name in MODELS:
        for shape in SHAPES:
            yield pytest.param(name, shape, marks=[] if name in default else [pytest.mark.slow],
                               id=f"{name}-{shape[0]}")


@pytest.fixture
def fresh_keras(request):
    import keras

    yield
    # -m slow builds every spec (ResNet-152 at 224 among them): free each one's graph and weights. A clear
    # costs ~0.3 s, so the default suite's few small builds skip it.
    if request.node.get_closest_marker("slow"):
        keras.backend.clear_session()


@pytest.mark.parametrize("name,shape", cases())
def test_feature_model_outputs_are_the_planned_maps(name, shape, fresh_keras):
    found = zoo.features(name, shape)
    model = zoo.build(name, shape, outputs="features")
    built = {key: tuple(t.shape[1:]) for key, t in model.output.items()}
    assert built == {f["name"]: tuple(f["shape"]) for f in found}
    assert list(model.output) == [f["name"] for f in found]  # shallowest first
    for f in found:
        assert f["channels"] == f["shape"][-1]
        assert tuple(model.get_layer(f["layer"]).output.shape[1:]) == tuple(f["shape"])
        # nothing is adapted at these sizes, so each map is the input divided by its stride, rounded up
        assert [math.ceil(s / st) for s, st in zip(shape[:2], f["stride"])] == f["shape"][:2], f["name"]


def test_show_features_json_is_the_function(tmp_path):
    result = CliRunner().invoke(app, ["show", "resnet50", "--features", "--json", "-i", "512,512,3"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["features"] == zoo.features("resnet50", (512, 512, 3))
    assert [(f["name"], f["shape"], f["stride"]) for f in shown["features"]] == [
        ("C2", [128, 128, 256], [4, 4]), ("C3", [64, 64, 512], [8, 8]),
        ("C4", [32, 32, 1024], [16, 16]), ("C5", [16, 16, 2048], [32, 32])]


def test_show_features_table():
    result = CliRunner().invoke(app, ["show", "vgg16", "--features", "--after-pool"])
    assert result.exit_code == 0, result.output
    assert "block5_pool" in result.output and "7×7×512" in result.output


def test_vgg_features_before_and_after_the_pool_at_an_adapted_size():
    """At 28×28 VGG-16's last pool meets a 1×1 map and is skipped: its feature stays 1×1, stride 16."""
    before = zoo.features("vgg16", (28, 28, 1))
    after = zoo.features("vgg16", (28, 28, 1), pool="after")
    assert [(f["layer"], f["shape"][:2]) for f in before] == [
        ("block1_conv2", [28, 28]), ("block2_conv2", [14, 14]), ("block3_conv3", [7, 7]),
        ("block4_conv3", [3, 3]), ("block5_conv3", [1, 1])]
    assert [(f["layer"], f["shape"][:2], f["stride"][0]) for f in after] == [
        ("block1_pool", [14, 14], 2), ("block2_pool", [7, 7], 4), ("block3_pool", [3, 3], 8),
        ("block4_pool", [1, 1], 16), ("block5_pool", [1, 1], 16)]
    model = zoo.build("vgg16", (28, 28, 1), outputs="features", feature_pool="after", out_indices=(3, 4))
    assert {k: tuple(v.shape[1:]) for k, v in model.output.items()} == {"block4": (1, 1, 512),
                                                                        "block5": (1, 1, 512)}


def test_pre_activation_features_end_after_the_final_batch_norm_and_relu():
    assert [f["layer"] for f in zoo.features("wrn28_10")] == ["conv2_block4_add", "conv3_block4_add", "final_relu"]


def _copy_weights(source, target) -> None:
    for layer in target.layers:
        if layer.weights:
            layer.set_weights(source.get_layer(layer.name).get_weights())


def test_features_and_pooled_outputs_equal_the_full_models_maps():
    """With the full model's weights copied in, the backbone gives the full model's own tensors."""
    import keras

    full = zoo.build("resnet20", (32, 32, 3))
    features = zoo.build("resnet20", (32, 32, 3), outputs="features", out_indices=(0, -1))
    pooled = zoo.build("resnet20", (32, 32, 3), outputs="pooled")
    _copy_weights(full, features)
    _copy_weights(full, pooled)
    probe = keras.Model(full.input, [full.get_layer("conv2_block3_out").output,
                                     full.get_layer("conv4_block3_out").output, full.get_layer("avg_pool").output])
    x = np.random.default_rng(0).random((2, 32, 32, 3), dtype=np.float32)
    c2, c4, vector = (np.asarray(t) for t in probe(x))
    got = features(x)
    assert list(got) == ["C2", "C4"]
    np.testing.assert_array_equal(np.asarray(got["C2"]), c2)
    np.testing.assert_array_equal(np.asarray(got["C4"]), c4)
    np.testing.assert_array_equal(np.asarray(pooled(x)), vector)
    assert pooled.output.shape[1:] == (64,)


def test_pooled_vgg_ends_at_flatten():
    assert zoo.build("vgg11", (32, 32, 3), outputs="pooled").output.shape[1:] == (512,)


@pytest.mark.parametrize("kwargs,message", [
    ({"outputs": "logits"}, "outputs must be one of: predictions, features, pooled (got 'logits')"),
    ({"outputs": "features", "out_indices": (4,)},
     "out_indices: 4 is not an index of the 3 features (C2, C3, C4)"),
    ({"outputs": "features", "out_indices": (0, 0)},
     "out_indices must pick each feature at most once, at least one (got [0, 0]; features: C2, C3, C4)"),
    ({"outputs": "pooled", "out_indices": (0,)}, "out_indices applies to outputs='features' only"),
    ({"outputs": "features", "feature_pool": "during"}, "feature pool must be one of: before, after (got 'during')"),
])
def test_bad_backbone_options_are_one_line(kwargs, message):
    with pytest.raises(zoo.ShapeError) as e:
        zoo.build("resnet20", **kwargs)
    assert str(e.value) == message


def test_a_spec_without_stages_or_blocks_has_no_features(write_spec):
    path = write_spec("""
        flat:
          head: [{type: flatten}, {type: classifier}]
    """)
    with pytest.raises(zoo.ShapeError, match="flat has no stages or feature blocks"):
        zoo.features(f"{path}:flat", (8, 8, 1))
