"""torchvision's ResNets as specs: counts equal its published figures, padding as PyTorch pads."""

from __future__ import annotations

import pytest

import zoo

# torchvision <Model>_Weights.IMAGENET1K_V1.meta: num_params (trainable) and _ops "GFLOPS" (multiply-adds).
TORCHVISION = {"resnet18_tv": (11_689_512, 1.814), "resnet34_tv": (21_797_672, 3.664),
               "resnet50_tv": (25_557_032, 4.089), "resnet101_tv": (44_549_160, 7.801),
               "resnet152_tv": (60_192_808, 11.514)}


@pytest.mark.parametrize("name,figures", TORCHVISION.items())
def test_torchvision_resnets_match_the_published_figures(name, figures):
    params, gmacs = figures
    counts = zoo.count(name, (224, 224, 3), 1000)
    assert counts["trainable_params"] == params
    assert round(counts["macs"] / 1e9, 3) == gmacs


def test_v1_5_moves_the_stride_to_the_3x3_and_costs_only_macs():
    # Same weights, but the stride-2 1×1 of v1 sees every 4th pixel; v1.5's 3×3 runs at the larger map.
    # conv3_block1: the 3×3 (128→128) at 28×28 instead of 28×28 after a strided 1×1: the 1×1 (256→128)
    # now runs at 56×56, i.e. 56·56·256·128 − 28·28·256·128 more MACs; likewise in stages 4 and 5.
    v1, v15 = zoo.plan("resnet50"), zoo.plan("resnet50_tv")
    assert v1.trainable_params == v15.trainable_params
    extra = sum((2 * s) ** 2 * (4 * w // 2) * w - s * s * (4 * w // 2) * w
                for s, w in ((28, 128), (14, 256), (7, 512)))
    assert v15.macs - v1.macs == extra


def test_symmetric_padding_pads_strided_block_convolutions_explicitly():
    nodes = {n.name: n for n in zoo.plan("resnet50_tv").nodes}
    assert nodes["conv3_block1_2_pad"].shape == (58, 58, 128)  # 56×56 plus one pixel on every side
    conv = nodes["conv3_block1_2_conv"]
    assert conv.attrs["padding"] == "valid" and conv.attrs["stride"] == (2, 2) and conv.shape == (28, 28, 128)
    assert nodes["conv3_block1_1_conv"].attrs["stride"] == (1, 1)
    assert nodes["fc"].shape == (1000,)


def test_shortcut_comes_before_the_branch_as_in_keras_applications():
    names = [n.name for n in zoo.plan("resnet50_keras").nodes]
    assert names.index("conv2_block1_0_bn") < names.index("conv2_block1_1_conv")
    add = next(n for n in zoo.plan("resnet50_keras").nodes if n.name == "conv2_block1_add")
    assert add.inputs == ("conv2_block1_0_bn", "conv2_block1_3_bn")  # Keras adds [shortcut, branch]


# torchvision VGG<N>[_BN]_Weights.IMAGENET1K_V1.meta: num_params and _ops.
TORCHVISION_VGG = {"vgg11_tv": (132_863_336, 7.609), "vgg13_tv": (133_047_848, 11.308),
                   "vgg16_tv": (138_357_544, 15.47), "vgg19_tv": (143_667_240, 19.632),
                   "vgg11_bn_tv": (132_868_840, 7.609), "vgg13_bn_tv": (133_053_736, 11.308),
                   "vgg16_bn_tv": (138_365_992, 15.47), "vgg19_bn_tv": (143_678_248, 19.632)}


@pytest.mark.parametrize("name,figures", TORCHVISION_VGG.items())
def test_torchvision_vggs_match_the_published_figures(name, figures):
    params, gmacs = figures
    counts = zoo.count(name, (224, 224, 3), 1000)
    assert counts["trainable_params"] == params
    assert round(counts["macs"] / 1e9, 3) == gmacs


@pytest.mark.parametrize("shape", [(28, 28, 1), (64, 64, 3), (224, 224, 3), (300, 260, 3)])
def test_adaptive_pool_gives_the_classifier_25088_inputs_at_any_size(shape):
    nodes = {n.name: n for n in zoo.plan("vgg16_tv", shape, 10).nodes}
    assert nodes["avgpool"].shape == (7, 7, 512) and nodes["flatten"].shape == (25_088,)
    assert nodes["fc1"].params == 25_088 * 4096 + 4096
