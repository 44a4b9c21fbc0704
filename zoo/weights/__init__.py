"""Weights in: Keras files (``.weights.h5``, ``.keras``, keras.applications' legacy ``.h5``) and
PyTorch state dicts of torchvision-layout ResNets and VGGs (``.safetensors``, ``.pth``)."""

from __future__ import annotations

from zoo.weights.assign import Entry, Loaded, assign
from zoo.weights.source import open_source


def load_weights(model, plan, path) -> Loaded:
    """Load ``path`` into ``model`` (built from ``plan``); all or nothing. Returns what was loaded
    and the notes on what was not (another class count, grey input)."""
    with open_source(path) as source:
        loaded = Loaded(source.path, source.layout)
        if source.layout == "torch":
            from zoo.weights import torch_layout

            mapping = torch_layout.bindings(plan, source.path)
            bindings = {name: [Entry(key, source.tensors.get(key), convert) for key, convert in pairs]
                        for name, pairs in mapping.items()}
            wanted = {key for pairs in mapping.values() for key, _ in pairs}
            unused = [key for key in source.tensors
                      if key not in wanted and not key.endswith("num_batches_tracked")]
        else:
            from zoo.weights import keras_layout

            bindings, unused = keras_layout.bindings(model, source)
        return assign(model, plan, bindings, unused, loaded)


def check_layout(plan, path) -> None:
    """Refuse a PyTorch file for a plan that is not a torchvision-layout network, from the plan alone."""
    from zoo.weights.source import TORCH_SUFFIXES

    if str(path).endswith(TORCH_SUFFIXES):
        from zoo.weights import torch_layout

        torch_layout.bindings(plan, str(path))


__all__ = ["Loaded", "check_layout", "load_weights"]
