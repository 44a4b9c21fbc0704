"""A tiny spec for the benchmark tests: 8×8×1 in, one 3×3 convolution, 3 classes (235 parameters)."""

from __future__ import annotations

import pytest

TINY = """
tiny:
  input_shape: [8, 8, 1]
  classes: 3
  features: [4, M]
  head:
    - {type: flatten}
    - {type: classifier}
"""

# conv 3·3·1·4 + 4 = 40, classifier 4·4·4·3 + 3 = 195 → 235 parameters;
# MACs: 8·8·4·9 = 2,304 (conv) + 64·3 = 192 (classifier) = 2,496 per sample.
TINY_PARAMS, TINY_MACS = 235, 2496

def jit_auto() -> bool:
    """What --jit auto picks on this CPU-only machine: XLA only under JAX, where it is the compiled path."""
    import keras

    return keras.config.backend() == "jax"


# Few, small steps: these tests check the records, never the timings.
QUICK = {"batch_size": 4, "steps": 2, "warmup": 1, "repeats": 2}


@pytest.fixture
def tiny(write_spec) -> str:
    return str(write_spec(TINY, "tiny.yaml"))
