"""Validated spec + input shape → Plan: every layer's name, output shape and counts.

Feature-map sizes are traced through the whole network first, so a pooling
layer that would shrink the map below 1×1 is adapted (policy ``adapt``) or
refused (policy ``strict``) before any Keras code runs.
"""

from __future__ import annotations

import math
from typing import Any

from zoo.errors import ShapeError, SpecError
from zoo.plan import blocks  # noqa: F401  registers the residual block kinds
from zoo.plan.graph import Plan
from zoo.plan.ops import out_size, shape_text
from zoo.plan.tracer import PLANNERS, Tracer, plan_layer
from zoo.spec import schema

POLICIES = ("adapt", "strict")
MAX_PARAMS = 2_000_000_000  # 8 GB of float32 weights: refuse before Keras allocates anything


def plan_model(model: str, spec: schema.ModelSpec, input_shape=None, classes: int | None = None,
               policy: str = "adapt") -> Plan:
    """Trace ``spec`` at ``input_shape`` (default: the spec's) into a Plan."""
    shape = check_input_shape(input_shape if input_shape is not None else spec.input_shape)
    classes = spec.classes if classes is None else check_classes(classes)
    if policy not in POLICIES:
        raise ShapeError(f"unknown policy {policy!r} (expected one of: {', '.join(POLICIES)})")
    tracer = Tracer(model, spec, shape, classes, policy)
    for i, layer in enumerate(spec.stem):
        plan_layer(tracer, layer, f"stem[{i}]", layer.name or _auto_name("stem", layer, tracer))
    _plan_features(tracer, spec.features, "features", [1, {}])
    _plan_stages(tracer, spec)
    head_counts: dict[str, int] = {}
    for i, layer in enumerate(spec.head):
        plan_layer(tracer, layer, f"head[{i}]", layer.name or _head_name(layer, head_counts))
    plan = Plan(model, shape, classes, policy, tuple(tracer.nodes), meta=_meta(spec))
    if plan.params > MAX_PARAMS:
        raise SpecError(f"{plan.params:,} parameters at input {shape_text(shape)}; the limit is {MAX_PARAMS:,}",
                        path=model)
    return plan


def check_input_shape(shape) -> tuple[int, int, int]:
    try:
        values = tuple(shape)
    except TypeError:
        raise ShapeError(f"input shape must be three integers H,W,C (got {shape!r})") from None
    if len(values) != 3 or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise ShapeError(f"input shape must be three integers H,W,C (got {','.join(map(str, values))})")
    if min(values) < 1:
        raise ShapeError(f"input shape must be positive (got {','.join(map(str, values))})")
    if max(values[:2]) > schema.MAX_SIDE or values[2] > schema.MAX_CHANNELS:
        raise ShapeError(f"input shape {','.join(map(str, values))} is too large (at most "
                         f"{schema.MAX_SIDE} pixels a side and {schema.MAX_CHANNELS} channels)")
    return values  # type: ignore[return-value]


def check_classes(classes) -> int:
    if not isinstance(classes, int) or isinstance(classes, bool) or not 1 <= classes <= schema.MAX_UNITS:
        raise ShapeError(f"classes must be an integer from 1 to {schema.MAX_UNITS} (got {classes})")
    return classes


def _meta(spec: schema.ModelSpec) -> dict[str, Any]:
    return {"family": spec.family, "description": spec.description,
            "paper": spec.paper.model_dump() if spec.paper else None,
            "published": spec.published.model_dump() if spec.published else None}


def _auto_name(prefix: str, layer, tracer: Tracer) -> str:
    i = 1
    while f"{prefix}_{layer.type}{i}" in tracer.named:
        i += 1
    return f"{prefix}_{layer.type}{i}"


def _head_name(layer, counts: dict[str, int]) -> str:
    fixed = {"flatten": "flatten", "classifier": "predictions"}
    if layer.type in fixed:
        return fixed[layer.type]
    if layer.type == "global_pool":
        return f"{layer.mode}_pool"
    if layer.type == "adaptive_pool":
        return f"adaptive_{layer.mode}_pool"
    short = {"dense": "fc", "dropout": "dropout"}.get(layer.type, f"head_{layer.type}")
    counts[short] = counts.get(short, 0) + 1
    return f"{short}{counts[short]}"


def _plan_features(tracer: Tracer, layers, prefix: str, state: list, suffix: str = "") -> None:
    """VGG naming: block{b}_conv{k}, …, block{b}_pool; a pool closes the block.

    A named layer inside a repeat gets the copy number: `mine_1`, `mine_2`, …
    """
    for i, layer in enumerate(layers):
        source = f"{prefix}[{i}]"
        if isinstance(layer, schema.Repeat):
            for r in range(layer.times):
                _plan_features(tracer, layer.layers, f"{source}.layers", state, f"{suffix}_{r + 1}")
            continue
        block, counts = state
        if isinstance(layer, schema.Pool):
            auto = f"block{block}_pool"
            state[0], state[1] = block + 1, {}
        else:
            short = {"conv": "conv", "basic": "res", "bottleneck": "res"}.get(layer.type, layer.type)
            counts[short] = counts.get(short, 0) + 1
            auto = f"block{block}_{short}{counts[short]}"
        plan_layer(tracer, layer, source, f"{layer.name}{suffix}" if layer.name else auto)


def _plan_stages(tracer: Tracer, spec: schema.ModelSpec) -> None:
    """Stage s is named conv{s+2} (the stem is conv1), as in the paper's Table 1.

    A stage's stride goes to its first block, or with ``stride_block: last`` to its last.
    """
    if not spec.stages:
        return
    strides = spec.strides or [1] + [2] * (len(spec.stages) - 1)
    for s, (repeats, width, stride) in enumerate(zip(spec.stages, spec.widths, strides)):
        strided = 0 if spec.block.stride_block == "first" else repeats - 1
        for b in range(repeats):
            block = schema.Residual(**dict(spec.block), filters=width, stride=stride if b == strided else 1)
            plan_layer(tracer, block, f"stages[{s}].block[{b}]", f"conv{s + 2}_block{b + 1}")


@PLANNERS.register("conv")
def _conv(t: Tracer, layer: schema.Conv, source: str, name: str) -> None:
    d = t.defaults
    batch_norm = d.batch_norm if layer.batch_norm is None else layer.batch_norm
    t.conv_unit(name, source, filters=layer.filters, kernel=layer.kernel or d.kernel, stride=layer.stride,
                padding=d.padding if layer.padding is None else layer.padding,
                bias=t.bias(batch_norm) if layer.bias is None else layer.bias, batch_norm=batch_norm,
                activation=layer.activation or d.activation, fused=True)


@PLANNERS.register("maxpool", "avgpool")
def _pool(t: Tracer, layer: schema.Pool, source: str, name: str) -> None:
    padded = isinstance(layer.padding, int) and layer.padding > 0
    padding = t.pad(name, layer.padding, source)
    pool_name = f"{name}_pool" if padded else name
    h, w, c = t.spatial(source, "pooling")
    pool = tuple(layer.pool)
    stride = tuple(layer.stride or layer.pool)
    note, skipped = "", False
    if padding == "valid" and (h < pool[0] or w < pool[1]):
        fitted = (min(pool[0], h), min(pool[1], w))
        skipped = (h, w) == (1, 1)  # then the fitted pool is 1×1 too: nothing left to pool
        if skipped:
            note = f"skipped: the {shape_text(pool)} pool does not fit the 1×1 input"
        else:
            note = f"pool {shape_text(pool)} → {shape_text(fitted)} to fit the {shape_text((h, w))} input"
        t.refuse(source, pool_name, f"the {shape_text(pool)} pool does not fit the {shape_text((h, w))} input")
        pool = fitted
    hw = (out_size(h, pool[0], stride[0], padding), out_size(w, pool[1], stride[1], padding))
    op = "identity" if skipped else ("max_pool" if layer.type == "maxpool" else "avg_pool")
    t.emit(pool_name, op, {"pool": pool, "stride": stride, "padding": padding}, (*hw, c), source, note=note)


@PLANNERS.register("lrn")
def _lrn(t: Tracer, layer: schema.LRN, source: str, name: str) -> None:
    t.spatial(source, "local response normalisation")
    attrs = {"size": layer.size, "alpha": layer.alpha, "beta": layer.beta, "bias": layer.bias}
    t.emit(name, "lrn", attrs, t.shape, source)


def _dense(t: Tracer, name: str, source: str, units: int, activation: str, bias: bool) -> None:
    *outer, cin = t.shape
    positions = math.prod(outer)
    attrs = {"units": units, "activation": activation, "bias": bias}
    t.emit(name, "dense", attrs, (*outer, units), source, params=cin * units + (units if bias else 0),
           macs=positions * cin * units)


@PLANNERS.register("dense")
def _dense_layer(t: Tracer, layer: schema.Dense, source: str, name: str) -> None:
    _dense(t, name, source, layer.units, layer.activation, layer.bias)


@PLANNERS.register("classifier")
def _classifier(t: Tracer, layer: schema.Classifier, source: str, name: str) -> None:
    _dense(t, name, source, t.classes, layer.activation, layer.bias)


@PLANNERS.register("dropout")
def _dropout(t: Tracer, layer: schema.Dropout, source: str, name: str) -> None:
    t.emit(name, "dropout", {"rate": layer.rate}, t.shape, source)


@PLANNERS.register("flatten")
def _flatten(t: Tracer, layer: schema.Flatten, source: str, name: str) -> None:
    t.emit(name, "flatten", {}, (math.prod(t.shape),), source)


@PLANNERS.register("global_pool")
def _global_pool(t: Tracer, layer: schema.GlobalPool, source: str, name: str) -> None:
    t.spatial(source, "global pooling")
    t.emit(name, "global_pool", {"mode": layer.mode}, (t.shape[-1],), source)


@PLANNERS.register("adaptive_pool")
def _adaptive_pool(t: Tracer, layer: schema.AdaptivePool, source: str, name: str) -> None:
    c = t.spatial(source, "adaptive pooling")[-1]
    output = tuple(layer.output)
    t.emit(name, "adaptive_pool", {"output": output, "mode": layer.mode}, (*output, c), source)


@PLANNERS.register("batch_norm")
def _batch_norm(t: Tracer, layer: schema.BatchNorm, source: str, name: str) -> None:
    t.batch_norm(name, source)


@PLANNERS.register("activation")
def _activation(t: Tracer, layer: schema.Act, source: str, name: str) -> None:
    if t.activation(name, layer.activation, source) is None:
        t.emit(name, "identity", {}, t.shape, source)


@PLANNERS.register("repeat")
def _repeat(t: Tracer, layer: schema.Repeat, source: str, name: str) -> None:
    for r in range(layer.times):
        for i, inner in enumerate(layer.layers):
            plan_layer(t, inner, f"{source}.layers[{i}]", inner.name and f"{inner.name}_{r + 1}"
                        or f"{name}_{r + 1}_{inner.type}{i + 1}")
