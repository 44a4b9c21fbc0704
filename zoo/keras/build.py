"""Plan → keras.Model with the functional API (public Keras 3 API only, any backend)."""

from __future__ import annotations

import sys

import keras

from zoo.keras.layers import LAYERS
from zoo.plan.graph import Plan


def build_model(plan: Plan) -> keras.Model:
    # Keras walks the functional graph recursively, a few frames per layer: ResNet-1202
    # (about 6,000 layers) overflows the limit of 3,000 that TensorFlow's import sets.
    needed = 3 * len(plan.nodes) + 1_000
    if sys.getrecursionlimit() < needed:
        sys.setrecursionlimit(needed)
    inputs = keras.Input(shape=plan.input_shape, name=plan.nodes[0].name)
    tensors = {plan.nodes[0].name: inputs}
    for node in plan.nodes[1:]:
        args = [tensors[name] for name in node.inputs]
        tensors[node.name] = LAYERS[node.op](node)(args if len(args) > 1 else args[0])
    return keras.Model(inputs, tensors[plan.nodes[-1].name], name=plan.name)
