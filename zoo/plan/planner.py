"""Validated spec + input shape → Plan: every layer's name, output shape and counts.

Feature-map sizes are traced through the whole network first, so a pooling
layer that would shrink the map below 1×1 is adapted (policy ``adapt``) or
refused (policy ``strict``) before any Keras code runs.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from zoo.errors import ShapeError, SpecError
from zoo.kinds import KindTable
from zoo.plan.graph import Node, Plan
from zoo.plan.ops import conv_counts, out_size, shape_text
from zoo.spec import schema

POLICIES = ("adapt", "strict")
MAX_PARAMS = 2_000_000_000  # 8 GB of float32 weights: refuse before Keras allocates anything

LayerPlanner = Callable[["Tracer", Any, str, str], None]
PLANNERS: KindTable[LayerPlanner] = KindTable("layer kind")


class Tracer:
    """Appends nodes while tracking the current tensor, its shape, and the names in use."""

    def __init__(self, model: str, spec: schema.ModelSpec, input_shape: tuple[int, int, int],
                 classes: int, policy: str):
        self.model, self.spec, self.classes, self.policy = model, spec, classes, policy
        self.defaults = spec.conv
        self.nodes: list[Node] = [Node("input", "input", (), {}, tuple(input_shape))]
        self.named: dict[str, Node] = {"input": self.nodes[0]}
        self.current = "input"

    @property
    def shape(self) -> tuple[int, ...]:
        return self.by_name(self.current).shape

    def by_name(self, name: str) -> Node:
        return self.named[name]

    def emit(self, name: str, op: str, attrs: dict, shape: tuple[int, ...], source: str, *,
             inputs: tuple[str, ...] | None = None, params: int = 0, frozen: int = 0, macs: int = 0,
             note: str = "", role: str = "") -> str:
        if name in self.named:
            raise SpecError(f"layer name {name!r} is already used by {self.named[name].source or name}",
                            path=f"{self.model}.{source}")
        node = Node(name, op, inputs or (self.current,), attrs, shape, params, frozen, macs, source, note, role)
        self.nodes.append(node)
        self.named[name] = node
        self.current = name
        return name

    def spatial(self, source: str, what: str) -> tuple[int, int, int]:
        """The current H×W×C shape; a flat vector here (after flatten or global_pool) is a spec error."""
        if len(self.shape) != 3:
            raise SpecError(f"{what} needs an H×W×C feature map, but the input here is flat "
                            f"({shape_text(self.shape)})", path=f"{self.model}.{source}")
        return self.shape  # type: ignore[return-value]

    def refuse(self, source: str, name: str, message: str) -> None:
        if self.policy == "strict":
            raise ShapeError(f"{message}; the strict policy does not adapt layers ({name})",
                             path=f"{self.model}.{source}")

    # -- shared pieces ---------------------------------------------------------------------

    def pad(self, name: str, padding: Any, source: str) -> str:
        """Explicit symmetric zero padding becomes its own node; returns the conv/pool padding."""
        if isinstance(padding, int):
            if padding > 0:
                h, w, c = self.spatial(source, "zero padding")
                self.emit(f"{name}_pad", "zero_pad", {"pad": padding}, (h + 2 * padding, w + 2 * padding, c), source)
            return "valid"
        return padding

    def conv(self, name: str, source: str, *, filters: int, kernel, stride, padding, bias: bool,
             activation: str | None = None, role: str = "", zero_init: bool = False) -> str:
        h, w, cin = self.spatial(source, "a convolution")
        kernel, stride = tuple(kernel), tuple(stride)
        note = ""
        if padding == "valid" and (h < kernel[0] or w < kernel[1]):
            note = f"padding valid → same: {shape_text((h, w))} input is smaller than the {shape_text(kernel)} kernel"
            self.refuse(source, name, note)
            padding = "same"
        hw = (out_size(h, kernel[0], stride[0], padding), out_size(w, kernel[1], stride[1], padding))
        params, macs = conv_counts(cin, filters, kernel, bias, hw)
        attrs = {"filters": filters, "kernel": kernel, "stride": stride, "padding": padding, "bias": bias,
                 "activation": activation, "initializer": "zeros" if zero_init else self.defaults.initializer}
        return self.emit(name, "conv2d", attrs, (*hw, filters), source, params=params, macs=macs, note=note,
                         role=role)

    def batch_norm(self, name: str, source: str, zero_init: bool = False) -> str:
        c = self.shape[-1]
        attrs = {"epsilon": self.defaults.bn_epsilon, "momentum": self.defaults.bn_momentum,
                 "gamma": "zeros" if zero_init else "ones"}
        return self.emit(name, "batch_norm", attrs, self.shape, source, params=2 * c, frozen=2 * c)

    def activation(self, name: str, activation: str, source: str) -> str | None:
        if activation == "linear":
            return None
        return self.emit(name, "activation", {"activation": activation}, self.shape, source)

    def conv_unit(self, base: str, source: str, *, filters: int, kernel, stride, padding, bias: bool,
                  batch_norm: bool, activation: str, fused: bool, role: str = "", zero_init: bool = False) -> str:
        """conv [→ bn] [→ activation]; without batch norm a fused activation keeps one layer."""
        padding = self.pad(base, padding, source)
        if fused and not batch_norm:
            act = None if activation == "linear" else activation
            return self.conv(base, source, filters=filters, kernel=kernel, stride=stride, padding=padding,
                             bias=bias, activation=act)
        self.conv(f"{base}_conv", source, filters=filters, kernel=kernel, stride=stride, padding=padding, bias=bias,
                  role=role, zero_init=zero_init and not batch_norm)
        if batch_norm:
            self.batch_norm(f"{base}_bn", source, zero_init=zero_init)
        self.activation(f"{base}_{activation}", activation, source)
        return self.current


def plan_model(model: str, spec: schema.ModelSpec, input_shape=None, classes: int | None = None,
               policy: str = "adapt") -> Plan:
    """Trace ``spec`` at ``input_shape`` (default: the spec's) into a Plan."""
    shape = check_input_shape(input_shape if input_shape is not None else spec.input_shape)
    classes = spec.classes if classes is None else check_classes(classes)
    if policy not in POLICIES:
        raise ShapeError(f"unknown policy {policy!r} (expected one of: {', '.join(POLICIES)})")
    tracer = Tracer(model, spec, shape, classes, policy)
    for i, layer in enumerate(spec.stem):
        _plan_layer(tracer, layer, f"stem[{i}]", layer.name or _auto_name("stem", layer, tracer))
    _plan_features(tracer, spec.features, "features", [1, {}])
    _plan_stages(tracer, spec)
    head_counts: dict[str, int] = {}
    for i, layer in enumerate(spec.head):
        _plan_layer(tracer, layer, f"head[{i}]", layer.name or _head_name(layer, head_counts))
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
        _plan_layer(tracer, layer, source, f"{layer.name}{suffix}" if layer.name else auto)


def _plan_stages(tracer: Tracer, spec: schema.ModelSpec) -> None:
    """Stage s is named conv{s+2} (the stem is conv1), as in the paper's Table 1."""
    if not spec.stages:
        return
    strides = spec.strides or [1] + [2] * (len(spec.stages) - 1)
    for s, (repeats, width, stride) in enumerate(zip(spec.stages, spec.widths, strides)):
        for b in range(repeats):
            block = schema.Residual(**spec.block.model_dump(), filters=width, stride=stride if b == 0 else 1)
            _plan_layer(tracer, block, f"stages[{s}].block[{b}]", f"conv{s + 2}_block{b + 1}")


def _plan_layer(tracer: Tracer, layer, source: str, name: str) -> None:
    PLANNERS[layer.type](tracer, layer, source, name)


@PLANNERS.register("conv")
def _conv(t: Tracer, layer: schema.Conv, source: str, name: str) -> None:
    d = t.defaults
    t.conv_unit(name, source, filters=layer.filters, kernel=layer.kernel or d.kernel, stride=layer.stride,
                padding=d.padding if layer.padding is None else layer.padding,
                bias=d.bias if layer.bias is None else layer.bias,
                batch_norm=d.batch_norm if layer.batch_norm is None else layer.batch_norm,
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
            _plan_layer(t, inner, f"{source}.layers[{i}]", inner.name and f"{inner.name}_{r + 1}"
                        or f"{name}_{r + 1}_{inner.type}{i + 1}")


@PLANNERS.register("basic", "bottleneck")
def _residual(t: Tracer, block: schema.Residual, source: str, name: str) -> None:
    """He et al. 2016: the residual branch, the shortcut, their sum, then the activation.

    With ``preact`` (He et al. 2016b) each convolution is preceded by batch norm and
    the activation, the projection shortcut reads the pre-activated input, and
    nothing follows the sum.
    """
    d = t.defaults
    block_in = t.current
    cin = t.spatial(source, "a residual block")[-1]
    bottleneck = block.type == "bottleneck"
    expansion = block.expansion or (4 if bottleneck else 1)
    cout = block.filters * expansion
    s = block.stride
    if bottleneck:
        s1, s2 = (s, 1) if block.stride_on == "1x1" else (1, s)
        convs = [(block.filters, 1, s1, "valid"), (block.filters, 3, s2, "same"), (cout, 1, 1, "valid")]
    else:
        convs = [(block.filters, 3, s, "same"), (cout, 3, 1, "same")]
    branch_in = _preact(t, f"{name}_preact", source, d.batch_norm, d.activation) if block.preact else block_in
    for i, (filters, k, stride, padding) in enumerate(convs, start=1):
        last = i == len(convs)
        if block.preact and i > 1:
            _preact(t, f"{name}_{i}", source, d.batch_norm, d.activation)
        if i == 2 and block.dropout:
            t.emit(f"{name}_{i}_dropout", "dropout", {"rate": block.dropout}, t.shape, source)
        if block.preact:
            t.conv(f"{name}_{i}_conv", source, filters=filters, kernel=(k, k), stride=(stride, stride),
                   padding=padding, bias=d.bias, zero_init=last and block.zero_init)
        else:
            t.conv_unit(f"{name}_{i}", source, filters=filters, kernel=(k, k), stride=(stride, stride),
                        padding=padding, bias=d.bias, batch_norm=d.batch_norm,
                        activation="linear" if last else d.activation, fused=False,
                        zero_init=last and block.zero_init)
    branch = t.current
    shortcut = block_in
    if s != 1 or cin != cout:
        t.current = branch_in
        if block.shortcut == "projection":
            if block.preact:
                t.conv(f"{name}_0_conv", source, filters=cout, kernel=(1, 1), stride=(s, s), padding="valid",
                       bias=d.bias, role="shortcut")
            else:
                t.conv_unit(f"{name}_0", source, filters=cout, kernel=(1, 1), stride=(s, s), padding="valid",
                            bias=d.bias, batch_norm=d.batch_norm, activation="linear", fused=False,
                            role="shortcut")
        else:
            if cout < cin:
                raise SpecError(f"a zero_pad shortcut cannot shrink {cin} channels to {cout}",
                                path=f"{t.model}.{source}")
            h, w, _ = t.shape
            shape = (-(-h // s), -(-w // s), cout)
            t.emit(f"{name}_0_pad", "channel_pad", {"stride": s, "channels": cout - cin}, shape, source)
        shortcut = t.current
    t.emit(f"{name}_add", "add", {}, t.by_name(branch).shape, source, inputs=(branch, shortcut))
    if not block.preact:
        t.activation(f"{name}_out", d.activation, source)


def _preact(t: Tracer, base: str, source: str, batch_norm: bool, activation: str) -> str:
    """batch norm → activation ahead of a convolution; returns the activated tensor."""
    if batch_norm:
        t.batch_norm(f"{base}_bn", source)
    t.activation(f"{base}_{activation}", activation, source)
    return t.current
