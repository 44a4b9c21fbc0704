"""The export formats, Keras's name for each, and the packages each needs on each backend."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from zoo.errors import ZooError

EXTRA = "pip install 'zoo[export]'"


@dataclass(frozen=True)
class Format:
    name: str        # zoo's name, for --format
    keras: str       # model.export(format=...)
    suffix: str      # "" for a folder
    needs: dict      # backend → modules the conversion imports
    runtime: str     # the module that runs the artefact (tests and --check)


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("saved_model", "tf_saved_model", "", {"tensorflow": ["tensorflow"], "jax": ["tensorflow"]},
           "tensorflow"),
    Format("onnx", "onnx", ".onnx", {"tensorflow": ["tf2onnx", "onnx"], "jax": ["jax2onnx", "onnx"],
                                     "torch": ["onnx"]}, "onnxruntime"),
    Format("litert", "litert", ".tflite", {"tensorflow": ["tensorflow"], "jax": ["tensorflow"],
                                           "torch": ["litert_torch"]}, "ai_edge_litert"),
)}


def get(name: str) -> Format:
    if name not in FORMATS:
        raise ZooError(f"--format must be one of: {', '.join(FORMATS)} (got {name!r})")
    return FORMATS[name]


def missing(modules: list[str]) -> list[str]:
    return [m for m in modules if importlib.util.find_spec(m) is None]


def require(fmt: Format, backend: str) -> None:
    """One line naming the extra when the conversion's packages are absent."""
    needs = fmt.needs.get(backend)
    if needs is None:
        raise ZooError(f"{fmt.name} export is not available on the {backend} backend "
                       f"(use KERAS_BACKEND={' or '.join(sorted(fmt.needs))})")
    absent = missing(needs)
    if absent:
        raise ZooError(f"{fmt.name} export needs {', '.join(absent)}, which is not installed: {EXTRA}")
