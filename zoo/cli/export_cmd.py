"""`zoo export`: a zoo model or a .keras file as a SavedModel, ONNX or LiteRT artefact."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Optional

import typer

from zoo.cli.errors import reports_errors
from zoo.errors import ZooError


_RUNTIME_NOTES = re.compile(r"INFO: Created TensorFlow Lite XNNPACK delegate for CPU\.|.*cuInit.*")


def register(app: typer.Typer) -> None:
    app.command("export")(export)


@reports_errors
def export(model: str = typer.Argument(..., help="A zoo model name or spec, or a .keras file (e.g. a run's "
                                                 "model.keras, which takes raw 0–255 pixels)."),
           fmt: str = typer.Option(..., "--format", "-f", help="saved_model, onnx or litert."),
           output: Path = typer.Option(..., "--output", "-o", help="The artefact: a folder for saved_model, "
                                                                   "a .onnx or .tflite file."),
           batch: Optional[int] = typer.Option(None, "--batch", help="Fix the batch dimension to N "
                                                                     "(default: free)."),
           input_shape: Optional[str] = typer.Option(None, "--input-shape", "-i",
                                                     help="H,W,C for a zoo name (default: the spec's)."),
           classes: Optional[int] = typer.Option(None, "--classes", "-c", help="Classes, for a zoo name."),
           weights: Optional[Path] = typer.Option(None, "--weights", "-w",
                                                  help="A weights file to load into a zoo name or spec first."),
           check: bool = typer.Option(False, "--check", help="Run the artefact in its runtime on random "
                                                             "pixels: difference from Keras, latency."),
           as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Export through Keras's model.export; the artefact is written whole or not at all."""
    from zoo.cli.main import emit_json, parse_shape
    from zoo.exporting.source import load_source
    from zoo.exporting.writer import check_request, export_model

    shape = parse_shape(input_shape)
    check_request(fmt, output, batch)  # before loading or building, which takes seconds
    from zoo.cli.notes import say_loaded

    keras_model = load_source(model, shape, classes, weights, on_loaded=say_loaded)
    result = export_model(keras_model, fmt, output, batch)
    if check:
        result["check"] = _check(keras_model, result, batch)
    if as_json:
        emit_json(result)
        return
    from zoo.cli.render import out, safe
    from zoo.plan.ops import shape_text

    dims = "×".join("N" if v is None else str(v) for v in result["input_shape"])
    out.print(f"exported {safe(result['model'])} to {safe(output)} ({result['format']}, "
              f"{result['bytes'] / 1e6:.2f} MB, input {dims} float32)")
    if check:
        c = result["check"]
        out.print(f"check: {c['runtime']} output differs from Keras's by {c['relative_difference']:.1e} "
                  f"(max |Δ| / max |output|) on {shape_text(c['input_shape'])} random pixels; "
                  f"{c['latency_ms']:.2f} ms a call (median of 20)")


def _check(model, result: dict, batch: int | None) -> dict:
    import numpy as np

    from zoo.exporting.runtimes import Runner, median_latency, relative_difference

    from zoo.system import native_stderr_filtered

    shape = (batch or 1, *result["input_shape"][1:])
    # a run's model scales raw 0–255 pixels itself; a bare network expects inputs near [0, 1]
    top = 255.0 if any(layer.__class__.__name__ == "Rescaling" for layer in model.layers[:3]) else 1.0
    x = np.random.default_rng(0).uniform(0, top, shape).astype(np.float32)
    with warnings.catch_warnings():  # a loaded model's inputs are a one-item list; an array is fine
        warnings.simplefilter("ignore", UserWarning)
        want = model(x, training=False)
    want = list(want.values()) if isinstance(want, dict) else [want]
    runner = Runner(result["path"], result["format"])  # a missing runtime: one line naming the extra
    try:
        with native_stderr_filtered(_RUNTIME_NOTES):
            diff = max(relative_difference(g, np.asarray(w)) for g, w in zip(runner(x), want))
            latency = median_latency(runner, x)
    except Exception as e:  # noqa: BLE001  the runtime refused the artefact: say so in one line
        text = f"{type(e).__name__}: {e}".splitlines()[0][:300]
        raise ZooError(f"--check: {runner.fmt.runtime} cannot run the written artefact ({text})",
                       file=result["path"]) from None
    return {"runtime": runner.fmt.runtime, "input_shape": list(shape), "relative_difference": diff,
            "latency_ms": 1000 * latency}
