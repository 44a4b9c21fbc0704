"""The device's own matrix-multiply peak, measured in the same run: the denominator of MFU.

A vendor's datasheet peak is rarely reached (clocks, power, the framework's kernels),
and a CPU has none worth quoting, so ``zoo bench --peak auto`` times a large square
matmul through the active Keras backend (``keras.ops.matmul``), after warm-up, with a
device sync, and takes the best of a few repeats: what this device can do here, now.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from zoo import system

PEAK_DTYPES = ("float32", "bfloat16")
# n×n×n products: 2·n³ FLOPs each. 8192 fills an H100/H200 (≈1.1 TFLOP, ~1.5 ms in bf16);
# 2048 keeps a 2-core CPU's measurement near a second per dtype (17 GFLOP at ~0.1–0.3 TFLOP/s).
SIZE_ACCELERATOR, SIZE_CPU = 8192, 2048
REPEAT_S = 0.25   # each timed repeat runs enough products to last about this long
REPEATS = 3
PRECISION_DTYPE = {"float32": "float32", "mixed_bfloat16": "bfloat16", "mixed_float16": "float16"}


def default_size() -> int:
    return SIZE_CPU if system.accelerator()["kind"] == "cpu" else SIZE_ACCELERATOR


def dtypes_for(precision: str) -> tuple[str, ...]:
    """float32 and bfloat16 always; float16 too when the run itself computes in it."""
    extra = PRECISION_DTYPE[precision]
    return PEAK_DTYPES if extra in PEAK_DTYPES else (*PEAK_DTYPES, extra)


def measure_peak(dtypes: tuple[str, ...] = PEAK_DTYPES, size: int | None = None,
                 repeats: int = REPEATS) -> dict[str, Any]:
    """``{"size", "method", "tflops": {dtype: best or None}, "median_tflops", "errors"}``.

    A dtype the backend or device cannot multiply in is recorded with its error, not raised.
    """
    n = size or default_size()
    tflops: dict[str, float | None] = {}
    medians: dict[str, float | None] = {}
    errors: dict[str, str] = {}
    for dtype in dtypes:
        try:
            rates = _time_matmul(n, dtype, repeats)
        except Exception as error:  # unsupported dtype on this device/backend: say so and go on
            if system.is_out_of_memory(error):
                raise
            tflops[dtype] = medians[dtype] = None
            errors[dtype] = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
            continue
        tflops[dtype] = max(rates)
        medians[dtype] = sorted(rates)[len(rates) // 2]
    return {"size": n, "repeats": repeats, "backend": system.backend(),
            "method": f"best of {repeats} timed repeats of {n}×{n}×{n} keras.ops.matmul after warm-up, synced",
            "tflops": tflops, "median_tflops": medians, "errors": errors}


def combine(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Two measurements (before and after the models) as one: the higher per dtype, both kept."""
    def best(a, b):
        return b if a is None else a if b is None else max(a, b)

    tflops = {dtype: best(before["tflops"].get(dtype), after["tflops"].get(dtype)) for dtype in before["tflops"]}
    return {**before, "tflops": tflops, "before": before["tflops"], "after": after["tflops"],
            "method": before["method"] + "; measured before and after the models, the higher kept",
            "errors": {**after["errors"], **before["errors"]}}


def _time_matmul(n: int, dtype: str, repeats: int) -> list[float]:
    """TFLOP/s of each repeat: ``count`` back-to-back products, then one sync (devices run them in order)."""
    import keras

    rng = np.random.default_rng(0)
    # Values in [-1, 1) scaled by 1/sqrt(n) keep sums O(1): no overflow in float16, no denormals.
    a, b = (keras.ops.cast(keras.ops.convert_to_tensor(
        (rng.random((n, n), dtype=np.float32) * 2 - 1) / math.sqrt(n)), dtype) for _ in range(2))
    flops = 2.0 * n ** 3

    def run(count: int) -> float:
        start = time.perf_counter()
        for _ in range(count):
            c = keras.ops.matmul(a, b)
        _sync(c)
        return time.perf_counter() - start

    first = run(1)                      # compiles / picks kernels
    once = min(run(1), first)           # warm
    count = max(1, math.ceil(REPEAT_S / max(once, 1e-6)))
    return [flops * count / run(count) / 1e12 for _ in range(repeats)]


def _sync(x) -> None:
    """Wait for ``x``: converting one element to NumPy blocks until the device has produced it."""
    import keras

    keras.ops.convert_to_numpy(x[:1, :1])


def apply_peak(result: dict[str, Any], precision: str, *, given: float | None = None,
               measured: dict[str, Any] | None = None) -> None:
    """Fill in each run's ``peak_tflops``, ``peak_source`` and ``mfu`` (TFLOP/s ÷ the peak of its compute dtype)."""
    dtype = PRECISION_DTYPE[precision]
    if given is not None:
        peak, source = given, "--peak-tflops"
    elif measured is not None:
        peak, source = measured["tflops"].get(dtype), f"measured {dtype} matmul"
    else:
        peak, source = None, None
    for run in result["runs"]:
        run["peak_tflops"], run["peak_source"] = peak, source if peak else None
        run["mfu"] = run["tflops"] / peak if peak else None
    if measured is not None and given is None and not peak:
        result["notes"].append(f"no {dtype} peak could be measured on this device: no MFU")
