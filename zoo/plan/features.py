"""Which plan nodes are a network's feature maps, with their strides and channels; pure Python.

A residual stage (``stages[s]``) gives one feature, its last node, named ``C{s+2}`` after the
paper's conv{s+2}_x (the stem is conv1). A ``features`` list is cut into blocks at its pools
(VGG's block1 … block5): each block gives the map just before its pool, or with
``pool="after"`` the pool's output; layers after the last pool make a last block. Batch norms
and activations that open the head at the same size (a pre-activation network's final
BN-ReLU) belong to the last feature, as the classifier sees it.
"""

from __future__ import annotations

from dataclasses import dataclass

from zoo.errors import ShapeError
from zoo.plan.graph import Node, Plan
from zoo.plan.ops import shape_text

POOLS = ("before", "after")
_STRIDED = ("conv2d", "max_pool", "avg_pool", "channel_pad")
_KEEPS_MAP = ("batch_norm", "activation")  # head layers that do not change the map


@dataclass(frozen=True)
class Feature:
    name: str                    # "C2", "block1"
    node: str                    # the plan node (the Keras layer) whose output it is
    shape: tuple[int, int, int]  # H, W, C at the plan's input size
    stride: tuple[int, int]      # product of the strides on the way from the input

    def as_dict(self) -> dict:
        return {"name": self.name, "layer": self.node, "shape": list(self.shape),
                "channels": self.shape[-1], "stride": list(self.stride)}


def strides(plan: Plan) -> dict[str, tuple[int, int]]:
    """Every node's cumulative stride; an add's inputs agree, so the larger is taken."""
    out: dict[str, tuple[int, int]] = {}
    for node in plan.nodes:
        before = [out[name] for name in node.inputs] or [(1, 1)]
        sh, sw = max(s[0] for s in before), max(s[1] for s in before)
        own = node.attrs.get("stride", 1) if node.op in _STRIDED else 1
        own = (own, own) if isinstance(own, int) else tuple(own)
        out[node.name] = (sh * own[0], sw * own[1])
    return out


def _is_pool(nodes: list[Node]) -> bool:
    """A unit traced from a pool layer: it ends in the pool (or the identity a skipped pool became)."""
    last = nodes[-1]
    return last.op in ("max_pool", "avg_pool") or (last.op == "identity" and "pool" in last.attrs)


def _units(plan: Plan) -> list[tuple[str, list[Node]]]:
    """Consecutive nodes grouped by the spec layer they came from, in trace order."""
    units: list[tuple[str, list[Node]]] = []
    for node in plan.nodes[1:]:
        if units and units[-1][0] == node.source:
            units[-1][1].append(node)
        else:
            units.append((node.source, [node]))
    return units


def _taps(plan: Plan, pool: str) -> list[tuple[str, Node]]:
    taps: list[tuple[str, Node]] = []
    block, pending = 1, None  # pending: the last node of the open features block
    stage, stage_last = None, None
    for source, nodes in _units(plan):
        if source.startswith("features["):
            if _is_pool(nodes):
                before = pending if pending is not None else nodes[0]
                taps.append((f"block{block}", nodes[-1] if pool == "after" or pending is None else before))
                block, pending = block + 1, None
            else:
                pending = nodes[-1]
            continue
        if pending is not None:  # layers after the last pool
            taps.append((f"block{block}", pending))
            pending = None
        if source.startswith("stages["):
            s = int(source[len("stages["):source.index("]")])
            if stage is not None and s != stage:
                taps.append((f"C{stage + 2}", stage_last))
            stage, stage_last = s, nodes[-1]
        elif stage is not None:
            taps.append((f"C{stage + 2}", stage_last))
            stage = None
    if pending is not None:
        taps.append((f"block{block}", pending))
    if stage is not None:
        taps.append((f"C{stage + 2}", stage_last))
    return taps


def features(plan: Plan, pool: str = "before") -> list[Feature]:
    """The plan's feature maps, shallowest first."""
    if pool not in POOLS:
        raise ShapeError(f"feature pool must be one of: {', '.join(POOLS)} (got {pool!r})")
    taps = _taps(plan, pool)
    if not taps:
        raise ShapeError(f"{plan.name} has no stages or feature blocks to take feature maps from")
    # the last feature takes in the head's shape-keeping batch norm and activation
    name, last = taps[-1]
    index = {n.name: i for i, n in enumerate(plan.nodes)}
    for node in plan.nodes[index[last.name] + 1:]:
        if not node.source.startswith("head[") or node.op not in _KEEPS_MAP or node.shape != last.shape:
            break
        last = node
    taps[-1] = (name, last)
    stride = strides(plan)
    return [Feature(name, node.name, node.shape, stride[node.name]) for name, node in taps]  # type: ignore[arg-type]


def pick(found: list[Feature], out_indices) -> list[Feature]:
    """``out_indices`` (0-based, negative from the end) of the features; None keeps them all."""
    if out_indices is None:
        return found
    names = ", ".join(f.name for f in found)
    picked = []
    for i in out_indices:
        if isinstance(i, bool) or not isinstance(i, int) or not -len(found) <= i < len(found):
            raise ShapeError(f"out_indices: {i!r} is not an index of the {len(found)} features ({names})")
        picked.append(found[i])
    if not picked or len({f.name for f in picked}) != len(picked):
        raise ShapeError(f"out_indices must pick each feature at most once, at least one "
                         f"(got {list(out_indices)}; features: {names})")
    return picked


def pooled(plan: Plan) -> Node:
    """The head's first flat node (the global pool or flatten): the network without its classifier."""
    for node in plan.nodes:
        if node.source.startswith("head[") and len(node.shape) == 1:
            return node
    raise ShapeError(f"{plan.name} has no global pool or flatten in its head "
                     f"(output {shape_text(plan.output_shape)})")
