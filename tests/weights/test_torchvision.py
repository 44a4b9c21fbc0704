"""PyTorch state dicts into the `_tv` specs: the mapping is derived from the plan, and a loaded
model computes what torchvision computes (the real fixtures), to float32 rounding."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from typer.testing import CliRunner

import zoo
from tests.weights.conftest import fixture_or_skip, torch_logits, torchvision_resnet_state, write_safetensors
from zoo.cli.main import app

keras = pytest.importorskip("keras")


@pytest.mark.parametrize("name", ["resnet18", pytest.param("resnet50", marks=pytest.mark.slow)])
def test_torchvision_outputs_are_reproduced(name, safetensors_lib):
    weights, check = fixture_or_skip(name)
    reference = np.load(check)
    model = zoo.build(f"{name}_tv", (224, 224, 3), 1000, weights=weights)
    got = torch_logits(model, reference["input_nchw"].transpose(0, 2, 3, 1))
    want = reference["output"]
    assert np.abs(got - want).max() <= 1e-4 * np.abs(want).max()


def test_every_tensor_lands_where_torchvision_keeps_it(resnet18_file):
    path, state = resnet18_file
    model = zoo.build("resnet18_tv", (64, 64, 3), 1000, weights=path)
    conv = model.get_layer("conv3_block1_2_conv").kernel  # layer2.0.conv2, (O, I, kh, kw) → (kh, kw, I, O)
    np.testing.assert_array_equal(np.asarray(conv), state["layer2.0.conv2.weight"].transpose(2, 3, 1, 0))
    shortcut = model.get_layer("conv3_block1_0_bn")  # layer2.0.downsample.1
    for got, key in zip(shortcut.weights, ("weight", "bias", "running_mean", "running_var")):
        np.testing.assert_array_equal(np.asarray(got), state[f"layer2.0.downsample.1.{key}"])
    np.testing.assert_array_equal(np.asarray(model.get_layer("fc").kernel), state["fc.weight"].T)
    np.testing.assert_array_equal(np.asarray(model.get_layer("conv1_bn").moving_variance), state["bn1.running_var"])


def test_mapping_names_exactly_the_keys_of_torchvisions_resnet18(safetensors_lib):
    from zoo.weights.torch_layout import bindings

    mapping = bindings(zoo.plan("resnet18_tv", (224, 224, 3), 1000), "x")
    keys = {key for pairs in mapping.values() for key, _ in pairs}
    want = {k for k in torchvision_resnet_state() if not k.endswith("num_batches_tracked")}
    assert keys == want
    weights, _ = fixture_or_skip("resnet18")
    from safetensors import safe_open

    with safe_open(str(weights), "numpy") as f:
        assert keys == {k for k in f.keys() if not k.endswith("num_batches_tracked")}


# torchvision's VGG: `features` indices count every module (conv, [bn], relu, pool) and `classifier`
# is (linear, relu, dropout, linear, relu, dropout, linear).
VGG11_CONVS = {"vgg11_tv": (0, 3, 6, 8, 11, 13, 16, 18), "vgg11_bn_tv": (0, 4, 8, 11, 15, 18, 22, 25)}


@pytest.mark.parametrize("name", VGG11_CONVS)
def test_vgg_keys_follow_torchvisions_module_indices(name):
    from zoo.weights.torch_layout import bindings

    mapping = bindings(zoo.plan(name, (224, 224, 3), 1000), "x")
    convs = sorted(int(pairs[0][0].split(".")[1]) for node, pairs in mapping.items()
                   if pairs[0][0].startswith("features.") and len(pairs) <= 2 and "conv" in node
                   and not node.endswith("_bn"))
    assert tuple(convs) == VGG11_CONVS[name]
    assert {pairs[0][0] for node, pairs in mapping.items() if node.startswith(("fc", "predictions"))} == \
        {"classifier.0.weight", "classifier.3.weight", "classifier.6.weight"}
    if name.endswith("_bn_tv"):
        assert mapping["block1_conv1_bn"][3][0] == "features.1.running_var"


TINY_VGG = """
tiny_vgg_tv:
  extends: vgg11_bn_tv
  features: [8, M, 16, M, 16, M]
  head:
    - {type: adaptive_pool, output: 7, mode: avg, name: avgpool}
    - {type: flatten}
    - {type: dense, units: 24, name: fc1}
    - {type: dropout, rate: 0.5}
    - {type: dense, units: 24, name: fc2}
    - {type: dropout, rate: 0.5}
    - {type: classifier, name: predictions}
"""


def test_vgg_classifier_reads_pytorchs_channel_first_flatten(safetensors_lib, tmp_path):
    """The first Linear after the 7×7 pool: PyTorch flattens C×H×W; computed here in NumPy from the
    pooled map, as PyTorch would, and compared with the loaded Keras model's output."""
    spec = tmp_path / "tiny.yaml"
    spec.write_text(TINY_VGG)
    rng = np.random.default_rng(0)
    plan = zoo.plan(f"{spec}:tiny_vgg_tv", (32, 32, 3), 5)  # 4×4 map before the pool: 7×7 cells differ
    from zoo.weights.torch_layout import bindings

    mapping = bindings(plan, "x")
    state = {key: _random_for(key, node, plan, rng) for node in plan.nodes
             for key, _ in mapping.get(node.name, [])}
    path = write_safetensors(state, tmp_path / "tiny.safetensors")
    model = zoo.build(f"{spec}:tiny_vgg_tv", (32, 32, 3), 5, weights=path)
    x = rng.random((2, 32, 32, 3), dtype=np.float32)
    flat = np.asarray(keras.Model(model.inputs[0], model.get_layer("flatten").output)(x, training=False))
    pooled = flat.reshape(2, 7, 7, 16)  # Keras flattens H×W×C
    h = pooled.transpose(0, 3, 1, 2).reshape(2, -1)  # N×C×H×W, flattened as torch.flatten(x, 1)
    for index, relu in ((0, True), (3, True), (6, False)):
        h = h @ state[f"classifier.{index}.weight"].T + state[f"classifier.{index}.bias"]
        h = np.maximum(h, 0) if relu else h
    probabilities = np.exp(h - h.max(1, keepdims=True))
    probabilities /= probabilities.sum(1, keepdims=True)
    np.testing.assert_allclose(np.asarray(model(x, training=False)), probabilities, rtol=1e-5, atol=1e-6)


def _random_for(key: str, node, plan, rng) -> np.ndarray:
    """A tensor of the PyTorch shape for ``key`` of ``node``."""
    nodes = {n.name: n for n in plan.nodes}
    source = nodes[node.inputs[0]]
    while source.op not in ("conv2d", "batch_norm", "input", "flatten", "dense") and source.inputs:
        source = nodes[source.inputs[0]]
    fan_in = source.shape[-1] if source.op != "flatten" else source.shape[0]
    if node.op == "conv2d":
        k = node.attrs["kernel"]
        return rng.normal(0, 0.3, (node.shape[-1], fan_in, *k)).astype(np.float32) if key.endswith("weight") \
            else rng.normal(0, 0.1, node.shape[-1]).astype(np.float32)
    if node.op == "batch_norm":
        low = 0.5 if key.endswith(("weight", "running_var")) else -0.2
        return rng.uniform(low, low + 0.7, node.shape[-1]).astype(np.float32)
    if key.endswith("weight"):
        return rng.normal(0, 0.1, (node.shape[-1], fan_in)).astype(np.float32)
    return rng.normal(0, 0.1, node.shape[-1]).astype(np.float32)


def test_cli_build_loads_and_says_what_it_did_not(resnet18_file):
    path, _ = resnet18_file
    result = CliRunner().invoke(app, ["build", "resnet18_tv", "--weights", str(path), "-c", "10",
                                      "-i", "28,28,1", "--json"])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert "note: conv1_conv: the file's kernel takes 3 input channels and the model 1; summed over them " \
           "(timm's rule for grey images)" in lines
    assert "note: fc: the file's classifier has 1000 classes and the model 10; it is not loaded and starts " \
           "from its initialisation" in lines
    loaded = json.loads(result.stdout)["weights"]
    assert loaded["layout"] == "torch" and loaded["layers"] == 40 and len(loaded["notes"]) == 2


def test_api_notes_are_warnings_and_grey_kernel_is_the_channel_sum(resnet18_file):
    path, state = resnet18_file
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = zoo.build("resnet18_tv", (28, 28, 1), 10, weights=path)
    assert sorted(str(w.message).split(":")[0] for w in caught if issubclass(w.category, zoo.WeightsNote)) == \
        ["conv1_conv", "fc"]
    want = state["conv1.weight"].transpose(2, 3, 1, 0).sum(axis=2, keepdims=True)
    np.testing.assert_allclose(np.asarray(model.get_layer("conv1_conv").kernel), want, rtol=1e-6)


def test_features_model_takes_the_loaded_weights(resnet18_file):
    path, state = resnet18_file
    features = zoo.build("resnet18_tv", (64, 64, 3), 1000, outputs="features", weights=path)
    np.testing.assert_array_equal(np.asarray(features.get_layer("conv5_block2_2_conv").kernel),
                                  state["layer4.1.conv2.weight"].transpose(2, 3, 1, 0))


def test_cli_build_with_fixture_weights_saves_a_model_that_reproduces_torchvision(safetensors_lib, tmp_path):
    weights, check = fixture_or_skip("resnet18")
    out = tmp_path / "r18.keras"
    result = CliRunner().invoke(app, ["build", "resnet18_tv", "--weights", str(weights), "-c", "1000", "--json",
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["weights"]["tensors"] == 102
    reference = np.load(check)
    got = torch_logits(zoo.load_model(str(out)), reference["input_nchw"].transpose(0, 2, 3, 1))
    assert np.abs(got - reference["output"]).max() <= 1e-4 * np.abs(reference["output"]).max()
