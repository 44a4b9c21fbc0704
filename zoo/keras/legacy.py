"""The registered layers zoo 0.1 saved, kept so its .keras files still load through ``zoo.load_model``.

New files hold no zoo classes (see zoo.keras.custom); these keep their registered names
(``zoo>LocalResponseNorm``, ``zoo>ChannelPad``, ``zoo>AdaptivePool``) and their arithmetic.
"""

from __future__ import annotations

import keras

from zoo.keras.custom import adaptive_pool, channel_pad, local_response_norm


@keras.saving.register_keras_serializable(package="zoo")
class LocalResponseNorm(keras.layers.Layer):
    """b = a / (k + alpha · Σ a²)^beta over `size` neighbouring channels (AlexNet §3.3, as VGG A-LRN uses)."""

    def __init__(self, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, bias: float = 2.0, **kwargs):
        super().__init__(**kwargs)
        self.size, self.alpha, self.beta, self.bias = size, alpha, beta, bias

    def call(self, x):
        return local_response_norm(x, self.size, self.alpha, self.beta, self.bias)

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
        return channel_pad(x, self.stride, self.channels)

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        s = self.stride
        return (n, None if h is None else -(-h // s), None if w is None else -(-w // s), c + self.channels)

    def get_config(self):
        return {**super().get_config(), "stride": self.stride, "channels": self.channels}


@keras.saving.register_keras_serializable(package="zoo")
class AdaptivePool(keras.layers.Layer):
    """Pool H×W to a fixed `output` grid (average or maximum per window), as torch.nn.AdaptiveAvgPool2d."""

    def __init__(self, output=(7, 7), mode: str = "avg", **kwargs):
        super().__init__(**kwargs)
        self.grid, self.mode = tuple(output), mode  # `output` is taken: a Layer's output tensor

    def call(self, x):
        return adaptive_pool(x, self.grid, self.mode)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.grid, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "output": list(self.grid), "mode": self.mode}
