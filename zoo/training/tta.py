"""Test-time augmentation: average the class probabilities of each image and its mirror image.

For datasets whose classes are mirror-symmetric (CIFAR-10); recipes turn it on with `test_flip`.
The averaged model shares the trained model's layers and weights: nothing is copied or saved.
"""

from __future__ import annotations

import keras
from keras import ops


class HorizontalFlip(keras.layers.Layer):
    """NHWC images mirrored left to right."""

    def call(self, images):
        return ops.flip(images, axis=2)


def flip_averaged(model: keras.Model) -> keras.Model:
    """A compiled model whose output is the mean of ``model`` on the images and on their mirror images."""
    pixels = keras.Input(shape=model.input_shape[1:], name="pixels")
    both = [model(pixels), model(HorizontalFlip(name="mirror")(pixels))]
    averaged = keras.Model(pixels, keras.layers.Average(name="flip_mean")(both), name=f"{model.name}_flip")
    averaged.compile(loss=model.loss, weighted_metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")])
    return averaged
