"""keras.applications twins of zoo models, for side-by-side benchmarks.

A twin is built from the zoo spec whose graph matches keras.applications layer
for layer: ``NAME_keras`` where the registry has one (specs/keras_twins.yaml:
the ResNets with convolution bias and Keras's batch-norm constants), else NAME.
So ``resnet50`` is compared as ``resnet50_keras``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from zoo.errors import ShapeError
from zoo.plan.ops import shape_text

if TYPE_CHECKING:
    import keras

MIN_SIDE = 32  # keras.applications refuses smaller inputs when include_top=True and weights=None

APPLICATIONS = {"vgg16": "VGG16", "vgg19": "VGG19",
                "resnet50": "ResNet50", "resnet101": "ResNet101", "resnet152": "ResNet152"}


@dataclass(frozen=True)
class Twin:
    zoo_model: str      # the zoo spec built for the comparison
    application: str    # the keras.applications constructor

    @property
    def label(self) -> str:
        return f"keras.applications.{self.application}"


def twin_of(name: str) -> Twin | None:
    """The keras.applications twin of a zoo model name, or None where keras.applications has none."""
    from zoo.api import list_models

    base = name.removesuffix("_keras")
    if base not in APPLICATIONS:
        return None
    keras_layout = f"{base}_keras"
    return Twin(keras_layout if keras_layout in list_models() else base, APPLICATIONS[base])


def check_input(twin: Twin, input_shape: tuple[int, int, int]) -> None:
    h, w, _ = input_shape
    if h < MIN_SIDE or w < MIN_SIDE:
        raise ShapeError(f"--vs keras: {twin.label} needs an input of at least {MIN_SIDE}×{MIN_SIDE} "
                         f"(got {shape_text(input_shape)}); pass --input-shape 32,32,{input_shape[2]} or larger")


def build_twin(twin: Twin, input_shape: tuple[int, int, int], classes: int) -> keras.Model:
    """The keras.applications model with random weights and the full classifier head."""
    import keras

    check_input(twin, input_shape)
    constructor = getattr(keras.applications, twin.application)
    return constructor(weights=None, include_top=True, input_shape=tuple(input_shape), classes=classes)
