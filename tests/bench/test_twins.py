"""keras.applications twins: which zoo spec each is built from, and that the graphs match."""

from __future__ import annotations

import pytest

import zoo
from zoo.bench.twins import TWINS, build_twin, twin_of


def test_every_twin_is_built_from_a_registered_spec():
    assert set(TWINS) == {"vgg16", "vgg19", "resnet50", "resnet101", "resnet152",
                          "resnet50_keras", "resnet101_keras", "resnet152_keras"}
    assert {twin.zoo_model for twin in TWINS.values()} <= set(zoo.list_models())
    assert twin_of("resnet101").zoo_model == "resnet101_keras"
    assert twin_of("resnet18") is None


@pytest.mark.parametrize("name", ["vgg16", "resnet50"])
def test_twin_has_the_zoo_parameter_count(name):
    twin = twin_of(name)
    model = build_twin(twin, (32, 32, 3), 10)
    assert model.count_params() == zoo.count(twin.zoo_model, (32, 32, 3), 10)["params"]
    assert model.output_shape == (None, 10)
