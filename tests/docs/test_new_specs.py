"""The architectures added as spec files only: CIFAR ResNets, VGG with batch norm, WRN-28-10."""

from __future__ import annotations

import math

import pytest

import zoo
from zoo.docs.references import TORCHVISION

# He et al. 2016, Table 6: millions of parameters. n blocks per stage, depth 6n + 2.
CIFAR_RESNETS = {"resnet20": (3, 0.27), "resnet32": (5, 0.46), "resnet44": (7, 0.66), "resnet56": (9, 0.85),
                 "resnet110": (18, 1.7), "resnet1202": (200, 19.4)}
VGG_BN = ["vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn"]
NEW = [*CIFAR_RESNETS, *VGG_BN, "wrn28_10"]


def cifar_resnet_trainable(n: int) -> int:
    """Option A shortcuts hold no weights; batch norm trains γ and β (2 per channel), convolutions have no bias."""
    total = 3 * 3 * 3 * 16 + 2 * 16                    # stem conv1 and its batch norm
    cin = 16
    for w in (16, 32, 64):
        for b in range(n):
            total += 9 * cin * w + 2 * w + 9 * w * w + 2 * w
            cin = w
    return total + 64 * 10 + 10                        # classifier


def wrn_trainable(n: int, k: int) -> int:
    """WRN-(6n+4)-k: pre-activation blocks (BN, conv, BN, conv), 1×1 projections where the width changes."""
    total = 3 * 3 * 3 * 16                             # bare stem convolution
    cin = 16
    for w in (16 * k, 32 * k, 64 * k):
        for b in range(n):
            total += 2 * cin + 9 * cin * w + 2 * w + 9 * w * w
            if cin != w:
                total += cin * w                       # projection shortcut
            cin = w
    return total + 2 * cin + cin * 10 + 10             # head batch norm and classifier


def test_the_new_models_are_registered_in_their_families():
    assert set(zoo.list_models("resnet*")) >= set(CIFAR_RESNETS)
    assert {name: zoo.plan(name).meta["family"] for name in NEW} == {
        **{name: "resnet_cifar" for name in CIFAR_RESNETS}, **{name: "vgg" for name in VGG_BN},
        "wrn28_10": "wide_resnet"}


@pytest.mark.parametrize("name,n_and_millions", CIFAR_RESNETS.items())
def test_cifar_resnets_match_table_6(name, n_and_millions):
    n, millions = n_and_millions
    counts = zoo.count(name)
    assert counts["input_shape"] == [32, 32, 3] and counts["output_shape"] == [10]
    assert counts["depth"] == 6 * n + 2
    assert counts["trainable_params"] == cifar_resnet_trainable(n)
    # The moving statistics mirror γ and β: one pair per batch-norm channel.
    assert counts["non_trainable_params"] == 2 * (16 + n * 2 * (16 + 32 + 64))
    decimals = len(str(millions).split(".")[1])
    assert round(counts["trainable_params"] / 1e6, decimals) == millions
    assert zoo.load_spec(name).published.params_millions == millions


def test_cifar_resnet_totals():
    assert {n: zoo.count(n)["params"] for n in ("resnet20", "resnet110", "resnet1202")} == {
        "resnet20": 271_098, "resnet110": 1_736_058, "resnet1202": 19_510_906}


def test_cifar_resnet_shortcuts_are_zero_padding():
    plan = zoo.plan("resnet20")
    pads = [n for n in plan.nodes if n.op == "channel_pad"]
    assert [(n.name, n.shape) for n in pads] == [("conv3_block1_0_pad", (16, 16, 32)),
                                                 ("conv4_block1_0_pad", (8, 8, 64))]
    assert not [n for n in plan.nodes if n.role == "shortcut"]


def test_only_resnet1202_starts_its_residual_branches_at_zero():
    # The paper's He initialisation everywhere; 600 blocks would overflow in inference mode at init.
    gammas = {name: {n.attrs["gamma"] for n in zoo.plan(name).nodes if n.name.endswith("_2_bn")}
              for name in CIFAR_RESNETS}
    assert gammas == {**{name: {"ones"} for name in CIFAR_RESNETS}, "resnet1202": {"zeros"}}


@pytest.mark.parametrize("name", VGG_BN)
def test_vgg_bn_trainable_equals_torchvision(name):
    counts = zoo.count(name, (224, 224, 3), 1000)
    assert counts["trainable_params"] == TORCHVISION[name]
    plain = zoo.count(name.removesuffix("_bn"), (224, 224, 3), 1000)["params"]
    bn_channels = sum(n.attrs["filters"] for n in zoo.plan(name).nodes if n.op == "conv2d")
    # torchvision layout: the convolution keeps its bias, batch norm adds γ, β and two moving statistics.
    assert counts["trainable_params"] == plain + 2 * bn_channels
    assert counts["non_trainable_params"] == 2 * bn_channels
    assert all(n.attrs["bias"] for n in zoo.plan(name).nodes if n.op == "conv2d")


def test_wrn28_10_matches_the_paper():
    counts = zoo.count("wrn28_10")
    assert counts["params"] == 36_497_146
    assert counts["trainable_params"] == wrn_trainable(4, 10)
    assert round(counts["trainable_params"] / 1e6, 1) == 36.5 == round(counts["params"] / 1e6, 1)


def test_wrn28_10_wiring():
    plan = zoo.plan("wrn28_10")
    names = [n.name for n in plan.nodes]
    assert names[1] == "conv1" and plan.nodes[1].attrs["activation"] is None  # bare stem convolution
    assert names[2] == "conv2_block1_preact_bn"
    dropouts = [n for n in plan.nodes if n.op == "dropout"]
    assert len(dropouts) == 12 and {n.attrs["rate"] for n in dropouts} == {0.3}
    assert [n.name for n in plan.nodes if n.role == "shortcut"] == [
        "conv2_block1_0_conv", "conv3_block1_0_conv", "conv4_block1_0_conv"]
    assert names[-4:] == ["final_bn", "final_relu", "avg_pool", "predictions"]


def _keras_counts(model) -> tuple[int, int]:
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    return int(model.count_params()), trainable


@pytest.mark.parametrize("name", [n for n in NEW if n != "resnet1202"])
def test_builds_at_cifar_size_with_the_planned_counts(name):
    plan = zoo.plan(name, (32, 32, 3))
    model = zoo.build(name, (32, 32, 3))
    assert tuple(model.output_shape[1:]) == plan.output_shape
    assert _keras_counts(model) == (plan.params, plan.trainable_params)


@pytest.mark.slow
def test_resnet1202_builds_with_the_planned_counts():
    plan = zoo.plan("resnet1202")
    model = zoo.build("resnet1202")
    assert _keras_counts(model) == (plan.params, plan.trainable_params) == (19_510_906, 19_421_274)
