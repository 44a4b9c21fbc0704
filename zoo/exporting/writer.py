"""Write the artefact: checks first, then Keras's ``model.export`` into a temporary name, moved into place."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import shutil
import tempfile
import warnings
from pathlib import Path

from zoo.errors import ZooError
from zoo.exporting import formats
from zoo.outpath import atomic_output, check_output_path

_EVERY_LINE = re.compile(r".*")  # the converters' native log lines: the result is checked instead


def check_request(fmt_name: str, output, batch: int | None) -> formats.Format:
    """Everything that can be refused before a model is loaded or built."""
    import keras

    fmt = formats.get(fmt_name)
    if batch is not None and (isinstance(batch, bool) or not isinstance(batch, int) or batch < 1):
        raise ZooError(f"--batch must be a positive integer (got {batch!r})")
    formats.require(fmt, keras.config.backend())
    target = Path(output)
    if fmt.suffix and target.suffix != fmt.suffix:
        raise ZooError(f"--output must end in {fmt.suffix} for the {fmt.name} format (got {str(output)!r})")
    if not fmt.suffix and os.path.lexists(target):
        raise ZooError("--output already exists; a SavedModel is a new folder: remove it or give another name",
                       file=str(output))
    check_output_path(target, "--output")
    return fmt


def export_model(model, fmt_name: str, output, batch: int | None = None) -> dict:
    """Export ``model`` (a keras.Model, a .keras path or a zoo name) to ``output``; the artefact's facts."""
    fmt = check_request(fmt_name, output, batch)
    if isinstance(model, str):
        from zoo.exporting.source import load_source

        model = load_source(model)
    import keras

    if len(model.inputs) != 1:
        raise ZooError(f"{model.name} has {len(model.inputs)} inputs; export takes single-input models")
    from zoo.exporting.constants import with_constant_normalisation

    model = with_constant_normalisation(model)
    shape = (batch, *model.inputs[0].shape[1:])
    signature = [keras.InputSpec(shape=shape, dtype="float32")]
    with (atomic_output if fmt.suffix else _atomic_folder)(output, "--output") as tmp:
        _export(model, fmt, tmp, signature)
    return {"model": model.name, "format": fmt.name, "path": str(output), "bytes": _size(Path(output)),
            "input_shape": list(shape), "outputs": _output_names(model)}


@contextlib.contextmanager
def _atomic_folder(output, what: str):
    """A SavedModel is a folder: written under a hidden scratch folder beside it, then renamed."""
    target = Path(output)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    except OSError as e:
        raise ZooError(f"cannot write {what}: {e.strerror or e}", file=str(output)) from None
    try:
        yield scratch / target.name  # Keras creates this folder itself
        os.replace(scratch / target.name, target)
    except OSError as e:
        raise ZooError(f"cannot write {what}: {e.strerror or e}", file=str(output)) from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _export(model, fmt: formats.Format, path: Path, signature) -> None:
    from zoo.system import native_stderr_filtered

    logging.getLogger("tf2onnx").setLevel(logging.ERROR)
    try:
        with native_stderr_filtered(_EVERY_LINE), contextlib.redirect_stdout(io.StringIO()), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # tf2onnx's numpy 2 patch asks about np.object
            model.export(str(path), format=fmt.keras, verbose=False, input_signature=signature)
    except ZooError:
        raise
    except Exception as e:  # noqa: BLE001  converters raise anything; one line, the temp file removed
        text = f"{type(e).__name__}: {e}".splitlines()[0][:300]
        raise ZooError(f"{fmt.name} export of {model.name} failed ({text})") from None


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def _output_names(model) -> list[str]:
    output = model.output
    return list(output) if isinstance(output, dict) else [model.output_names[0] if model.output_names else "output"]
