"""Bad input through the `zoo` command: `error: <one line>` on stderr, exit status 2, no traceback."""

from __future__ import annotations

import difflib
import inspect
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import click.testing
import pytest
from typer.testing import CliRunner

import zoo
from zoo.cli.main import app
from zoo.spec.schema import LAYER_TYPES

# click < 8.2 mixes stderr into stdout unless told not to; 8.2 dropped the option and always separates them.
_separate = "mix_stderr" in inspect.signature(click.testing.CliRunner.__init__).parameters
runner = CliRunner(mix_stderr=False) if _separate else CliRunner()
TYPES = ", ".join(LAYER_TYPES)
CLI = "import sys; from zoo.cli.main import run; sys.argv[0] = 'zoo'; run()"


def write(name: str, text: str) -> Path:
    """A spec file in the test's working folder (the autouse fixture chdirs there)."""
    path = Path(name)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def fails(args: list[str], *lines: str):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # not an exception the command let escape
    assert result.stderr == "".join(f"error: {line}\n" for line in lines)
    assert result.stdout == ""
    assert "Traceback" not in result.output
    return result


def close_names(name: str) -> str:
    close = difflib.get_close_matches(name, zoo.list_models(), n=3, cutoff=0.5)
    return ", ".join(close)


# -- each kind of bad spec file, through `zoo show` ------------------------------------------------

BAD_FILES = {
    "unclosed_bracket": ("m:\n  features: [64, M\n  head: [{type: flatten}]\n",
                         "spec.yaml:3: invalid YAML: while parsing a flow sequence at line 2, did not find expected ',' or ']'"),
    "bad_indentation": ("m:\n  features: [64]\n   head: [{type: flatten}]\n",
                        "spec.yaml:3: invalid YAML: while parsing a block mapping at line 2, did not find expected key"),
    "unknown_type": ("m:\n  features:\n    - {type: maxpol}\n",
                     f"spec.yaml:3: m.features[0].type: unknown type 'maxpol' (did you mean 'maxpool'?) (expected one of: {TYPES})"),
    "missing_type": ("m:\n  head:\n    - units: 10\n",
                     f"spec.yaml:3: m.head[0]: layer has no `type:` (expected one of: {TYPES})"),
    "misspelt_top_level": ("m:\n  head: [{type: flatten}]\n  clases: 10\n",
                           "spec.yaml:3: m.clases: unknown field (did you mean 'classes'?)"),
    "misspelt_in_layer": ("m:\n  features:\n    - type: conv\n      filtres: 64\n",
                          "spec.yaml:4: m.features[0].filtres: unknown field (did you mean 'filters'?)"),
    "misspelt_in_conv": ("m:\n  conv: {activaton: relu}\n  features: [64]\n",
                         "spec.yaml:2: m.conv.activaton: unknown field (did you mean 'activation'?)"),
    "string_for_int": ("m:\n  features: [{type: conv, filters: '64'}]\n",
                       "spec.yaml:2: m.features[0].filters: must be an integer (got '64')"),
    "bool_for_int": ("m:\n  head: [{type: dense, units: yes}]\n",
                     "spec.yaml:2: m.head[0].units: must be an integer (got True)"),
    "float_filters": ("m:\n  features: [{type: conv, filters: 64.0}]\n",
                      "spec.yaml:2: m.features[0].filters: must be an integer (got 64.0)"),
    "zero_kernel": ("m:\n  features: [{type: conv, filters: 8, kernel: 0}]\n",
                    "spec.yaml:2: m.features[0].kernel: must be >= 1 (got 0)"),
    "zero_repeats": ("m:\n  features: [{type: repeat, times: 0, layers: [8]}]\n",
                     "spec.yaml:2: m.features[0].times: must be >= 1 (got 0)"),
    "zero_stage": ("resnet50_broken:\n  extends: resnet50\n  stages: [3, 4, 0, 3]\n",
                   "spec.yaml:3: resnet50_broken.stages[2]: must be >= 1 (got 0)"),
    "absurd_filters": ("m:\n  features: [{type: conv, filters: 1000000000}]\n",
                       "spec.yaml:2: m.features[0].filters: must be <= 65536 (got 1000000000)"),
    "duplicate_key": ("m:\n  head: [{type: flatten}]\n  head: [{type: flatten}]\n",
                      "spec.yaml:3: duplicate key 'head' (first at line 2)"),
    "empty": ("", "spec.yaml: empty spec file: expected a mapping of model names to specs"),
    "a_list": ("- resnet18\n", "spec.yaml:1: expected a mapping of model names to specs (got a list)"),
    "self_extends": ("m:\n  extends: m\n", "spec.yaml:2: m.extends: extends cycle: m -> m"),
    "python_tag": ("m: !!python/object/apply:os.system [\"true\"]\n",
                   "spec.yaml:1: invalid YAML: could not determine a constructor for the tag "
                   "'tag:yaml.org,2002:python/object/apply:os.system'"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_show_bad_file(case):
    text, line = BAD_FILES[case]
    write("spec.yaml", text)
    fails(["show", "spec.yaml"], line)


def test_same_lines_through_the_python_api():
    for case, (text, line) in BAD_FILES.items():
        write("spec.yaml", text)
        with pytest.raises(zoo.ZooError) as info:
            zoo.plan("spec.yaml")
        assert str(info.value) == line, case


def test_missing_file():
    fails(["show", "nowhere.yaml"], "nowhere.yaml: no such file")


def test_file_name_too_long():
    long = "a" * 5000 + ".yaml"
    fails(["show", long], f"{long}: cannot read: File name too long")
    fails(["show", f"{long}:m"], f"{long}: cannot read: File name too long")


def test_non_utf8_file():
    Path("latin1.yaml").write_bytes(b"# caf\xe9\nm:\n  head: [{type: flatten}]\n")
    fails(["show", "latin1.yaml"], "latin1.yaml:1: not UTF-8 text (invalid continuation byte at byte 5)")


def test_extends_cycle_in_a_multi_model_file():
    write("spec.yaml", "a:\n  extends: b\n  head: [{type: flatten}]\nb:\n  extends: a\n")
    fails(["show", "spec.yaml:a"], "spec.yaml:5: b.extends: extends cycle: a -> b -> a")


def test_missing_parent_suggests():
    write("spec.yaml", "mine:\n  extends: resnet5O\n")
    fails(["show", "spec.yaml"],
          f"spec.yaml:2: mine.extends: extends unknown model 'resnet5O' (did you mean: {close_names('resnet5O')}?)")


def test_billion_laughs():
    rows = ['  - &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    rows += [f"  - &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 10)]
    write("spec.yaml", "m:\n  description:\n" + "\n".join(rows) + "\n")
    fails(["show", "spec.yaml"], "spec.yaml: too many values (over 100,000 once YAML aliases are expanded)")


def test_errors_from_the_planner():
    write("spec.yaml", "m:\n  features: [{type: conv, filters: 64, name: c}, {type: conv, filters: 64, name: c}]\n")
    fails(["show", "spec.yaml"], "m.features[1]: layer name 'c' is already used by features[0]")
    fails(["show", "vgg16", "-i", "28,28,1", "--strict"],
          "vgg16.features[17]: the 2×2 pool does not fit the 1×1 input; the strict policy does not adapt layers "
          "(block5_pool)")


# -- names and options --------------------------------------------------------------------------

def test_unknown_model_suggests_close_names():
    assert "resnet50" in close_names("resnet5")
    fails(["show", "resnet5"], f"unknown model 'resnet5' (did you mean: {close_names('resnet5')}?)")


@pytest.mark.parametrize("shape,message", [
    ("28,28", "--input-shape must be three positive integers H,W,C such as 28,28,1 (got '28,28')"),
    ("a,b,c", "--input-shape must be three integers H,W,C such as 28,28,1 (got 'a,b,c')"),
    ("0,28,1", "--input-shape must be three positive integers H,W,C such as 28,28,1 (got '0,28,1')"),
    ("28,28,1,1", "--input-shape must be three positive integers H,W,C such as 28,28,1 (got '28,28,1,1')"),
    ("99999,99999,3", "input shape 99999,99999,3 is too large (at most 32768 pixels a side and 65536 channels)"),
])
@pytest.mark.parametrize("command", ["show", "build"])
def test_bad_input_shape(command, shape, message):
    fails([command, "resnet18", "--input-shape", shape], message)


@pytest.mark.parametrize("shape,message", [
    ((28, 28), "input shape must be three integers H,W,C (got 28,28)"),
    (("a", "b", "c"), "input shape must be three integers H,W,C (got a,b,c)"),
    ((0, 28, 1), "input shape must be positive (got 0,28,1)"),
    ((28.0, 28, 1), "input shape must be three integers H,W,C (got 28.0,28,1)"),
])
def test_bad_input_shape_through_the_python_api(shape, message):
    with pytest.raises(zoo.ShapeError) as info:
        zoo.plan("resnet18", shape)
    assert str(info.value) == message


def test_input_shape_that_is_not_a_sequence():
    with pytest.raises(zoo.ShapeError) as info:
        zoo.plan("resnet18", 28)
    assert str(info.value) == "input shape must be three integers H,W,C (got 28)"


def test_bad_classes():
    fails(["show", "resnet18", "--classes", "0"], "classes must be an integer from 1 to 1048576 (got 0)")


# -- zoo validate ---------------------------------------------------------------------------------

def test_validate_good_file():
    write("good.yaml", "a:\n  extends: resnet18\n  classes: 10\nb:\n  features: [8, M]\n  head: [{type: flatten}]\n")
    result = runner.invoke(app, ["validate", "good.yaml"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "ok: good.yaml: 2 model(s): a, b\n"
    assert result.stderr == ""


def test_validate_prints_every_problem():
    write("bad.yaml", """
        a:
          extends: resnet18
          stages: [2, 0, 2, -2]
          clases: 10
        fine:
          head: [{type: flatten}]
        b:
          features: [{type: convv, filters: 8}]
    """)
    result = runner.invoke(app, ["validate", "bad.yaml"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: bad.yaml:3: a.stages[1]: must be >= 1 (got 0)",
        "error: bad.yaml:3: a.stages[3]: must be >= 1 (got -2)",
        "error: bad.yaml:4: a.clases: unknown field (did you mean 'classes'?)",
        f"error: bad.yaml:8: b.features[0].type: unknown type 'convv' (did you mean 'conv'?) (expected one of: {TYPES})",
    ]
    assert result.stdout == "" and "Traceback" not in result.output


def test_validate_reports_each_file():
    write("good.yaml", "a:\n  head: [{type: flatten}]\n")
    write("broken.yaml", "a:\n  head: [{type: flatten}\n")
    result = runner.invoke(app, ["validate", "good.yaml", "broken.yaml", "missing.yaml"])
    assert result.exit_code == 2
    assert result.stdout == "ok: good.yaml: 1 model(s): a\n"
    assert result.stderr.splitlines() == [
        "error: broken.yaml:3: invalid YAML: while parsing a flow sequence at line 2, did not find expected ',' or ']'",
        "error: missing.yaml: no such file",
    ]


# -- user specs where zoo names go -----------------------------------------------------------------

def test_show_user_spec_that_extends_a_zoo_model():
    write("mine.yaml", "mine:\n  extends: resnet18\n  classes: 10\n")
    result = runner.invoke(app, ["show", "mine.yaml", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["name"] == "mine" and data["output_shape"] == [10]
    assert data["params"] == zoo.count("resnet18", classes=10)["params"]
    table = runner.invoke(app, ["show", "mine.yaml"])
    assert table.exit_code == 0 and table.stdout.startswith("mine  224×224×3 → 10  (10 classes, policy adapt)\n")


def test_show_one_model_of_a_multi_model_file():
    write("two.yaml", "small:\n  extends: resnet18\n  classes: 10\ntiny:\n  extends: vgg11\n  classes: 5\n")
    result = runner.invoke(app, ["show", "two.yaml:tiny", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["params"] == zoo.count("vgg11", classes=5)["params"]
    fails(["show", "two.yaml"], "two.yaml: holds 2 models (small, tiny); name one as two.yaml:NAME")
    fails(["show", "two.yaml:tin"], "two.yaml: no model 'tin' in this file (did you mean: tiny?)")


# -- the real command in a real process ------------------------------------------------------------

def test_subprocess_unknown_model():
    out = subprocess.run([sys.executable, "-c", CLI, "show", "resnet5"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert out.stderr == f"error: unknown model 'resnet5' (did you mean: {close_names('resnet5')}?)\n"
    assert out.stdout == ""


def test_subprocess_python_tag_never_runs(tmp_path):
    marker = tmp_path / "hacked.txt"
    write("evil.yaml", f'm: !!python/object/apply:os.system ["echo hacked > {marker}"]\n')
    for command in (["show", "evil.yaml"], ["validate", "evil.yaml"]):
        out = subprocess.run([sys.executable, "-c", CLI, *command], capture_output=True, text=True, timeout=120)
        assert out.returncode == 2
        assert out.stderr == ("error: evil.yaml:1: invalid YAML: could not determine a constructor for the tag "
                              "'tag:yaml.org,2002:python/object/apply:os.system'\n")
        assert not marker.exists()
