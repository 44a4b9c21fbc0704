"""Keras files: which file entry each zoo layer's variables come from.

A Keras 3 ``.weights.h5`` names a layer by its class and how many of that class came before it
(``conv2d``, ``conv2d_1``, …), so it is matched by order, as ``Model.load_weights`` does; zoo's
twins emit their layers in keras.applications' order for that reason. keras.applications'
legacy ``.h5`` files carry layer names, and are matched by name.
"""

from __future__ import annotations

import re

import keras

from zoo.weights.assign import Entry
from zoo.weights.convert import SAME
from zoo.weights.source import Source, Tensor


def snake_case(name: str) -> str:
    """Keras's file key for a layer class: ``BatchNormalization`` → ``batch_normalization``."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", re.sub(r"\W+", "", name))
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def order_keys(model: keras.Model) -> dict[str, str]:
    """Layer name → its key in a Keras 3 weights file written from the same architecture."""
    seen: dict[str, int] = {}
    keys = {}
    for layer in model.layers:
        base = snake_case(type(layer).__name__)
        count = seen.get(base, -1) + 1
        seen[base] = count
        keys[layer.name] = base if count == 0 else f"{base}_{count}"
    return keys


def bindings(model: keras.Model, source: Source) -> tuple[dict[str, list[Entry]], list[str]]:
    """(layer name → its variables' file entries, the file's entries no layer takes). A file holding more
    variables for a layer than it has gives an extra entry with no conversion, refused in `assign`."""
    if source.layout == "keras_legacy":
        files = source.groups
        keys = {layer.name: layer.name for layer in model.layers}
    else:
        keys = order_keys(model)
        files = _best_prefix(source.groups, set(keys.values()))
    out = {}
    for layer in (layer for layer in model.layers if layer.weights):
        key = keys[layer.name]
        found: list[Tensor] = files.get(key, [])
        entries = [Entry(t.key, t, SAME) for t in found[:len(layer.weights)]]
        entries += [Entry(f"{key} variable {i}", None, SAME) for i in range(len(entries), len(layer.weights))]
        entries += [Entry(t.key, t, None) for t in found[len(layer.weights):]]
        out[layer.name] = entries
    used = {keys[layer.name] for layer in model.layers if layer.weights}
    unused = [tensors[0].key for key, tensors in files.items() if key not in used]
    return out, unused


def _best_prefix(groups: dict[str, list[Tensor]], wanted: set[str]) -> dict[str, list[Tensor]]:
    """The layers of the (possibly nested) model in the file that fits ours best: a run's model.keras
    holds the zoo network as one nested model beside its normalisation layers."""
    prefixes = {key.rsplit("/", 1)[0] + "/" if "/" in key else "" for key in groups}
    best, best_hits = {}, -1
    for prefix in sorted(prefixes):
        level = {key[len(prefix):]: tensors for key, tensors in groups.items()
                 if key.startswith(prefix) and "/" not in key[len(prefix):]}
        hits = len(wanted & level.keys())
        if hits > best_hits:
            best, best_hits = level, hits
    return best
