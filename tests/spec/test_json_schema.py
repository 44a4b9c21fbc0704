"""`zoo schema` against `zoo validate`: every spec file in the repository and in the docs validates
under the JSON Schema, and on generated specs the two agree (zoo-valid ⇒ schema-valid always;
⇔ for the field structure of whole specs).
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from typer.testing import CliRunner

from tests.conftest import ROOT
from zoo.errors import ZooError
from zoo.spec.json_schema import file_schema
from zoo.spec.registry import SPEC_SUFFIXES, Registry, builtin_spec_dir, default_registry
from zoo.spec.schema import ModelSpec

jsonschema = pytest.importorskip("jsonschema", reason="the JSON Schema tests need the jsonschema package (test extra)")

SCHEMA = file_schema()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
SPEC_FILES = sorted(p for p in builtin_spec_dir().iterdir() if p.suffix in SPEC_SUFFIXES)
DOC_FILES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
FENCE = re.compile(r'```ya?ml[^\n]*\n(.*?)```', re.S)
FUZZ = settings(max_examples=int(os.environ.get("ZOO_FUZZ_EXAMPLES", 60)), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def schema_problems(document: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in VALIDATOR.iter_errors(document)]


def zoo_accepts(path: Path) -> bool:
    """What `zoo validate` checks before planning: every model reads, merges and validates."""
    registry = Registry(parent=default_registry())
    try:
        for name in registry.add_file(path):
            registry.spec(name)
    except ZooError:
        return False
    return True


def test_the_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_zoo_schema_prints_it():
    result = CliRunner().invoke(__import__("zoo.cli.main", fromlist=["app"]).app, ["schema"])
    assert result.exit_code == 0 and json.loads(result.stdout) == SCHEMA


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.name)
def test_every_spec_file_validates_under_the_schema(path):
    assert schema_problems(yaml.safe_load(path.read_text(encoding="utf-8"))) == []


def doc_spec_blocks() -> list[tuple[str, str]]:
    blocks = []
    for doc in DOC_FILES:
        for i, body in enumerate(FENCE.findall(doc.read_text(encoding="utf-8"))):
            blocks.append((f"{doc.relative_to(ROOT)}#{i}", body))
    return blocks


@pytest.mark.parametrize("where,body", doc_spec_blocks(), ids=lambda v: v if "#" in str(v) else "")
def test_every_spec_the_docs_show_that_zoo_accepts_validates_under_the_schema(tmp_path, where, body):
    path = tmp_path / "doc.yaml"
    path.write_text(body, encoding="utf-8")
    if not zoo_accepts(path):
        pytest.skip(f"{where} is not a spec zoo accepts (a recipe, or broken on purpose)")
    assert schema_problems(yaml.safe_load(body)) == []


def test_the_tutorials_files_validate():
    text = (ROOT / "docs" / "tutorial.md").read_text(encoding="utf-8")
    files = dict(re.findall(r'```yaml title="([^"]+)"\n(.*?)```', text, re.S))
    assert schema_problems(yaml.safe_load(files["my_resnets.yaml"])) == []
    assert schema_problems(yaml.safe_load(files["broken.yaml"])) != []  # broken on purpose, for both


def test_partial_overrides_are_allowed_only_with_extends():
    override = {"a": {"extends": "resnet18", "paper": {"row": "x"}, "block": {"shortcut": "projection"}}}
    assert schema_problems(override) == []
    whole = {"a": {"paper": {"row": "x"}, "head": [{"type": "flatten"}]}}
    assert schema_problems(whole) == ["a/paper: {'row': 'x'} is not valid under any of the given schemas"]


def test_model_names_follow_the_documented_rule():
    assert schema_problems({"a/b": {"head": [{"type": "flatten"}]}}) == \
        [": 'a/b' does not match '^[A-Za-z_][A-Za-z0-9_.-]{0,63}$'"]
    assert schema_problems({"resnet-18.v2": {"head": [{"type": "flatten"}]}}) == []


# -- generated specs --------------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value))


REGISTRY = default_registry()
WHOLE = {name: _plain(REGISTRY.resolved(name)) for name in REGISTRY.names()}
BASES = sorted(REGISTRY.all_names())


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


def _leaves() -> list[Any]:
    seen, out = set(), []
    for spec in WHOLE.values():
        for path in _paths(spec):
            value = spec
            for part in path:
                value = value[part]
            key = json.dumps(value, sort_keys=True)
            if key not in seen and len(key) < 200:
                seen.add(key)
                out.append(value)
    return out


VALUES = st.one_of(st.sampled_from(_leaves()), st.integers(-2, 70), st.sampled_from(["x", "M", "same", None, [], {}]),
                   st.floats(-2, 3, allow_nan=False), st.booleans())


@st.composite
def mutated(draw) -> dict[str, Any]:
    """A real model, whole or as a partial override of a real parent, with a few fields changed."""
    name = draw(st.sampled_from(sorted(WHOLE)))
    spec = json.loads(json.dumps(WHOLE[name]))
    if draw(st.booleans()):  # an override: keep a random part of each section
        spec = {k: v for k, v in spec.items() if draw(st.booleans())}
        for key, value in list(spec.items()):
            if isinstance(value, dict):
                spec[key] = {k: v for k, v in value.items() if draw(st.booleans())}
        spec["extends"] = draw(st.sampled_from(BASES))
    for _ in range(draw(st.integers(0, 3))):
        paths = _paths(spec)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = spec
        for part in path[:-1]:
            parent = parent[part]
        if draw(st.integers(0, 4)) == 0 and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = json.loads(json.dumps(draw(VALUES)))  # a copy: the pool is shared
    return spec


@FUZZ
@given(mutated())
def test_valid_for_zoo_implies_valid_for_the_schema(tmp_path, spec):
    path = tmp_path / "gen.yaml"
    path.write_text(yaml.safe_dump({"gen": spec}), encoding="utf-8")
    if zoo_accepts(path):
        assert schema_problems({"gen": spec}) == []


@FUZZ
@given(mutated())
def test_whole_specs_agree_field_by_field(spec):
    # For a spec without `extends`, the schema says exactly what the field validation says
    # (whole-model rules such as one width per stage are `zoo validate`'s alone).
    spec.pop("extends", None)
    if any(isinstance(v, float) and not math.isfinite(v) for v in _leaf_values(spec)):
        return
    try:
        ModelSpec.model_validate(spec)
        pydantic_ok = True
    except ValidationError:
        pydantic_ok = False
    assert (schema_problems({"gen": spec}) == []) == pydantic_ok, schema_problems({"gen": spec})


def _leaf_values(value: Any):
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaf_values(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaf_values(v)
    else:
        yield value
