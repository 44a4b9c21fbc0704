"""What a run or benchmark ran on: library versions, the device, memory figures, per-device defaults.

Backend-specific calls sit behind ``keras.config.backend()`` so the JAX and
PyTorch paths never import TensorFlow.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import platform
import re
import sys
import tempfile
from functools import lru_cache
from typing import Any, Iterator


def backend() -> str:
    import keras

    return keras.config.backend()


def backend_version(name: str) -> str | None:
    """The backend's own version; Keras has imported it already, so this costs nothing."""
    try:
        return importlib.import_module(name).__version__
    except (ImportError, AttributeError):
        return None


def versions() -> dict[str, Any]:
    import keras
    import numpy

    import zoo

    name = backend()
    return {"python": platform.python_version(), "zoo": zoo.__version__, "keras": keras.__version__,
            "backend": name, "backend_version": backend_version(name), "numpy": numpy.__version__}


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))  # cores this process may use, not the host's total
    except AttributeError:
        return os.cpu_count() or 1


@lru_cache(maxsize=None)
def accelerator() -> dict[str, Any]:
    """``{"kind": "gpu" | "tpu" | "cpu", "name": ..., "count": n}`` for the backend's first device."""
    name = backend()
    if name == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            details = tf.config.experimental.get_device_details(gpus[0])
            return {"kind": "gpu", "name": details.get("device_name", gpus[0].name), "count": len(gpus)}
    elif name == "jax":
        import jax

        devices = jax.devices()
        if devices and devices[0].platform != "cpu":
            return {"kind": devices[0].platform, "name": devices[0].device_kind, "count": len(devices)}
    elif name == "torch":
        import torch

        if torch.cuda.is_available():
            return {"kind": "gpu", "name": torch.cuda.get_device_name(0), "count": torch.cuda.device_count()}
    return {"kind": "cpu", "name": None, "count": 0}


def device() -> dict[str, Any]:
    acc = accelerator()
    return {"cpu": cpu_model(), "cpu_cores": cpu_count(), "accelerator": acc["kind"], "gpu": acc["name"],
            "gpu_count": acc["count"], "platform": platform.platform()}


def system_info() -> dict[str, Any]:
    return {"versions": versions(), "device": device()}


def describe() -> dict[str, Any]:
    """Backend, versions and hardware in one flat record, for run configs."""
    acc = accelerator()
    return {**versions(), "accelerator": None if acc["kind"] == "cpu" else acc["kind"], "gpu": acc["name"],
            "cpu": cpu_model(), "cpu_count": cpu_count()}


def jit_default(setting: str) -> bool:
    """`auto`: XLA on accelerators and always with JAX (its only compiled path); off on a CPU with
    TensorFlow, where it made VGG-16 training 5× slower (docs/benchmarks.md)."""
    if setting != "auto":
        return setting == "on"
    name = backend()
    if name == "jax":
        return True
    if name == "torch":
        return False
    return accelerator()["kind"] != "cpu"


def load_average() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (AttributeError, OSError):
        return None


# -- memory ------------------------------------------------------------------------------


def reset_host_peak() -> bool:
    """Restart the kernel's peak-RSS counter (Linux: ``5`` into clear_refs); False where it cannot."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def host_peak_bytes() -> int | None:
    """Peak resident memory: since the last reset where the kernel allows it, else of the whole process."""
    try:
        with open("/proc/self/status", encoding="utf-8") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024  # kB
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, kB on Linux


def reset_device_peak() -> None:
    kind = accelerator()["kind"]
    if kind == "cpu":
        return
    name = backend()
    try:
        if name == "tensorflow":
            import tensorflow as tf

            tf.config.experimental.reset_memory_stats("GPU:0")
        elif name == "torch":
            import torch

            torch.cuda.reset_peak_memory_stats()
    except (ValueError, RuntimeError, AttributeError):
        pass  # JAX keeps no resettable peak: its figure is the process's peak so far


def device_peak_bytes() -> int | None:
    """Peak accelerator memory where the backend reports it; None on CPU."""
    if accelerator()["kind"] == "cpu":
        return None
    name = backend()
    try:
        if name == "tensorflow":
            import tensorflow as tf

            return int(tf.config.experimental.get_memory_info("GPU:0")["peak"])
        if name == "jax":
            import jax

            stats = jax.devices()[0].memory_stats() or {}
            peak = stats.get("peak_bytes_in_use")
            return None if peak is None else int(peak)
        if name == "torch":
            import torch

            return int(torch.cuda.max_memory_allocated())
    except (ValueError, RuntimeError, AttributeError, KeyError):
        return None
    return None


def is_out_of_memory(error: BaseException) -> bool:
    """TensorFlow's ResourceExhaustedError, XLA's RESOURCE_EXHAUSTED, torch's OutOfMemoryError, MemoryError."""
    if isinstance(error, MemoryError):
        return True
    if type(error).__name__ in ("ResourceExhaustedError", "OutOfMemoryError"):
        return True
    text = str(error)
    return "RESOURCE_EXHAUSTED" in text or "out of memory" in text.lower()


# -- a quiet start ------------------------------------------------------------------------

# What TensorFlow's C++ side prints on every start on a machine without CUDA: absl's pre-init
# banner, INFO lines (oneDNN, "could not find cuda drivers") and the expected cuInit failure.
# TF_CPP_MIN_LOG_LEVEL does not reach these absl lines. Warnings, errors and Python output pass.
_START_NOISE = re.compile(
    r"WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|I\d{4} [\d:. ]+\d+ \S+\.cc:\d+\] .*"
    r"|E\d{4} [\d:. ]+\d+ cuda_(?:platform|diagnostics|driver)\.cc:\d+\] (?:failed call to cuInit|.*kernel driver).*")


@contextlib.contextmanager
def native_stderr_filtered(noise: re.Pattern = _START_NOISE) -> Iterator[None]:
    """Send file descriptor 2 to a temporary file for the block, then print back every line but ``noise``."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            lines = capture.read().decode("utf-8", errors="replace").splitlines()
            kept = [line for line in lines if not noise.fullmatch(line)]
            if kept:
                sys.stderr.write("\n".join(kept) + "\n")
                sys.stderr.flush()


def start_keras_quietly() -> None:
    """Import Keras and its backend, and probe for accelerators, with the start-up noise filtered."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow loads: no oneDNN/AVX notes
    with native_stderr_filtered():
        import keras

        if keras.config.backend() == "tensorflow":
            import tensorflow as tf

            tf.config.list_physical_devices("GPU")  # cuInit runs here: its failure on a CPU host is expected
