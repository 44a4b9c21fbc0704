"""MODEL for `zoo export`: a .keras file (a run's model.keras, a `zoo build -o` file) or a zoo name/spec."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

from zoo.errors import ZooError
from zoo.safefile import kind_of


def load_source(model: str, input_shape=None, classes: int | None = None, weights=None, on_loaded=None):
    """The Keras model MODEL names; a bad file is one `ZooError` line naming it. ``weights`` loads a
    file into a zoo name or spec; ``on_loaded`` is told what was loaded (and the notes)."""
    if model.endswith(".keras"):
        if input_shape is not None or classes is not None or weights is not None:
            raise ZooError("--input-shape, --classes and --weights apply to a zoo name or spec, not a .keras "
                           "file (it has its weights)", file=model)
        return load_keras_file(model)
    import zoo

    if weights is None:
        return zoo.build(model, input_shape, classes)
    from zoo.weights.model import build_loaded
    from zoo.weights.source import check_path

    check_path(weights)
    built, loaded = build_loaded(zoo.plan(model, input_shape, classes), weights)
    if on_loaded is not None:
        on_loaded(loaded)
    return built


def load_keras_file(path: str):
    _check_archive(path)
    import keras

    import zoo.keras.legacy  # noqa: F401  files of zoo 0.1 name its registered layers
    import zoo.training.schedule  # noqa: F401  a run's optimizer schedule, should Keras look it up

    try:  # safe_mode (the default) refuses lambdas: the file is data, not code
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as e:  # noqa: BLE001  Keras raises many types for a damaged archive
        text = f"{type(e).__name__}: {e}".splitlines()[0][:300]
        raise ZooError(f"not a loadable Keras model ({text})", file=path) from None
    if not isinstance(model, keras.Model):
        raise ZooError(f"holds a {type(model).__name__}, not a Keras model", file=path)
    return model


def _check_archive(path: str) -> None:
    """A regular file that is a zip archive holding Keras's config.json, before Keras reads it."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise ZooError("no such file", file=path) from None
    except OSError as e:
        raise ZooError(f"cannot read: {e.strerror or e}", file=path) from None
    if not stat.S_ISREG(mode):
        raise ZooError(f"is {kind_of(mode)}, not a .keras file", file=path)
    try:
        with zipfile.ZipFile(Path(path)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        raise ZooError("not a .keras file (not a zip archive)", file=path) from None
    if "config.json" not in names:
        raise ZooError("not a .keras file (no config.json in the archive)", file=path)
