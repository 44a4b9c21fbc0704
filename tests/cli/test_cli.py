"""The `zoo` command end to end: list, show, build, schema."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
from typer.testing import CliRunner

import zoo
from zoo.cli.main import app

runner = CliRunner()


def run_json(*args: str):
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_list_json_names_every_model_without_importing_tensorflow():
    code = ("import sys; from zoo.cli.main import app; sys.argv = ['zoo', 'list', '--json'];\n"
            "try:\n    app()\nexcept SystemExit:\n    pass\n"
            "print('HEAVY', sorted(m for m in ('keras', 'tensorflow') if m in sys.modules), file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    names = [row["name"] for row in json.loads(out.stdout)]
    assert names == zoo.list_models()
    assert {"vgg11", "vgg11_lrn", "vgg13", "vgg16c", "vgg16", "vgg19",
            "resnet18", "resnet34", "resnet50", "resnet101", "resnet152"} <= set(names)
    assert "HEAVY []" in out.stderr


def test_list_pattern_and_fields():
    rows = run_json("list", "resnet1*")
    assert [r["name"] for r in rows] == [n for n in zoo.list_models("resnet1*")]
    row = next(r for r in rows if r["name"] == "resnet18")
    assert row["params"] == 11_699_112 and row["trainable_params"] == 11_689_512
    assert row["depth"] == 18 and row["family"] == "resnet"
    assert set(row) >= {"name", "params", "trainable_params", "macs", "input_shape", "output_shape"}


def test_show_reports_layers_and_adaptations():
    data = run_json("show", "vgg16", "--input-shape", "28,28,1", "--classes", "10")
    assert data["params"] == 33_637_066 and data["input_shape"] == [28, 28, 1] and data["output_shape"] == [10]
    layers = {layer["name"]: layer for layer in data["layers"]}
    assert layers["block5_pool"]["adapted"] == "skipped: the 2×2 pool does not fit the 1×1 input"
    assert layers["block1_conv1"]["params"] == 640 and layers["block1_conv1"]["output_shape"] == [28, 28, 64]
    assert sum(layer["macs"] for layer in data["layers"]) == data["macs"]


def test_show_table_marks_adapted_layers():
    result = runner.invoke(app, ["show", "vgg16", "-i", "28,28,1", "-c", "10"])
    assert result.exit_code == 0
    assert "1 layer(s) adapted to this input" in result.stdout
    assert "skipped: the 2×2 pool does not fit the 1×1 input" in result.stdout


def test_build_reports_keras_counts_and_saves_a_loadable_model(tmp_path):
    import keras

    out = tmp_path / "vgg16_mnist.keras"
    data = run_json("build", "vgg16", "--input-shape", "28,28,1", "--classes", "10", "--output", str(out))
    assert data["params"] == 33_637_066 and data["trainable_params"] == 33_637_066
    assert data["saved_to"] == str(out)
    model = keras.saving.load_model(out)
    assert model.count_params() == 33_637_066
    assert model.get_layer("block5_pool").__class__.__name__ == "Identity"


def test_saved_file_gives_identical_outputs(tmp_path, monkeypatch):
    import keras

    import zoo.keras.build as builder

    built = {}
    real = builder.build_model

    def keep(plan):
        built["model"] = real(plan)
        return built["model"]

    monkeypatch.setattr(builder, "build_model", keep)
    out = tmp_path / "r.keras"
    result = runner.invoke(app, ["build", "resnet18", "-i", "32,32,3", "-c", "5", "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    loaded = keras.saving.load_model(out)
    x = np.random.default_rng(0).random((2, 32, 32, 3), dtype=np.float32)
    np.testing.assert_array_equal(np.asarray(built["model"](x)), np.asarray(loaded(x)))


def test_user_spec_file_works_where_a_name_does(write_spec):
    path = write_spec("""
        mnist_resnet:
          extends: resnet18
          classes: 10
          input_shape: [28, 28, 1]
    """)
    data = run_json("show", str(path))
    assert data["name"] == "mnist_resnet" and data["output_shape"] == [10] and data["input_shape"] == [28, 28, 1]


def test_schema_is_json_schema_for_spec_files():
    result = runner.invoke(app, ["schema"])
    schema = json.loads(result.stdout)
    assert schema["additionalProperties"] == {"if": {"type": "object", "required": ["extends"]},
                                              "then": {"$ref": "#/$defs/ModelSpecOverride"},
                                              "else": {"$ref": "#/$defs/ModelSpec"}}
    for name in ("ModelSpec", "ModelSpecOverride"):
        model = schema["$defs"][name]
        assert {"extends", "stem", "features", "stages", "head", "conv"} <= set(model["properties"])
        assert model["additionalProperties"] is False
    assert schema["$defs"]["PaperPartial"].get("required") is None and schema["$defs"]["Paper"]["required"]


def test_console_script_is_installed():
    out = subprocess.run(["zoo", "list", "vgg1?", "--json"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert [r["name"] for r in json.loads(out.stdout)] == ["vgg11", "vgg13", "vgg16", "vgg19"]
