"""The Python API. Nothing here imports Keras until `build` is called."""

from __future__ import annotations

from typing import TYPE_CHECKING

from zoo.plan.graph import Plan
from zoo.plan.planner import plan_model
from zoo.spec.registry import default_registry, resolve
from zoo.spec.schema import ModelSpec

if TYPE_CHECKING:
    import keras


def list_models(pattern: str | None = None) -> list[str]:
    """Names of the zoo's models, filtered by a shell wildcard such as ``resnet*``."""
    return default_registry().names(pattern)


def load_spec(name_or_path: str) -> ModelSpec:
    """The validated, frozen spec for a zoo name, a spec file, or ``file.yaml:name``."""
    name, registry = resolve(name_or_path)
    return registry.spec(name)


def plan(name_or_path: str, input_shape=None, classes: int | None = None, policy: str = "adapt") -> Plan:
    """Layer-by-layer shapes, parameters and MACs, computed without Keras."""
    name, registry = resolve(name_or_path)
    return plan_model(name, registry.spec(name), input_shape, classes, policy)


def count(name_or_path: str, input_shape=None, classes: int | None = None, policy: str = "adapt") -> dict:
    """Analytic totals: ``params``, ``trainable_params``, ``non_trainable_params``, ``macs``, shapes."""
    return plan(name_or_path, input_shape, classes, policy).summary()


def load_model(path: str, compile: bool = True) -> keras.Model:
    """Load a .keras file written by zoo (custom layers and schedules registered first)."""
    import keras

    import zoo.keras.legacy  # noqa: F401  the layers zoo 0.1 files name
    import zoo.training.schedule  # noqa: F401

    return keras.saving.load_model(path, compile=compile)


def build(name_or_path: str, input_shape=None, classes: int | None = None, policy: str = "adapt", *,
          outputs: str = "predictions", out_indices=None, feature_pool: str = "before",
          weights=None) -> keras.Model:
    """A Keras 3 functional model for any input shape (H, W, C).

    ``outputs="features"``: a dict of each stage's last feature map (``C2`` … ``C5``, VGG's
    ``block1`` …; ``out_indices`` picks some, ``feature_pool="after"`` takes VGG blocks after
    their pool); ``outputs="pooled"``: ends at the global pool or flatten, no classifier.

    ``weights``: a file to load, all or nothing: Keras ``.weights.h5``/``.keras``, keras.applications'
    ``.h5``, or a PyTorch state dict (``.safetensors``, ``.pth``) for the torchvision-layout ``_tv``
    specs. A classifier of another class count keeps its initialisation and 1-channel input sums the
    first kernel over the file's channels; each is said in a `WeightsNote` warning."""
    p = plan(name_or_path, input_shape, classes, policy)
    if weights is None:
        from zoo.keras.features import build_outputs

        return build_outputs(p, outputs, out_indices, feature_pool)
    import warnings

    from zoo.weights.model import build_loaded

    model, loaded = build_loaded(p, weights, outputs, out_indices, feature_pool)
    for note in loaded.notes:
        warnings.warn(note, WeightsNote, stacklevel=2)
    return model


class WeightsNote(UserWarning):
    """What ``build(weights=…)`` did not load as it stands in the file (another class count, grey input)."""


def features(name_or_path: str, input_shape=None, pool: str = "before", policy: str = "adapt") -> list[dict]:
    """The feature maps ``build(..., outputs="features")`` returns: name, layer, shape, channels, stride."""
    from zoo.plan.features import features as feature_maps

    return [f.as_dict() for f in feature_maps(plan(name_or_path, input_shape, None, policy), pool)]


def export(model, format: str, output, batch: int | None = None) -> dict:
    """Write ``model`` (a keras.Model, a .keras file such as a run's model.keras, or a zoo name) as a
    ``saved_model`` folder, an ``onnx`` or a ``litert`` file, as `zoo export` does; returns its facts
    (``path``, ``bytes``, ``input_shape``). ``batch`` fixes the batch dimension; by default it is free."""
    from zoo.exporting.writer import export_model

    return export_model(model, format, output, batch)


def reset_classifier(model: keras.Model, classes: int) -> keras.Model:
    """``model`` with a new final classifier of ``classes`` units; every other layer and weight kept."""
    from zoo.keras.features import reset_classifier as swap

    return swap(model, classes)


def train(name_or_path: str | None = None, dataset: str | None = None, recipe=None, **options):
    """Train a spec on a dataset (default mnist), as `zoo train` does; returns the run (``run_dir``,
    ``metrics``, ``history``, ``test_accuracy``). Options are the CLI's: ``epochs``, ``batch_size``,
    ``limit``, ``test_limit``, ``data_dir``, ``out``, ``resume``, ``seed``, ``precision``, ``strategy``, …
    ``zoo.train(out=RUN, resume=True)`` continues a run with the settings it was started with."""
    from zoo.training.trainer import train as run_training

    return run_training(name_or_path, dataset, recipe, **options)
