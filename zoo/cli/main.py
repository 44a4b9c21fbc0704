"""The `zoo` command. Thin: each command calls the library and formats its answer."""

from __future__ import annotations

import errno
import json
import sys
from pathlib import Path
from typing import Optional

import typer

from zoo.cli.errors import reports_errors
from zoo.cli.notes import say_loaded
from zoo.errors import ShapeError, ZooError, visible
from zoo.outpath import atomic_output, check_output_path

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="A spec-first model zoo for Keras 3.")

InputShape = typer.Option(None, "--input-shape", "-i", help="H,W,C, e.g. 28,28,1 (default: the spec's).")
Classes = typer.Option(None, "--classes", "-c", help="Output classes (default: the spec's).")
AsJson = typer.Option(False, "--json", help="Print JSON instead of tables.")
Weights = typer.Option(None, "--weights", "-w", help="Load this file: .weights.h5, .keras, keras.applications' "
                       ".h5, or a PyTorch .safetensors/.pth for the `_tv` specs.")
Strict = typer.Option(False, "--strict", help="Refuse, rather than adapt, layers that do not fit the input.")


def parse_shape(text: str | None) -> tuple[int, int, int] | None:
    if text is None:
        return None
    parts = text.replace("x", ",").replace("×", ",").split(",")
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        raise ShapeError(f"--input-shape must be three integers H,W,C such as 28,28,1 (got {text!r})") from None
    if len(values) != 3 or min(values) < 1:
        raise ShapeError(f"--input-shape must be three positive integers H,W,C such as 28,28,1 (got {text!r})")
    return values  # type: ignore[return-value]


def emit_json(data) -> None:
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


@app.command("list")
@reports_errors
def list_cmd(pattern: Optional[str] = typer.Argument(None, help="Shell wildcard, e.g. 'resnet*'."),
             as_json: bool = AsJson) -> None:
    """Every model with its family, depth, parameters and GMACs at its default input."""
    from zoo.api import list_models, plan

    plans = [plan(name) for name in list_models(pattern)]
    if as_json:
        emit_json([p.summary() | {"meta": p.meta} for p in plans])
        return
    from zoo.cli.render import models_table, out

    out.print(models_table(plans))


@app.command()
@reports_errors
def show(name: str = typer.Argument(..., help="A zoo model name or a spec file."),
         input_shape: Optional[str] = InputShape, classes: Optional[int] = Classes,
         strict: bool = Strict, as_json: bool = AsJson,
         features: bool = typer.Option(False, "--features", help="The feature maps `outputs='features'` "
                                                                  "returns: layer, shape, channels, stride."),
         after_pool: bool = typer.Option(False, "--after-pool", help="With --features: VGG blocks after "
                                                                     "their pool.")) -> None:
    """The per-layer plan: output shapes, parameters, MACs and the layers adapted to this input."""
    from zoo.api import plan

    p = plan(name, parse_shape(input_shape), classes, "strict" if strict else "adapt")
    if features:
        from zoo.plan.features import features as feature_maps

        found = [f.as_dict() for f in feature_maps(p, "after" if after_pool else "before")]
        if as_json:
            emit_json({"name": p.name, "input_shape": list(p.input_shape), "features": found})
            return
        from zoo.cli.features_view import features_table
        from zoo.cli.render import out

        out.print(features_table(p.name, p.input_shape, found))
        return
    if as_json:
        emit_json(p.as_dict())
        return
    from zoo.cli.render import out, plan_header, plan_table

    out.print(plan_header(p))
    out.print(plan_table(p))


@app.command()
@reports_errors
def build(name: str = typer.Argument(..., help="A zoo model name or a spec file."),
          input_shape: Optional[str] = InputShape, classes: Optional[int] = Classes,
          output: Optional[Path] = typer.Option(None, "--output", "-o", help="Save the model here (.keras)."),
          weights: Optional[Path] = Weights, strict: bool = Strict, as_json: bool = AsJson) -> None:
    """Build the Keras model, print its summary and counts, and save it when asked."""
    from zoo.api import plan

    p = plan(name, parse_shape(input_shape), classes, "strict" if strict else "adapt")
    if output is not None:
        if output.suffix != ".keras":
            raise ShapeError(f"--output must end in .keras (got {str(output)!r})")
        check_output_path(output, "--output")  # before the build, which takes seconds to minutes
    loaded = None
    if weights is not None:
        from zoo.weights.model import build_loaded
        from zoo.weights.source import check_path

        check_path(weights)
        model, loaded = build_loaded(p, weights)
        say_loaded(loaded)
    else:
        from zoo.keras.build import build_model

        model = build_model(p)
    trainable = _weight_count(model.trainable_weights)
    result = {**p.summary(), "params": int(model.count_params()), "trainable_params": trainable,
              "non_trainable_params": _weight_count(model.non_trainable_weights),
              "keras_layers": len(model.layers), "saved_to": None,
              "weights": loaded.as_dict() if loaded else None}
    if output is not None:
        with atomic_output(output, "--output") as tmp:  # a failed save leaves no half-written file
            model.save(tmp)
        result["saved_to"] = str(output)
    if as_json:
        emit_json(result)
        return
    from zoo.cli.render import out, plan_header, safe, summary_width

    with summary_width():
        model.summary(line_length=110)
    out.print(plan_header(p))
    if output is not None:
        out.print(f"saved to {safe(output)}")


def _weight_count(weights) -> int:
    total = 0
    for w in weights:
        size = 1
        for v in w.shape:
            size *= int(v)
        total += size
    return total


@app.command()
def validate(files: list[Path] = typer.Argument(..., help="Spec files to check.")) -> None:
    """Check spec files: every model validates and plans at its default input."""
    failed = False
    for file in files:
        names, errors = _check_file(file)
        for error in errors:
            for line in error.all_lines():
                print(f"error: {line}", file=sys.stderr)
        if errors:
            failed = True
        else:
            print(visible(f"ok: {file}: {len(names)} model(s): {', '.join(names)}"))
    if failed:
        raise typer.Exit(2)


_CHAIN_PROBLEMS = ("extends chain is longer than", "extends cycle:")


def _check_file(file: Path) -> tuple[list[str], list[ZooError]]:
    """The file's model names, and every problem found reading, validating and planning them."""
    from zoo.plan.planner import plan_model
    from zoo.spec.registry import Registry, default_registry
    from zoo.spec.yamlfile import display_name

    local = Registry(parent=default_registry())
    try:
        names = local.add_file(file)
    except ZooError as e:
        return [], [e]
    errors: list[ZooError] = []
    # One broken `extends` chain is one problem: models on it, or extending through it, are not
    # each reported again (a 1000-model chain would otherwise print a line per model).
    failed: set[str] = set()
    covered: set[str] = set()
    shown: set[str] = set()
    repeats = 0
    for model in names:
        try:
            spec = local.spec(model)
            if not spec.abstract:
                plan_model(model, spec)
        except ZooError as e:
            if e.file is None:  # planner errors name the model, not the file: say which file
                e = type(e)(e.message, file=display_name(file), path=e.path, more=e.more)
            if e.message.startswith(_CHAIN_PROBLEMS):
                chain = local.ancestry(model)
                if model in covered or failed.intersection(chain):
                    repeats += 1
                    continue
                failed.add(model)
                covered.update(chain)
            elif e.line_text() in shown:  # the same unknown parent, reached from each child
                repeats += 1
                continue
            shown.add(e.line_text())
            errors.append(e)
    if repeats:
        errors.append(ZooError(f"{repeats} more model(s) extend through the broken chain(s) above",
                               file=display_name(file)))
    return names, errors


@app.command()
def schema(model: bool = typer.Option(False, "--model", help="Schema of one model's fields, not of a file.")) -> None:
    """Print the JSON Schema of spec files, for editors to validate them."""
    from zoo.spec.json_schema import file_schema, model_schema

    emit_json(model_schema() if model else file_schema())


# Commands that live in their own modules; each module's register(app) adds them.
# Heavy imports (Keras, TensorFlow, matplotlib) stay inside the command functions.
from zoo.cli import bench_cmd, diff_cmd, docs_cmd, export_cmd, predict_cmd, train_cmd  # noqa: E402

for _module in (train_cmd, bench_cmd, docs_cmd, export_cmd, predict_cmd, diff_cmd):
    _module.register(app)


def run() -> None:
    # TensorFlow's C++ start-up chatter (oneDNN, CUDA probing) is noise for CLI users.
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if _needs_keras(sys.argv[1:]):
        from zoo.system import start_keras_quietly

        start_keras_quietly()  # absl's start-up lines ignore TF_CPP_MIN_LOG_LEVEL: filtered, errors kept
    try:
        app()
    except BrokenPipeError:  # `zoo list | head`: the reader has what it wanted
        _silence_stdout()
        sys.exit(141)  # 128 + SIGPIPE, as a shell reports it
    except OSError as e:
        if e.errno not in _WRITE_ERRORS:
            raise
        _silence_stdout()  # `zoo schema > /dev/full`: one line, not a traceback
        print(f"error: cannot write the output: {e.strerror}", file=sys.stderr)
        sys.exit(2)


def _needs_keras(argv: list[str]) -> bool:
    """Commands that build or train import Keras anyway; help and multi-process supervisors do not."""
    command = next((a for a in argv if not a.startswith("-")), None)
    if command not in ("train", "build", "bench", "export") or {"--help", "-h"} & set(argv):
        return False
    import os

    return "--coordinator" not in argv or os.environ.get("ZOO_DISTRIBUTED_CHILD") == "1"


_WRITE_ERRORS = {getattr(errno, name) for name in ("ENOSPC", "EDQUOT", "EIO", "EFBIG") if hasattr(errno, name)}


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so Python's own flush at exit does not fail a second time."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
