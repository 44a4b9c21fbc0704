"""Analytic counts against the papers' tables and keras.applications, without Keras."""

from __future__ import annotations

import sys

import pytest

import zoo
from tests.conftest import MODELS

# Simonyan & Zisserman 2014, Table 2, conv bias on. VGG-16 at 224×224×3:
# 13 convs (14,714,688) + fc1 7·7·512·4096+4096 (102,764,544) + fc2 16,781,312 + fc3 4,097,000.
VGG_PARAMS = {"vgg11": 132_863_336, "vgg11_lrn": 132_863_336, "vgg13": 133_047_848,
              "vgg16": 138_357_544, "vgg19": 143_667_240}

# He et al. 2016 convention, trainable only (BN gamma/beta, no conv bias); torchvision agrees.
RESNET_TRAINABLE = {"resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032,
                    "resnet101": 44_549_160, "resnet152": 60_192_808}

# keras.applications: conv bias on, BN moving statistics counted.
KERAS_TOTALS = {"vgg16_keras": 138_357_544, "vgg19_keras": 143_667_240, "resnet50_keras": 25_636_712, "resnet101_keras": 44_707_176, "resnet152_keras": 60_419_944}

# Table 1, "FLOPs" (multiply-adds) ×10⁹.
RESNET_GFLOPS = {"resnet18": 1.8, "resnet34": 3.6, "resnet50": 3.8, "resnet101": 7.6, "resnet152": 11.3}


def test_all_eleven_paper_models_are_registered():
    paper = {"vgg11", "vgg11_lrn", "vgg13", "vgg16c", "vgg16", "vgg19",
             "resnet18", "resnet34", "resnet50", "resnet101", "resnet152"}
    assert paper <= set(MODELS)


@pytest.mark.parametrize("name,expected", VGG_PARAMS.items())
def test_vgg_params_match_table_2(name, expected):
    counts = zoo.count(name, (224, 224, 3), 1000)
    assert counts["params"] == expected
    assert counts["non_trainable_params"] == 0


def test_vgg16c_rounds_to_134_million():
    # C swaps the third conv of blocks 3–5 for a 1×1: 256·256·(9−1) + 2·512·512·(9−1) fewer weights than D.
    params = zoo.count("vgg16c")["params"]
    assert params == 138_357_544 - 256 * 256 * 8 - 2 * 512 * 512 * 8
    assert round(params / 1e6) == 134


@pytest.mark.parametrize("name,expected", RESNET_TRAINABLE.items())
def test_resnet_trainable_params(name, expected):
    assert zoo.count(name)["trainable_params"] == expected


@pytest.mark.parametrize("name,expected", KERAS_TOTALS.items())
def test_conv_bias_variant_reproduces_keras_applications(name, expected):
    assert zoo.count(name)["params"] == expected


@pytest.mark.parametrize("name,gflops", RESNET_GFLOPS.items())
def test_resnet_macs_within_two_percent_of_table_1(name, gflops):
    macs = zoo.count(name, (224, 224, 3))["macs"]
    assert abs(macs / 1e9 - gflops) / gflops < 0.02, macs


def bottleneck_macs(stages, widths=(64, 128, 256, 512), sizes=(56, 28, 14, 7)) -> int:
    """He et al. Table 1 by hand: stem 7×7, then per block 1×1 (w), 3×3 (w), 1×1 (4w), plus projections."""
    total = 112 * 112 * 64 * 7 * 7 * 3
    cin = 64
    for blocks, w, size in zip(stages, widths, sizes):
        for b in range(blocks):
            pixels = size * size
            total += pixels * (cin * w + 9 * w * w + w * 4 * w)
            if b == 0:
                total += pixels * cin * 4 * w  # projection shortcut
            cin = 4 * w
    return total + 2048 * 1000


@pytest.mark.parametrize("name,stages", [("resnet50", (3, 4, 6, 3)), ("resnet101", (3, 4, 23, 3)),
                                         ("resnet152", (3, 8, 36, 3))])
def test_bottleneck_macs_match_the_derivation(name, stages):
    plan = zoo.plan(name)
    assert plan.nodes[2].name == "conv1_conv" and plan.nodes[2].macs == 118_013_952
    assert plan.macs == bottleneck_macs(stages)


def test_vgg16_on_mnist_has_33_6_million_params_and_skips_the_last_pool():
    # 28→14→7→3→1 and the fifth pool would make 0×0: it is skipped. The first conv sees 1 channel
    # (640 params, not 1,792) and fc1 sees 512 inputs: 14,713,536 + 2,101,248 + 16,781,312 + 40,970.
    plan = zoo.plan("vgg16", (28, 28, 1), 10)
    assert plan.params == 33_637_066
    assert [n.name for n in plan.adapted] == ["block5_pool"]
    assert plan.adapted[0].op == "identity"
    assert next(n for n in plan.nodes if n.name == "flatten").shape == (512,)


def test_strict_policy_refuses_with_layer_and_sizes():
    with pytest.raises(zoo.ShapeError) as info:
        zoo.plan("vgg16", (28, 28, 1), 10, policy="strict")
    assert str(info.value) == ("vgg16.features[17]: the 2×2 pool does not fit the 1×1 input; "
                               "the strict policy does not adapt layers (block5_pool)")


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("shape", [(1, 1, 1), (7, 5, 2), (28, 28, 1), (32, 32, 3), (224, 224, 3)])
def test_every_model_plans_for_any_input(name, shape):
    plan = zoo.plan(name, shape, 10)
    assert plan.output_shape == (10,)
    assert all(min(n.shape) >= 1 for n in plan.nodes)


def test_pool_is_clamped_when_the_map_is_between_one_and_the_window(write_spec):
    path = write_spec("""
        tiny:
          features: [{type: maxpool, pool: 3, stride: 2}]
          head: [{type: flatten}]
    """)
    plan = zoo.plan(f"{path}", (2, 5, 1))
    node = plan.nodes[1]
    assert node.attrs["pool"] == (2, 3) and node.shape == (1, 2, 1)
    assert node.note == "pool 3×3 → 2×3 to fit the 2×5 input"


def test_counting_imports_no_keras():
    import subprocess
    code = ("import sys, zoo; [zoo.count(n) for n in zoo.list_models()]; "
            "print(sorted(m for m in ('keras', 'tensorflow', 'jax', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_absurd_sizes_are_refused_before_allocation(write_spec):
    path = write_spec("""
        huge:
          features: [{type: conv, filters: 60000}, {type: conv, filters: 60000}]
          head: [{type: flatten}, {type: classifier}]
    """)
    with pytest.raises(zoo.SpecError, match=r"huge: .* parameters at input 224×224×3; the limit is 2,000,000,000"):
        zoo.plan(str(path))


def test_named_layers_in_a_repeat_get_copy_numbers(write_spec):
    path = write_spec("""
        rep:
          features:
            - {type: repeat, times: 2, layers: [{type: conv, filters: 4, name: mine}, M]}
          head: [{type: flatten}]
    """)
    names = [n.name for n in zoo.plan(str(path), (8, 8, 1)).nodes]
    assert names == ["input", "mine_1", "block1_pool", "mine_2", "block2_pool", "flatten"]
