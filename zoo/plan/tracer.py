"""The Tracer: appends plan nodes while tracking the current tensor; the kind registry.

Layer planners (zoo.plan.planner) and block planners (zoo.plan.blocks) register
here under their spec ``type`` and share the Tracer's primitive emitters.
"""

from __future__ import annotations

from typing import Any, Callable

from zoo.errors import ShapeError, SpecError
from zoo.kinds import KindTable
from zoo.plan.graph import Node
from zoo.plan.ops import conv_counts, out_size, shape_text
from zoo.spec import schema

LayerPlanner = Callable[["Tracer", Any, str, str], None]
PLANNERS: KindTable[LayerPlanner] = KindTable("layer kind")


def plan_layer(tracer: "Tracer", layer, source: str, name: str) -> None:
    PLANNERS[layer.type](tracer, layer, source, name)


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
             activation: str | None = None, role: str = "", zero_init: bool = False, groups: int = 1) -> str:
        h, w, cin = self.spatial(source, "a convolution")
        kernel, stride = tuple(kernel), tuple(stride)
        note = ""
        if padding == "valid" and (h < kernel[0] or w < kernel[1]):
            note = f"padding valid → same: {shape_text((h, w))} input is smaller than the {shape_text(kernel)} kernel"
            self.refuse(source, name, note)
            padding = "same"
        hw = (out_size(h, kernel[0], stride[0], padding), out_size(w, kernel[1], stride[1], padding))
        params, macs = conv_counts(cin // groups, filters, kernel, bias, hw)  # each filter sees cin / groups
        attrs = {"filters": filters, "kernel": kernel, "stride": stride, "padding": padding, "bias": bias,
                 "activation": activation, "initializer": "zeros" if zero_init else self.defaults.initializer}
        if groups > 1:  # only then, so ungrouped plans stay as they were
            attrs["groups"] = groups
        return self.emit(name, "conv2d", attrs, (*hw, filters), source, params=params, macs=macs, note=note,
                         role=role)

    def bias(self, normalised: bool) -> bool:
        """The spec's convolution bias; ``auto`` means one only where no batch norm follows."""
        if self.defaults.bias == "auto":
            return not normalised
        return self.defaults.bias

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
                  batch_norm: bool, activation: str, fused: bool, role: str = "", zero_init: bool = False,
                  groups: int = 1) -> str:
        """conv [→ bn] [→ activation]; without batch norm a fused activation keeps one layer."""
        padding = self.pad(base, padding, source)
        if fused and not batch_norm:
            act = None if activation == "linear" else activation
            return self.conv(base, source, filters=filters, kernel=kernel, stride=stride, padding=padding,
                             bias=bias, activation=act, groups=groups)
        self.conv(f"{base}_conv", source, filters=filters, kernel=kernel, stride=stride, padding=padding, bias=bias,
                  role=role, zero_init=zero_init and not batch_norm, groups=groups)
        if batch_norm:
            self.batch_norm(f"{base}_bn", source, zero_init=zero_init)
        self.activation(f"{base}_{activation}", activation, source)
        return self.current
