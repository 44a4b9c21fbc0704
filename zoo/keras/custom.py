"""The two layers Keras lacks, written with keras.ops so every backend runs them."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class LocalResponseNorm(keras.layers.Layer):
    """b = a / (k + alpha · Σ a²)^beta over `size` neighbouring channels (AlexNet §3.3, as VGG A-LRN uses)."""

    def __init__(self, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, bias: float = 2.0, **kwargs):
        super().__init__(**kwargs)
        self.size, self.alpha, self.beta, self.bias = size, alpha, beta, bias

    def call(self, x):
        channels = x.shape[-1]
        half = self.size // 2
        squares = ops.pad(ops.square(x), [[0, 0], [0, 0], [0, 0], [half, half]])
        total = squares[..., 0:channels]
        for i in range(1, self.size):
            total = total + squares[..., i:i + channels]
        return x / ops.power(self.bias + self.alpha * total, self.beta)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "size": self.size, "alpha": self.alpha, "beta": self.beta, "bias": self.bias}


@keras.saving.register_keras_serializable(package="zoo")
class ChannelPad(keras.layers.Layer):
    """He et al. 2016 shortcut option A: subsample by `stride`, append `channels` zero channels."""

    def __init__(self, stride: int = 1, channels: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.stride, self.channels = stride, channels

    def call(self, x):
        if self.stride > 1:
            x = x[:, ::self.stride, ::self.stride, :]
        return ops.pad(x, [[0, 0], [0, 0], [0, 0], [0, self.channels]])

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        s = self.stride
        return (n, None if h is None else -(-h // s), None if w is None else -(-w // s), c + self.channels)

    def get_config(self):
        return {**super().get_config(), "stride": self.stride, "channels": self.channels}
