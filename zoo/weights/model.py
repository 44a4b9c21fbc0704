"""A zoo model with a weights file loaded: the whole network first, then any backbone cut from it."""

from __future__ import annotations

from zoo.plan.graph import Plan
from zoo.weights import check_layout, load_weights
from zoo.weights.assign import Loaded


def build_loaded(plan: Plan, weights, outputs: str = "predictions", out_indices=None, pool: str = "before"):
    """(the model, what was loaded). The file is matched against the full network (its classifier
    included), so a feature or pooled model takes exactly the weights the full one would."""
    from zoo.keras.build import build_model
    from zoo.keras.features import build_outputs, check_outputs

    check_outputs(outputs, out_indices)  # a bad request is one line before the build, not after
    check_layout(plan, weights)  # a PyTorch file for a network of another layout: refused before the build
    full = build_model(plan)
    loaded = load_weights(full, plan, weights)
    if outputs == "predictions":
        return full, loaded
    part = build_outputs(plan, outputs, out_indices, pool)
    for layer in part.layers:
        if layer.weights:
            layer.set_weights(full.get_layer(layer.name).get_weights())
    return part, loaded


__all__ = ["Loaded", "build_loaded"]
