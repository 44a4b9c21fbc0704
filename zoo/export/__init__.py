"""Export a zoo or Keras model as a SavedModel, ONNX or LiteRT artefact, through Keras's own ``model.export``.

    from zoo.export import export_model
    export_model("runs/x/model.keras", "onnx", "m.onnx")      # raw 0–255 pixels in, as the run model

A run's model.keras holds its scaling and standardisation layers, so the artefact takes raw pixels.
"""

from zoo.export.formats import FORMATS, require
from zoo.export.source import load_source
from zoo.export.writer import export_model

__all__ = ["FORMATS", "export_model", "load_source", "require"]
