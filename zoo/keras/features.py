"""Backbone models: the plan's feature maps or pooled features as outputs, and a classifier swap."""

from __future__ import annotations

import sys

import keras

from zoo.errors import ShapeError
from zoo.keras.layers import LAYERS
from zoo.plan import features as feature_plan
from zoo.plan.graph import Plan

OUTPUTS = ("predictions", "features", "pooled")


def build_outputs(plan: Plan, outputs: str = "predictions", out_indices=None, pool: str = "before") -> keras.Model:
    """``features``: a dict of the chosen feature maps; ``pooled``: the vector before the classifier."""
    check_outputs(outputs, out_indices)
    if outputs == "predictions":
        from zoo.keras.build import build_model

        return build_model(plan)
    if outputs == "pooled":
        return build_nodes(plan, feature_plan.pooled(plan).name, f"{plan.name}_pooled")
    chosen = feature_plan.pick(feature_plan.features(plan, pool), out_indices)
    return build_nodes(plan, {f.name: f.node for f in chosen}, f"{plan.name}_features")


def check_outputs(outputs: str, out_indices=None) -> None:
    """A bad ``outputs``/``out_indices`` pair: one line, before any model is built."""
    if outputs not in OUTPUTS:
        raise ShapeError(f"outputs must be one of: {', '.join(OUTPUTS)} (got {outputs!r})")
    if out_indices is not None and outputs != "features":
        raise ShapeError("out_indices applies to outputs='features' only")


def build_nodes(plan: Plan, outputs, name: str) -> keras.Model:
    """A model of only the nodes the outputs need; ``outputs`` is a node name or {key: node name}."""
    wanted = set(outputs.values()) if isinstance(outputs, dict) else {outputs}
    nodes = {n.name: n for n in plan.nodes}
    needed: set[str] = set()
    stack = list(wanted)
    while stack:
        node = stack.pop()
        if node not in needed:
            needed.add(node)
            stack.extend(nodes[node].inputs)
    limit = 3 * len(needed) + 1_000  # Keras walks the graph recursively (see zoo.keras.build)
    if sys.getrecursionlimit() < limit:
        sys.setrecursionlimit(limit)
    inputs = keras.Input(shape=plan.input_shape, name=plan.nodes[0].name)
    tensors = {plan.nodes[0].name: inputs}
    for node in plan.nodes[1:]:
        if node.name in needed:
            args = [tensors[i] for i in node.inputs]
            tensors[node.name] = LAYERS[node.op](node)(args if len(args) > 1 else args[0])
    if isinstance(outputs, dict):
        return keras.Model(inputs, {key: tensors[node] for key, node in outputs.items()}, name=name)
    return keras.Model(inputs, tensors[outputs], name=name)


def reset_classifier(model: keras.Model, classes: int) -> keras.Model:
    """The model with a new, freshly initialised final Dense of ``classes`` units; every other layer
    (and its weights) is shared with ``model``. Works on built and loaded models, normalisation included."""
    if not isinstance(classes, int) or isinstance(classes, bool) or classes < 1:
        raise ShapeError(f"classes must be a positive integer (got {classes!r})")
    if len(model.outputs) != 1:
        raise ShapeError(f"{model.name} has {len(model.outputs)} outputs; a classifier swap needs one")
    head, inner = _final_dense(model)
    if head is None:
        raise ShapeError(f"{model.name} does not end in a Dense classifier, so there is none to replace")
    new = keras.layers.Dense(classes, activation=head.activation, use_bias=head.use_bias,
                             dtype=head.dtype_policy, name=head.name)
    if inner is None:
        return keras.Model(_single(model.inputs), new(head.input), name=model.name)
    # a run's model: pixels → scale → standardise → the zoo network (one nested layer) [→ cast]
    swapped = keras.Model(_single(inner.inputs), new(head.input), name=inner.name)
    x = model.inputs[0]
    for layer in model.layers:
        if not isinstance(layer, keras.layers.InputLayer):
            x = (swapped if layer is inner else layer)(x)
    return keras.Model(model.inputs[0], x, name=model.name)


def _single(inputs):
    """One input as a tensor, not a one-item list: Keras then accepts a plain array when called."""
    return inputs[0] if len(inputs) == 1 else inputs


def _final_dense(model: keras.Model):
    """(the classifier Dense, the nested model holding it or None)."""
    last = model.layers[-1]
    if isinstance(last, keras.layers.Dense):
        return last, None
    for layer in reversed(model.layers):
        if isinstance(layer, keras.Model) and isinstance(layer.layers[-1], keras.layers.Dense):
            return layer.layers[-1], layer
    return None, None
