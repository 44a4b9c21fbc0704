"""ResNeXt, Wide ResNet-50-2, ResNet-C/D, SE-ResNet, ResNet V2 and CIFAR-stem ResNets: published figures, no Keras."""

from __future__ import annotations

import pytest

import zoo

# torchvision <Model>_Weights.IMAGENET1K_V1.meta: num_params and _ops (multiply-adds ×10⁹), 224×224×3.
TORCHVISION = {"resnext50_32x4d": (25_028_904, 4.23), "resnext101_32x8d": (88_791_336, 16.414),
               "wide_resnet50_2": (68_883_240, 11.398), "wide_resnet101_2": (126_886_696, 22.753)}

# timm's parameter counts (`sum(p.numel() for p in model.parameters())`), 1000 classes.
TIMM = {"seresnet50": 28_088_024, "resnet50d": 25_576_264, "resnet50c": 25_576_264}

# keras.applications.<Name>(weights=None).count_params(): moving statistics and biases included.
KERAS_V2 = {"resnet50v2_keras": 25_613_800, "resnet101v2_keras": 44_675_560, "resnet152v2_keras": 60_380_648}


@pytest.mark.parametrize("name,figures", TORCHVISION.items())
def test_torchvision_figures(name, figures):
    params, gmacs = figures
    counts = zoo.count(name, (224, 224, 3), 1000)
    assert counts["trainable_params"] == params
    assert round(counts["macs"] / 1e9, 3) == gmacs


@pytest.mark.parametrize("name,params", TIMM.items())
def test_timm_parameter_counts(name, params):
    assert zoo.count(name, (224, 224, 3), 1000)["trainable_params"] == params


@pytest.mark.parametrize("name,params", KERAS_V2.items())
def test_keras_v2_totals(name, params):
    assert zoo.count(name, (224, 224, 3), 1000)["params"] == params


def test_resnet18_cifar_figures():
    counts = zoo.count("resnet18_cifar", (32, 32, 3), 10)
    assert counts["trainable_params"] == 11_173_962
    assert round(counts["macs"] / 1e9, 2) == 0.56


def test_resnext_groups_divide_the_3x3_weights():
    # 32 groups of 4 channels at the first stage: 128 channels, each filter sees 128 / 32 = 4 of them.
    node = {n.name: n for n in zoo.plan("resnext50_32x4d").nodes}["conv2_block1_2_conv"]
    assert node.attrs["groups"] == 32 and node.attrs["filters"] == 128
    assert node.params == 3 * 3 * 4 * 128 and node.macs == 56 * 56 * node.params


def test_squeeze_excitation_adds_two_biased_1x1_convolutions_per_block():
    # Per block with C output channels: C·C/16 + C/16 (reduce) + C/16·C + C (expand).
    blocks = {256: 3, 512: 4, 1024: 6, 2048: 3}
    extra = sum(n * (2 * c * (c // 16) + c // 16 + c) for c, n in blocks.items())
    plan = zoo.plan("seresnet50")
    assert plan.trainable_params - zoo.plan("resnet50_tv").trainable_params == extra
    assert plan.depth == 50  # the gates' convolutions are not counted in depth
    names = [n.name for n in plan.nodes if n.name.startswith("conv2_block1_se")]
    assert names == ["conv2_block1_se_pool", "conv2_block1_se_reduce", "conv2_block1_se_expand", "conv2_block1_se_scale"]


def test_resnet_d_averages_before_its_projection():
    nodes = {n.name: n for n in zoo.plan("resnet50d").nodes}
    pool, conv = nodes["conv3_block1_0_pool"], nodes["conv3_block1_0_conv"]
    assert (pool.op, pool.attrs["pool"], pool.attrs["stride"], pool.shape) == ("avg_pool", (2, 2), (2, 2), (28, 28, 256))
    assert conv.attrs["stride"] == (1, 1) and conv.inputs == ("conv3_block1_0_pool",)
    assert "conv2_block1_0_pool" not in nodes  # stride 1: nothing to average, the 1×1 alone
    assert [n for n in nodes if n.startswith("conv1_")][:3] == ["conv1_1_pad", "conv1_1_conv", "conv1_1_bn"]


def test_keras_v2_strides_the_last_block_and_subsamples_its_shortcut():
    nodes = {n.name: n for n in zoo.plan("resnet50v2_keras").nodes}
    assert nodes["conv2_block3_2_conv"].attrs["stride"] == (2, 2) and nodes["conv2_block1_2_conv"].attrs["stride"] == (1, 1)
    pool = nodes["conv2_block3_0_pool"]
    assert pool.attrs["pool"] == (1, 1) and pool.inputs == ("conv2_block2_add",) and pool.shape == (28, 28, 256)
    # a bias only where no batch norm follows: the projection and the last 1×1, not the first two
    assert [nodes[f"conv2_block1_{i}_conv"].attrs["bias"] for i in range(4)] == [True, False, False, True]
    assert nodes["conv2_block1_1_bn"].inputs == ("conv2_block1_1_conv",)  # Keras's names: after the conv
    assert nodes["conv5_block3_add"].shape == (7, 7, 2048)


def test_resnet9_residuals_add_two_activated_convolutions_to_their_input():
    nodes = {n.name: n for n in zoo.plan("resnet9").nodes}
    assert nodes["layer1_res_add"].inputs == ("layer1_pool", "layer1_res_2_relu")
    assert "layer1_res_out" not in nodes
    assert nodes["max_pool"].attrs["mode"] == "max"


def test_groups_on_a_basic_block_is_refused(write_spec):
    path = write_spec("""
        bad:
          block: {type: basic, groups: 4}
          stages: [1]
          widths: [8]
          head: [{type: global_pool}, {type: classifier}]
    """)
    with pytest.raises(zoo.SpecError) as info:
        zoo.plan(f"{path}:bad")
    assert str(info.value) == "spec.yaml:2: bad.block.groups: applies to bottleneck blocks only"
