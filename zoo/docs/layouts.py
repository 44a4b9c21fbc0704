"""What a network computes beyond its shapes, in a few comparable fields and in words.

Equal parameter counts do not make equal networks: torchvision's resnet50 has every weight shape of
zoo's resnet50 and computes another function (ResNet v1.5 strides, symmetric padding). A ``Layout``
holds the choices that tell such networks apart, so the docs can say which networks are the same
and name what differs instead of calling them by one name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from zoo.spec import schema

# Block kinds, in the words the libraries use.
PLAIN = "plain"
BASIC = "basic blocks"
V1 = "ResNet v1 (stride on the first 1×1)"
V1_5 = "ResNet v1.5 (stride on the 3×3)"
V2 = "ResNet v2 (pre-activation)"
V2_LAST = "ResNet v2 (pre-activation, stride on a stage's last block)"

PADDING = {"same": "TensorFlow's `same` padding", "symmetric": "PyTorch's symmetric padding"}
BIAS = {True: "a bias on every convolution", False: "no convolution bias",
        "auto": "a bias only on convolutions no batch norm follows"}


@dataclass(frozen=True)
class Layout:
    blocks: str = PLAIN               # one of the block kinds above
    padding: str | None = None        # block convolutions: "same" or "symmetric"; None without blocks
    bias: bool | str = True           # convolution bias: True, False or "auto"
    bn_epsilon: float | None = None   # None: no batch norm
    bn_momentum: float | None = None  # Keras's convention: the old average's weight (PyTorch's 0.1 is 0.9)
    dropout: bool = False             # dropout between the fully connected layers
    adaptive_pool: bool = False       # the last map pooled to a fixed size before the classifier


def layout_of(spec: schema.ModelSpec) -> Layout:
    """The layout of a validated spec."""
    layers = list(_walk(spec.stem + spec.features + spec.head))
    batch_norm = spec.conv.batch_norm or spec.block is not None or any(layer.type == "batch_norm"
                                                                       for layer in layers)
    return Layout(
        blocks=_blocks(spec.block),
        padding=spec.block.padding if spec.block is not None else None,
        bias=spec.conv.bias,
        bn_epsilon=spec.conv.bn_epsilon if batch_norm else None,
        bn_momentum=spec.conv.bn_momentum if batch_norm else None,
        dropout=any(layer.type == "dropout" for layer in spec.head),
        adaptive_pool=any(layer.type == "adaptive_pool" for layer in spec.head))


def _walk(layers):
    for layer in layers:
        yield layer
        if layer.type == "repeat":
            yield from _walk(layer.layers)


def _blocks(block: schema.BlockOptions | None) -> str:
    if block is None:
        return PLAIN
    if block.preact:
        return V2_LAST if block.stride_block == "last" else V2
    if block.type == "basic":
        return BASIC
    return V1 if block.stride_on == "1x1" else V1_5


def words(layout: Layout, field: str) -> str:
    """One field of ``layout`` as the docs say it."""
    value = getattr(layout, field)
    if field == "blocks":
        return value
    if field == "padding":
        return PADDING[value] if value else "no residual blocks"
    if field == "bias":
        return BIAS[value]
    if field == "bn_epsilon":
        return f"batch-norm epsilon {number(value)}" if value is not None else "no batch norm"
    if field == "bn_momentum":
        return f"batch-norm momentum {number(value)}" if value is not None else "no batch norm"
    if field == "dropout":
        return "dropout between the fully connected layers" if value else "no dropout"
    if field == "adaptive_pool":
        return ("an adaptive 7×7 average pool before the classifier (any input size)" if value
                else "no adaptive pool before the classifier")
    raise KeyError(field)


def number(value: float) -> str:
    """``1.001e-5``, ``0.99``: as the spec files write them."""
    return re.sub(r"e([+-])0*(\d)", r"e\1\2", f"{value:g}").replace("e+", "e")


def describe(layout: Layout) -> str:
    """Every field of ``layout`` in words; blocks and padding only where there are blocks."""
    skip = {"blocks", "padding"} if layout.blocks == PLAIN else set()
    return _join(words(layout, f.name) for f in fields(Layout) if f.name not in skip)


def differences(ours: Layout, theirs: Layout) -> str:
    """What ``theirs`` does otherwise than ``ours``, in words ("" when the layouts are equal)."""
    return _join(words(theirs, f.name) for f in fields(Layout) if getattr(ours, f.name) != getattr(theirs, f.name))


def _join(phrases) -> str:
    return ", ".join(dict.fromkeys(phrases))  # "no batch norm" once, though two fields say it
