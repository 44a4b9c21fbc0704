"""Plan op → Keras layer. One entry per primitive op; the planner decides everything else."""

from __future__ import annotations

from typing import Callable

import keras

from zoo.keras.custom import AdaptivePool, ChannelPad, LocalResponseNorm
from zoo.kinds import KindTable
from zoo.plan.graph import Node

LAYERS: KindTable[Callable[[Node], keras.layers.Layer]] = KindTable("op")


@LAYERS.register("conv2d")
def _conv2d(n: Node) -> keras.layers.Layer:
    a = n.attrs
    return keras.layers.Conv2D(a["filters"], a["kernel"], strides=a["stride"], padding=a["padding"],
                               groups=a.get("groups", 1), use_bias=a["bias"], activation=a["activation"],
                               kernel_initializer=a["initializer"], name=n.name)


@LAYERS.register("batch_norm")
def _batch_norm(n: Node) -> keras.layers.Layer:
    return keras.layers.BatchNormalization(epsilon=n.attrs["epsilon"], momentum=n.attrs["momentum"],
                                           gamma_initializer=n.attrs["gamma"], name=n.name)


@LAYERS.register("activation")
def _activation(n: Node) -> keras.layers.Layer:
    return keras.layers.Activation(n.attrs["activation"], name=n.name)


@LAYERS.register("zero_pad")
def _zero_pad(n: Node) -> keras.layers.Layer:
    return keras.layers.ZeroPadding2D(n.attrs["pad"], name=n.name)


@LAYERS.register("max_pool")
def _max_pool(n: Node) -> keras.layers.Layer:
    a = n.attrs
    return keras.layers.MaxPooling2D(a["pool"], strides=a["stride"], padding=a["padding"], name=n.name)


@LAYERS.register("avg_pool")
def _avg_pool(n: Node) -> keras.layers.Layer:
    a = n.attrs
    return keras.layers.AveragePooling2D(a["pool"], strides=a["stride"], padding=a["padding"], name=n.name)


@LAYERS.register("global_pool")
def _global_pool(n: Node) -> keras.layers.Layer:
    keepdims = n.attrs.get("keepdims", False)  # 1×1×C, as squeeze-and-excitation scales a map with it
    if n.attrs["mode"] == "max":
        return keras.layers.GlobalMaxPooling2D(keepdims=keepdims, name=n.name)
    return keras.layers.GlobalAveragePooling2D(keepdims=keepdims, name=n.name)


@LAYERS.register("adaptive_pool")
def _adaptive_pool(n: Node) -> keras.layers.Layer:
    return AdaptivePool(**n.attrs, name=n.name)


@LAYERS.register("identity")
def _identity(n: Node) -> keras.layers.Layer:
    return keras.layers.Identity(name=n.name)


@LAYERS.register("lrn")
def _lrn(n: Node) -> keras.layers.Layer:
    return LocalResponseNorm(**n.attrs, name=n.name)


@LAYERS.register("channel_pad")
def _channel_pad(n: Node) -> keras.layers.Layer:
    return ChannelPad(**n.attrs, name=n.name)


@LAYERS.register("flatten")
def _flatten(n: Node) -> keras.layers.Layer:
    return keras.layers.Flatten(name=n.name)


@LAYERS.register("dense")
def _dense(n: Node) -> keras.layers.Layer:
    a = n.attrs
    return keras.layers.Dense(a["units"], activation=a["activation"], use_bias=a["bias"], name=n.name)


@LAYERS.register("dropout")
def _dropout(n: Node) -> keras.layers.Layer:
    return keras.layers.Dropout(n.attrs["rate"], name=n.name)


@LAYERS.register("add")
def _add(n: Node) -> keras.layers.Layer:
    return keras.layers.Add(name=n.name)


@LAYERS.register("multiply")
def _multiply(n: Node) -> keras.layers.Layer:
    """Elementwise; a 1×1×C input broadcasts over the map."""
    return keras.layers.Multiply(name=n.name)
