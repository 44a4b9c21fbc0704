"""Normalisation with its statistics as graph constants, for the exported copy of a run's model.

Keras's Normalization keeps its mean and variance as eager tensors; the traced function then
captures them, and tf2onnx turns such captures into extra ONNX inputs (``…/standardise/Sub/y:0``)
that a user would have to feed. The copy computes the same (x − mean) / max(√variance, ε) from
NumPy constants instead, which every converter folds into the graph.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops


def with_constant_normalisation(model: keras.Model) -> keras.Model:
    """For a run's model (pixels → scale → standardise → the network [→ float32 cast], as zoo train
    saves it) a copy sharing every layer but the Normalization; any other model unchanged."""
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if not _is_run_model(model, layers):
        return model
    inputs = keras.Input(shape=model.inputs[0].shape[1:], name=model.inputs[0].name)
    x = inputs
    for layer in layers:
        x = _constant(layer)(x) if isinstance(layer, keras.layers.Normalization) else layer(x)
    return keras.Model(inputs, x, name=model.name)


def _is_run_model(model: keras.Model, layers) -> bool:
    """The chain zoo.training builds; re-applying its layers in order is then the same model."""
    kinds = [type(layer) for layer in layers]
    return (len(model.inputs) == 1 and len(model.outputs) == 1 and len(layers) in (3, 4)
            and kinds[:2] == [keras.layers.Rescaling, keras.layers.Normalization]
            and isinstance(layers[2], keras.Model) and not layers[1].invert
            and (len(layers) == 3 or isinstance(layers[3], keras.layers.Activation)))


def _constant(layer: keras.layers.Normalization):
    dtype = layer.compute_dtype
    mean = np.asarray(layer.mean, dtype=dtype)
    scale = np.maximum(np.sqrt(np.asarray(layer.variance, dtype=dtype)), keras.backend.epsilon()).astype(dtype)

    def standardise(x):
        return ops.divide(ops.subtract(x, mean), scale)
    return standardise
