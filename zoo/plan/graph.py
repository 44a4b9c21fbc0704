"""The plan: a flat graph of primitive ops with shapes and counts, built before any Keras code runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Node:
    name: str                   # the Keras layer name
    op: str                     # primitive op, see zoo.keras.layers
    inputs: tuple[str, ...]     # names of earlier nodes
    attrs: dict[str, Any]
    shape: tuple[int, ...]      # output shape, batch axis left out
    params: int = 0             # trainable
    frozen: int = 0             # non-trainable (batch-norm moving statistics)
    macs: int = 0               # multiply-accumulates, convolutions and dense layers only
    source: str = ""            # the spec path it came from, e.g. "stages[1].block[0]"
    note: str = ""              # how it was adapted to this input, if it was
    role: str = ""              # "shortcut" (a residual projection), "se" (squeeze-excite): not counted in depth

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "op": self.op, "inputs": list(self.inputs), "source": self.source,
                "output_shape": list(self.shape), "params": self.params + self.frozen,
                "trainable_params": self.params, "non_trainable_params": self.frozen,
                "macs": self.macs, "adapted": self.note or None, "role": self.role or None}


@dataclass(frozen=True)
class Plan:
    name: str
    input_shape: tuple[int, int, int]
    classes: int
    policy: str
    nodes: tuple[Node, ...]
    meta: dict[str, Any] = field(default_factory=dict)  # family, paper, published figures

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.nodes[-1].shape

    @property
    def trainable_params(self) -> int:
        return sum(n.params for n in self.nodes)

    @property
    def non_trainable_params(self) -> int:
        return sum(n.frozen for n in self.nodes)

    @property
    def params(self) -> int:
        return self.trainable_params + self.non_trainable_params

    @property
    def macs(self) -> int:
        return sum(n.macs for n in self.nodes)

    @property
    def depth(self) -> int:
        """Weight layers on the main path, as the papers count them (VGG-16: 16)."""
        return sum(1 for n in self.nodes if n.op in ("conv2d", "dense") and not n.role)

    @property
    def adapted(self) -> list[Node]:
        return [n for n in self.nodes if n.note]

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "family": self.meta.get("family"),
                "input_shape": list(self.input_shape), "output_shape": list(self.output_shape),
                "classes": self.classes, "params": self.params, "trainable_params": self.trainable_params,
                "non_trainable_params": self.non_trainable_params, "macs": self.macs,
                "gmacs": round(self.macs / 1e9, 4), "depth": self.depth,
                "adapted": [{"name": n.name, "source": n.source, "note": n.note} for n in self.adapted],
                "policy": self.policy}

    def as_dict(self) -> dict[str, Any]:
        return {**self.summary(), "meta": self.meta, "layers": [n.as_dict() for n in self.nodes]}
