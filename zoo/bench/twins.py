"""keras.applications twins of zoo models, for side-by-side benchmarks.

A twin is built from the zoo spec whose graph matches keras.applications layer
for layer: ResNets use the ``*_keras`` variants of specs/keras_twins.yaml
(convolution bias on, Keras's batch-norm constants), so ``resnet50`` is
compared as ``resnet50_keras``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from zoo.errors import ShapeError

if TYPE_CHECKING:
    import keras

MIN_SIDE = 32  # keras.applications refuses smaller inputs when include_top=True and weights=None


@dataclass(frozen=True)
class Twin:
    zoo_model: str      # the zoo spec built for the comparison
    application: str    # the keras.applications constructor

    @property
    def label(self) -> str:
        return f"keras.applications.{self.application}"


_VGG = {"vgg16": "VGG16", "vgg19": "VGG19"}
_RESNET = {"resnet50": "ResNet50", "resnet101": "ResNet101", "resnet152": "ResNet152"}

TWINS: dict[str, Twin] = {
    **{name: Twin(name, app) for name, app in _VGG.items()},
    **{name: Twin(f"{name}_keras", app) for name, app in _RESNET.items()},
    **{f"{name}_keras": Twin(f"{name}_keras", app) for name, app in _RESNET.items()},
}


def twin_of(name: str) -> Twin | None:
    """The keras.applications twin of a zoo model name, or None where keras.applications has none."""
    return TWINS.get(name)


def check_input(twin: Twin, input_shape: tuple[int, int, int]) -> None:
    h, w, _ = input_shape
    if h < MIN_SIDE or w < MIN_SIDE:
        shape = "×".join(str(v) for v in input_shape)
        raise ShapeError(f"--vs keras: {twin.label} needs an input of at least {MIN_SIDE}×{MIN_SIDE} "
                         f"(got {shape}); pass --input-shape 32,32,{input_shape[2]} or larger")


def build_twin(twin: Twin, input_shape: tuple[int, int, int], classes: int) -> keras.Model:
    """The keras.applications model with random weights and the full classifier head."""
    import keras

    check_input(twin, input_shape)
    constructor = getattr(keras.applications, twin.application)
    return constructor(weights=None, include_top=True, input_shape=tuple(input_shape), classes=classes)
