"""Versions, device description, memory figures and out-of-memory recognition."""

from __future__ import annotations

import platform

import keras
import numpy
import pytest

from zoo import system


def test_versions_name_every_library():
    versions = system.versions()
    assert versions == {"python": platform.python_version(), "zoo": versions["zoo"], "keras": keras.__version__,
                        "backend": keras.config.backend(), "backend_version": versions["backend_version"],
                        "numpy": numpy.__version__}
    assert versions["backend_version"]


def test_device_describes_the_cpu():
    device = system.device()
    assert set(device) == {"cpu", "cpu_cores", "accelerator", "gpu", "gpu_count", "platform"}
    assert device["cpu"] and device["cpu_cores"] >= 1
    if device["accelerator"] == "cpu":
        assert (device["gpu"], device["gpu_count"]) == (None, 0)
        assert system.device_peak_bytes() is None


def test_host_peak_is_a_plausible_byte_count():
    system.reset_host_peak()
    peak = system.host_peak_bytes()
    assert peak is None or 2**20 < peak < 2**40


@pytest.mark.parametrize("error,expected", [
    (MemoryError(), True),
    (type("ResourceExhaustedError", (Exception,), {})("OOM when allocating tensor"), True),
    (RuntimeError("RESOURCE_EXHAUSTED: Out of memory while trying to allocate 1.0GiB"), True),
    (RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"), True),
    (ValueError("Input 0 of layer is incompatible"), False),
])
def test_out_of_memory_is_recognised_across_backends(error, expected):
    assert system.is_out_of_memory(error) is expected
