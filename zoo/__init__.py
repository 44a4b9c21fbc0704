"""zoo: a spec-first model zoo for Keras 3."""

from zoo.api import (WeightsNote, build, count, export, features, list_models, load_model, load_spec, plan,
                     reset_classifier, train)
from zoo.errors import ShapeError, SpecError, UnknownModelError, WeightsError, ZooError

__version__ = "0.1.0"
__all__ = ["build", "count", "export", "features", "list_models", "load_model", "load_spec", "plan",
           "reset_classifier", "train", "ZooError", "SpecError", "ShapeError", "UnknownModelError", "WeightsError",
           "WeightsNote", "__version__"]
