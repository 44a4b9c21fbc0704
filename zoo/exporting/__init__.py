"""Export a zoo or Keras model as a SavedModel, ONNX or LiteRT artefact, through Keras's own ``model.export``.

    zoo.export("runs/x/model.keras", "onnx", "m.onnx")      # raw 0–255 pixels in, as the run model

(The package is ``exporting``, not ``export``, so that importing it never shadows ``zoo.export``.)

A run's model.keras holds its scaling and standardisation layers, so the artefact takes raw pixels.
"""

from zoo.exporting.formats import FORMATS, require
from zoo.exporting.source import load_source
from zoo.exporting.writer import export_model

__all__ = ["FORMATS", "export_model", "load_source", "require"]
