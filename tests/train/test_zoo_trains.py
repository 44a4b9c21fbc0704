"""The architectures added as spec files train for a step on synthetic CIFAR-10 in its official format."""

from __future__ import annotations

import json

import pytest

import zoo
from tests.data.conftest import Synth
from zoo.training.trainer import train

# One per family in the default suite; the rest (ResNet-1202 takes minutes, WRN-28-10 ~30 s) with -m slow.
# The wide family's blocks train in the default suite through a 1-block-per-stage WRN below, and the BN VGGs'
# (28.5 M parameters at 32×32: 5 s a step, most of it writing the model and checkpoint) through a narrow one.
FAST = {"resnet9"}
FAMILIES = ("resnet_cifar", "wide_resnet", "resnext", "resnet_v2")
VARIANTS = {"resnet50c", "resnet50d", "seresnet50"}  # ResNet-C/D and SE blocks, in the resnet family


def added_as_specs() -> list:
    names = [n for n in zoo.list_models()
             if zoo.plan(n).meta["family"] in FAMILIES or n.endswith(("_bn", "_tv")) or n in VARIANTS]
    return [pytest.param(n, marks=[] if n in FAST else [pytest.mark.slow]) for n in names]


@pytest.fixture(scope="module")
def cifar_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cifar")
    Synth(folder).cifar_tar(folder / "cifar-10-python.tar.gz", per_batch=4)
    return folder


@pytest.mark.parametrize("name", added_as_specs())
def test_trains_a_step_on_synthetic_cifar10(name, cifar_dir, tmp_path):
    result = train(name, "cifar10", "cifar_fast", epochs=1, batch_size=4, limit=8, data_dir=str(cifar_dir),
                   out=tmp_path / "run", precise_bn_batches=1)
    assert result.metrics["input_shape"] == [32, 32, 3] and result.metrics["classes"] == 10
    assert result.metrics["params"] == zoo.count(name, (32, 32, 3), 10)["params"]
    history = (tmp_path / "run" / "history.csv").read_text().splitlines()
    assert len(history) == 2 and history[1].startswith("1,")
    assert json.loads((tmp_path / "run" / "config.json").read_text())["dataset"]["label"] == "CIFAR-10"


def test_a_small_wide_resnet_trains_a_step(cifar_dir, write_spec, tmp_path):
    spec = write_spec("""
        wrn10_1:     # WRN-28-10's pre-activation blocks and dropout at d = 10, k = 1: (10 - 4) / 6 = 1 block a stage
          extends: wrn28_10
          stages: [1, 1, 1]
          widths: [16, 32, 64]
    """, "wrn.yaml")
    result = train(str(spec), "cifar10", "cifar_fast", epochs=1, batch_size=4, limit=8, data_dir=str(cifar_dir),
                   out=tmp_path / "run", precise_bn_batches=1)
    assert result.metrics["params"] == zoo.count(str(spec), (32, 32, 3), 10)["params"]
    assert len((tmp_path / "run" / "history.csv").read_text().splitlines()) == 2


def test_a_narrow_batch_norm_vgg_trains_a_step(cifar_dir, write_spec, tmp_path):
    spec = write_spec("""
        vgg11_bn_narrow:  # vgg11_bn's layers (conv with bias, batch norm, ReLU, pools, dense, dropout) at 1/16 width
          extends: vgg11_bn
          features: [4, M, 8, M, 16, 16, M, 32, 32, M, 32, 32, M]
          head:
            - {type: flatten}
            - {type: dense, units: 64, name: fc1}
            - {type: dropout, rate: 0.5}
            - {type: dense, units: 64, name: fc2}
            - {type: dropout, rate: 0.5}
            - {type: classifier, name: predictions}
    """, "vgg.yaml")
    result = train(str(spec), "cifar10", "cifar_fast", epochs=1, batch_size=4, limit=8, data_dir=str(cifar_dir),
                   out=tmp_path / "run", precise_bn_batches=1)
    assert result.metrics["params"] == zoo.count(str(spec), (32, 32, 3), 10)["params"]
    assert {n.op for n in zoo.plan(str(spec), (32, 32, 3), 10).nodes} == \
           {n.op for n in zoo.plan("vgg11_bn", (32, 32, 3), 10).nodes}
    assert len((tmp_path / "run" / "history.csv").read_text().splitlines()) == 2
