"""`--limit N`: a seeded, class-stratified sample, so a class-ordered dataset still gives every class.

Each class gets its share of N in proportion to its size (largest remainders break ties, and every
class keeps at least one example while N allows); within a class the examples are drawn at random
from a generator seeded by (seed, N). The indices come back in the dataset's order.
"""

from __future__ import annotations

import numpy as np


def stratified(labels: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Indices of ``n`` examples (all of them when ``n`` is not smaller than the set)."""
    labels = np.asarray(labels)
    if n >= len(labels):
        return np.arange(len(labels))
    classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    exact = counts * (n / len(labels))
    share = np.floor(exact).astype(np.int64)
    if n >= len(classes):
        share = np.maximum(share, 1)
    # hand out what rounding left (or take back what the minimum of one added), largest remainder first
    order = np.argsort(-(exact - np.floor(exact)), kind="stable")
    i = 0
    while share.sum() < n:
        c = order[i % len(order)]
        if share[c] < counts[c]:
            share[c] += 1
        i += 1
    while share.sum() > n:
        c = int(np.argmax(share))
        share[c] -= 1
    rng = np.random.default_rng([seed, n, 11])
    picked = [rng.choice(np.flatnonzero(inverse == c), size=int(k), replace=False)
              for c, k in enumerate(share) if k]
    return np.sort(np.concatenate(picked))
