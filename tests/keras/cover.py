"""The fewest cheap specs whose plans hold every layer kind of the registry at an input shape.

A Keras build costs 0.2–12 s a spec on the 2-core machine (ResNet-1202: 12 s), so the default suite
builds, at each shape, a set of specs that together contain every kind of node any spec has there:
the same op with the same shape-relevant attributes (kernel, stride, padding, bias, pooling mode,
shortcut role, adapted or not...). Sizes (filters, units) and values that change neither shapes nor
counts (initialisers, batch-norm epsilon and momentum) are not part of a kind. Every spec is still
built with -m slow.
"""

from __future__ import annotations

from functools import lru_cache

import zoo
from tests.conftest import MODELS

# Attributes that change neither an output shape nor a weight count: a spec differing from another
# only in these builds through the same code.
NOT_KIND = {"filters", "units", "channels", "initializer", "gamma", "epsilon", "momentum"}


def _kind(node) -> tuple:
    attrs = tuple(sorted((k, repr(v)) for k, v in node.attrs.items() if k not in NOT_KIND))
    return node.op, node.role, bool(node.note), attrs


def _cost(plan) -> float:
    """Seconds to build, roughly, on the 2-core machine: ~3 ms a layer plus ~20 ms per million weights."""
    return len(plan.nodes) * 3e-3 + plan.params * 2e-8


@lru_cache(maxsize=None)
def covering(shape: tuple[int, ...], classes: int = 10) -> frozenset[str]:
    """Greedy set cover: repeatedly take the spec adding the most new kinds per second of build."""
    plans = {name: zoo.plan(name, shape, classes) for name in MODELS}
    kinds = {name: {_kind(n) for n in plan.nodes} for name, plan in plans.items()}
    left = set().union(*kinds.values())
    chosen: set[str] = set()
    while left:
        best = max(MODELS, key=lambda name: len(kinds[name] & left) / _cost(plans[name]))
        chosen.add(best)
        left -= kinds[best]
    return frozenset(chosen)
