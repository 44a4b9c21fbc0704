"""`zoo export` on the command line: one line and exit 2 on bad input, nothing left at the output path."""

from __future__ import annotations

import json
import sys
import zipfile

import pytest
from typer.testing import CliRunner

from zoo.cli.main import app
from zoo.exporting.formats import missing


def run(*args):
    return CliRunner().invoke(app, ["export", *args])


def assert_refused(result, line: str, tmp_path, before: set[str]) -> None:
    assert result.exit_code == 2, result.output
    assert result.stderr == f"error: {line}\n"
    assert result.stdout == ""
    assert {p.name for p in tmp_path.iterdir()} == before  # nothing written, no temporary left


@pytest.fixture
def files(tmp_path):
    (tmp_path / "text.keras").write_text("not a model")
    with zipfile.ZipFile(tmp_path / "other.keras", "w") as z:
        z.writestr("notes.txt", "a zip, but not Keras's")
    with zipfile.ZipFile(tmp_path / "broken.keras", "w") as z:
        z.writestr("config.json", "{not json")
        z.writestr("metadata.json", "{}")
    (tmp_path / "afile").write_text("")
    return {p.name for p in tmp_path.iterdir()}


@pytest.mark.parametrize("args,line", [
    (["vgg_mini", "-f", "tflite", "-o", "m.tflite"],
     "--format must be one of: saved_model, onnx, litert (got 'tflite')"),
    (["vgg_mini", "-f", "onnx", "-o", "m.bin"], "--output must end in .onnx for the onnx format (got 'm.bin')"),
    (["vgg_mini", "-f", "litert", "-o", "m.onnx"], "--output must end in .tflite for the litert format (got 'm.onnx')"),
    (["vgg_mini", "-f", "onnx", "-o", "m.onnx", "--batch", "0"], "--batch must be a positive integer (got 0)"),
    (["vgg_mini", "-f", "saved_model", "-o", "afile"],
     "afile: --output already exists; a SavedModel is a new folder: remove it or give another name"),
    (["text.keras", "-f", "onnx", "-o", "m.onnx"], "text.keras: not a .keras file (not a zip archive)"),
    (["other.keras", "-f", "onnx", "-o", "m.onnx"], "other.keras: not a .keras file (no config.json in the archive)"),
    (["gone.keras", "-f", "onnx", "-o", "m.onnx"], "gone.keras: no such file"),
    (["text.keras", "-f", "onnx", "-o", "m.onnx", "-c", "3"],
     "text.keras: --input-shape, --classes and --weights apply to a zoo name or spec, not a .keras file (it has its weights)"),
    (["nosuch", "-f", "onnx", "-o", "m.onnx"], "unknown model 'nosuch' (see `zoo list`)"),
])
def test_bad_input_is_one_line(args, line, files, tmp_path):
    assert_refused(run(*args), line, tmp_path, files)


def test_a_damaged_keras_archive_is_one_line(files, tmp_path):
    result = run("broken.keras", "-f", "onnx", "-o", "m.onnx")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: broken.keras: not a loadable Keras model (")
    assert result.stderr.count("\n") == 1
    assert {p.name for p in tmp_path.iterdir()} == files


def test_unwritable_output_is_refused_before_building(files, tmp_path):
    result = run("vgg_mini", "-f", "onnx", "-o", "afile/m.onnx")
    assert_refused(result, f"afile/m.onnx: cannot write --output: {tmp_path}/afile is a file, not a folder",
                   tmp_path, files)


def test_missing_extra_names_it(files, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tf2onnx", None)  # as if not installed: find_spec says None
    assert missing(["tf2onnx"]) == ["tf2onnx"]
    result = run("vgg_mini", "-f", "onnx", "-o", "m.onnx")
    assert_refused(result, "onnx export needs tf2onnx, which is not installed: pip install 'zoo[export]'",
                   tmp_path, files)


@pytest.mark.parametrize("fmt,out", [("onnx", "m.onnx"), ("saved_model", "sm")])
def test_a_failed_export_leaves_nothing(fmt, out, files, tmp_path, monkeypatch):
    import keras

    def half_written(self, filepath, **kwargs):
        with open(filepath if fmt == "onnx" else f"{filepath}.part", "wb") as f:
            f.write(b"partial")
        if fmt == "saved_model":
            import os

            os.makedirs(filepath)
        raise RuntimeError("converter crashed\nwith a long trace")

    monkeypatch.setattr(keras.Model, "export", half_written)
    result = run("vgg_mini", "-f", fmt, "-o", out)
    assert_refused(result, f"{fmt} export of vgg_mini failed (RuntimeError: converter crashed)", tmp_path, files)


def test_export_writes_the_artefact_and_says_so(tmp_path):
    if missing(["tf2onnx", "onnx", "onnxruntime"]):
        pytest.skip("onnx packages not installed (pip install 'zoo[export]')")
    result = run("vgg_mini", "-f", "onnx", "-o", "out/m.onnx", "--batch", "2", "--check", "--json")
    assert result.exit_code == 0, result.output
    facts = json.loads(result.stdout)
    assert facts["input_shape"] == [2, 28, 28, 1] and facts["format"] == "onnx"
    assert facts["bytes"] == (tmp_path / "out" / "m.onnx").stat().st_size
    assert facts["check"]["relative_difference"] <= 1e-5
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["m.onnx"]
    text = run("vgg_mini", "-f", "onnx", "-o", "m.onnx")
    assert text.exit_code == 0
    assert text.stdout.startswith("exported vgg_mini to m.onnx (onnx, 0.29 MB, input N×28×28×1 float32)")


def test_zoo_export_stays_the_function_after_the_package_is_imported(tmp_path):
    import zoo
    import zoo.exporting.writer  # noqa: F401  the package is `exporting`, so `zoo.export` is not rebound

    if missing(["tf2onnx", "onnx"]):
        pytest.skip("onnx packages not installed (pip install 'zoo[export]')")
    facts = zoo.export("vgg_mini", "onnx", tmp_path / "m.onnx", batch=1)
    assert facts["input_shape"] == [1, 28, 28, 1] and (tmp_path / "m.onnx").stat().st_size == facts["bytes"]
