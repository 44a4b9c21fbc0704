"""keras.applications twins: which zoo spec each is built from, and that the graphs match."""

from __future__ import annotations

import pytest

import zoo
from zoo.bench.twins import APPLICATIONS, Twin, build_twin, twin_of


def test_twins_are_built_from_the_keras_layout_where_the_zoo_has_one():
    assert twin_of("resnet101") == twin_of("resnet101_keras") == Twin("resnet101_keras", "ResNet101")
    assert twin_of("vgg16").application == "VGG16"
    assert twin_of("vgg16").zoo_model == ("vgg16_keras" if "vgg16_keras" in zoo.list_models() else "vgg16")
    assert twin_of("resnet18") is None and twin_of("vgg11_keras") is None
    assert {twin_of(name).zoo_model for name in APPLICATIONS} <= set(zoo.list_models())


@pytest.mark.parametrize("name", ["vgg16", "resnet50"])
def test_twin_has_the_zoo_parameter_count(name):
    twin = twin_of(name)
    model = build_twin(twin, (32, 32, 3), 10)
    assert model.count_params() == zoo.count(twin.zoo_model, (32, 32, 3), 10)["params"]
    assert model.output_shape == (None, 10)
