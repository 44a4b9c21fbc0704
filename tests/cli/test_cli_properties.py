"""Property test: whatever names and values a spec file (or the command line) holds, `zoo validate`,
`zoo show` and `zoo list` end with exit 0 or 2, no traceback, and print no raw control character.

Names and values mix rich markup (`[/bold]`), terminal escapes (ESC, CSI, OSC, BEL), C1 controls,
line separators and other unicode with plausible spec fields.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cli.test_errors import runner
from zoo.cli.main import app
from zoo.spec import registry

SETTINGS = settings(max_examples=int(os.environ.get("ZOO_FUZZ_EXAMPLES", 40)), deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
# Output may hold newlines; nothing else below U+0020, no DEL, no C1 control, no bidi override.
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

nasty = st.sampled_from(["[/bold]", "[/x]", "[bold red]", "\x1b[31m", "\x1b]0;title\x07", "\x1b[2J", "\x9b",
                         "\x07", "\r", "\u2028", "\u202e", "\x00", "\x85", "é", "模型", "/", ":", "..", " "])
text = st.lists(st.one_of(nasty, st.text(max_size=4)), max_size=4).map("".join)
names = st.one_of(st.sampled_from(["m", "_base", "resnet-18.v2", "vgg16"]), text)
numbers = st.one_of(st.integers(-2, 70), st.floats(), st.sampled_from([float("inf"), float("nan")]))
fields = st.one_of(st.sampled_from(["family", "description", "classes", "head", "features", "famliy"]), text)


@st.composite
def spec_files(draw) -> str:
    """A spec file as YAML text (JSON-style flow, so every generated string survives quoting)."""
    models = {}
    for _ in range(draw(st.integers(1, 3))):
        spec = {"family": draw(text), "features": [8], "input_shape": [4, 4, 1], "classes": 2,
                "head": [{"type": "flatten"}, {"type": "classifier"}]}
        if draw(st.booleans()):
            spec[draw(fields)] = draw(st.one_of(text, numbers))
        if draw(st.booleans()):
            spec["features"] = [8, {"type": "lrn", "alpha": draw(numbers)}]
        models[draw(names)] = spec
    return json.dumps(models, indent=1, ensure_ascii=draw(st.booleans()), allow_nan=False
                      ) if not _has_nonfinite(models) else _yaml_with_nonfinite(models)


def _has_nonfinite(value) -> bool:
    if isinstance(value, float):
        return value != value or value in (float("inf"), float("-inf"))
    if isinstance(value, dict):
        return any(_has_nonfinite(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_nonfinite(v) for v in value)
    return False


def _yaml_with_nonfinite(models) -> str:
    # JSON has no inf or nan; YAML writes them .inf and .nan
    return json.dumps(models, indent=1).replace("-Infinity", "-.inf").replace("Infinity", ".inf").replace("NaN", ".nan")


def check(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code in (0, 2), (args, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exception)
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert not RAW_CONTROL.search(output), (args, output)


@pytest.fixture
def spec_path(tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "_default", None)
    return tmp_path / "gen.yaml"


@SETTINGS
@given(spec_files())
def test_generated_spec_files_through_validate_show_and_list(spec_path, monkeypatch, text_):
    spec_path.write_text(text_, encoding="utf-8", errors="surrogatepass")
    check(["validate", str(spec_path)])
    check(["show", str(spec_path)])
    names = list(json.loads(text_.replace(".nan", "0").replace("-.inf", "0").replace(".inf", "0")))
    check(["show", f"{spec_path}:{names[0]}"])
    monkeypatch.setenv("ZOO_SPECS", str(spec_path))
    monkeypatch.setattr(registry, "_default", None)
    check(["list", "*"])
    monkeypatch.delenv("ZOO_SPECS")
    monkeypatch.setattr(registry, "_default", None)


@SETTINGS
@given(st.one_of(text, names))
def test_generated_names_on_the_command_line(spec_path, name):
    if "\x00" in name:
        name = name.replace("\x00", "")  # argv cannot hold NUL
    check(["show", name])
    check(["list", name])
    check(["validate", name or "x"])
