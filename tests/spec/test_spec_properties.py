"""Property tests: whatever a spec file holds, loading and planning it succeeds or raises ZooError, in one line.

Three sources of input: spec-like structures built from the schema's own field names and layer
types plus junk; the real spec files with keys dropped, renamed or given random values; and the
real files' text with random characters inserted or removed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

import zoo
from zoo.errors import ZooError
from zoo.plan.planner import plan_model
from zoo.spec import schema
from zoo.spec.registry import Registry, builtin_spec_dir, default_registry
from zoo.spec.yamlfile import parse_spec_text

# A few seconds per test; ZOO_FUZZ_EXAMPLES=5000 makes a longer soak.
FUZZ = settings(max_examples=int(os.environ.get("ZOO_FUZZ_EXAMPLES", 150)), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

SPEC_FILES = sorted(builtin_spec_dir().glob("*.yaml"))
SCHEMA_CLASSES = [v for v in vars(schema).values() if isinstance(v, type) and issubclass(v, BaseModel) and v is not BaseModel]
FIELDS = sorted({field for cls in SCHEMA_CLASSES for field in cls.model_fields})
WORDS = sorted({*schema.LAYER_TYPES, "M", "same", "valid", "avg", "max", "1x1", "3x3", "projection", "zero_pad",
                "relu", "softmax", "linear", "he_normal", "glorot_uniform", "resnet18", "vgg11", "_resnet", "a", "b"})

# -- strategies -----------------------------------------------------------------------------------

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 70),
    st.sampled_from([0, -1, 2**31, 10**9, 65_536, 65_537, 10**30]),
    st.floats(), st.sampled_from(WORDS), st.text(max_size=8),
)
keys = st.one_of(st.sampled_from(FIELDS), st.text(max_size=6))
junk = st.recursive(scalars, lambda kids: st.one_of(st.lists(kids, max_size=4), st.dictionaries(keys, kids, max_size=4)),
                    max_leaves=20)
small = st.one_of(st.integers(-1, 9), st.sampled_from(WORDS), st.booleans(), st.lists(st.integers(-1, 5), max_size=3),
                  st.floats(-1, 2), junk)
flat_layer = st.fixed_dictionaries({"type": st.sampled_from(schema.LAYER_TYPES)},
                                   optional={f: small for f in FIELDS if f not in ("type", "layers")})
layer = st.recursive(
    st.one_of(st.integers(-2, 64), st.just("M"), flat_layer, junk),
    lambda inner: st.fixed_dictionaries({"type": st.just("repeat"), "times": st.integers(-1, 4),
                                         "layers": st.lists(inner, max_size=3)}),
    max_leaves=8)
# Sections hold their own fields, a misspelt one, and a `type` of any shape (a layer's tag elsewhere).
misspelt = {"kernal": small, "filtres": small, "titel": small}
sections = {
    "conv": st.fixed_dictionaries({}, optional={**{f: small for f in schema.ConvDefaults.model_fields},
                                                "type": junk, **misspelt}),
    "block": st.fixed_dictionaries({"type": st.one_of(st.sampled_from(["basic", "bottleneck", "conv"]), junk)},
                                   optional={**{f: small for f in schema.BlockOptions.model_fields if f != "type"},
                                             **misspelt}),
    "paper": st.fixed_dictionaries({}, optional={**{f: small for f in schema.Paper.model_fields}, "type": junk,
                                                 **misspelt}),
}
model = st.fixed_dictionaries({}, optional={
    "extends": st.one_of(st.sampled_from(["resnet18", "vgg11", "_resnet", "a", "b", "c", "nowhere"]), junk),
    "abstract": st.one_of(st.booleans(), junk),
    "input_shape": st.one_of(st.lists(st.integers(-1, 40), max_size=4), junk),
    "classes": st.one_of(st.integers(-1, 20), junk),
    "conv": st.one_of(sections["conv"], junk),
    "block": st.one_of(sections["block"], junk),
    "paper": st.one_of(sections["paper"], junk),
    "stem": st.lists(layer, max_size=3),
    "features": st.one_of(st.lists(layer, max_size=6), junk),
    "head": st.lists(layer, max_size=3),
    "stages": st.one_of(st.lists(st.integers(-1, 3), max_size=4), junk),
    "widths": st.lists(st.integers(-1, 16), max_size=4),
    "strides": st.lists(st.integers(0, 3), max_size=4),
    "filtres": small, "featurs": small,
})
documents = st.one_of(
    st.dictionaries(st.one_of(st.sampled_from(["a", "b", "c"]), st.text(max_size=5)), st.one_of(model, junk),
                    min_size=1, max_size=3),
    junk,
)
values = st.one_of(scalars, junk, st.integers(-10**12, 10**12), st.sampled_from(schema.LAYER_TYPES),
                   st.lists(st.integers(-2, 3), max_size=5))
snippets = st.one_of(
    st.text(alphabet=st.sampled_from(list(":-[]{},&*!|>'\"#%@`? \n\t0123456789abcxyzMé\u2028\x00")), min_size=1,
            max_size=12),
    st.sampled_from(["!!int ", "!!map ", "!!seq ", "!!binary ", "&a ", "*a ", "<<: *a\n", "---\n", "? ", "- ", ": ",
                     "~", ".nan", "1e999", "2020-02-30", "\n  ", "\n    - ", "{", "]", "type: ", "filters: -1",
                     "stages: [0]", "extends: vgg11\n", "1" * 5000]),
)


# -- the property -------------------------------------------------------------------------------

def check_error(error: ZooError) -> None:
    for line in error.all_lines():
        assert len(line.splitlines()) == 1 and "\n" not in line, repr(line)
    assert str(error) == error.line_text()
    if error.file and error.line and Path(error.file).is_file():
        # The line exists in the file it names (a parse error may sit one past the last line). YAML also
        # breaks lines at U+0085, U+2028 and U+2029, so count the way str.splitlines() does.
        text = Path(error.file).read_bytes().decode("utf-8", "replace")
        assert 1 <= error.line <= len(text.splitlines()) + 1, error.line


def load_and_plan(path: Path) -> list[str]:
    """Everything `zoo validate` does with a file; the names that planned."""
    planned = []
    registry = Registry(parent=default_registry())
    try:
        names = registry.add_file(path)
    except ZooError as e:
        check_error(e)
        return planned
    for name in names:
        try:
            spec = registry.spec(name)
            if not spec.abstract:
                plan_model(name, spec)
                planned.append(name)
        except ZooError as e:
            check_error(e)
    return planned


def parse_and_plan(text: str, path: Path) -> None:
    path.write_text(text, encoding="utf-8")
    try:
        parse_spec_text(text, str(path))
    except ZooError as e:
        check_error(e)
    load_and_plan(path)


@FUZZ
@given(doc=documents)
def test_random_structures(doc, tmp_path):
    parse_and_plan(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), tmp_path / "fuzz.yaml")


def _paths(node: Any, prefix: tuple = ()):
    yield prefix
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        yield from _paths(child, (*prefix, key))


def _at(node: Any, path: tuple) -> Any:
    for key in path:
        node = node[key]
    return node


@FUZZ
@given(data=st.data())
def test_mutated_spec_files(data, tmp_path):
    source = data.draw(st.sampled_from(SPEC_FILES), label="file")
    doc = yaml.safe_load(source.read_text(encoding="utf-8"))
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        paths = list(_paths(doc))[1:]
        if not paths:
            break
        where = data.draw(st.sampled_from(paths), label="path")
        parent, key = _at(doc, where[:-1]), where[-1]
        action = data.draw(st.sampled_from(["drop", "replace", "rename"]), label="action")
        if action == "drop":
            del parent[key]
        elif action == "replace" or isinstance(parent, list):
            parent[key] = data.draw(values, label="value")
        else:
            new_key = data.draw(keys, label="key")
            parent[new_key] = parent.pop(key)
    parse_and_plan(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), tmp_path / "fuzz.yaml")


@FUZZ
@given(source=st.sampled_from(SPEC_FILES),
       edits=st.lists(st.tuples(st.sampled_from(["insert", "delete", "duplicate"]), st.integers(0, 10**6), snippets),
                      min_size=1, max_size=3))
def test_edited_spec_text(source, edits, tmp_path):
    text = source.read_text(encoding="utf-8")
    for action, position, snippet in edits:
        at = position % (len(text) + 1)
        if action == "insert":
            text = text[:at] + snippet + text[at:]
        elif action == "delete":
            text = text[:at] + text[at + len(snippet):]
        else:
            lines = text.splitlines(keepends=True) or [""]
            line = lines[position % len(lines)]
            text = text.replace(line, line + line, 1)
    parse_and_plan(text, tmp_path / "fuzz.yaml")


def test_the_real_spec_files_all_plan(tmp_path):
    # The mutations start from files that are good: every concrete model in them plans.
    for source in SPEC_FILES:
        copy = tmp_path / source.name
        copy.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
        planned = load_and_plan(copy)
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
        assert planned == [n for n, raw in data.items() if raw.get("abstract") is not True], source.name


# -- inputs that once crashed the planner: now planned, or refused with one line ----------------

PLANNER_CASES = {
    "conv_after_flatten": ("m:\n  head: [{type: flatten}, {type: conv, filters: 3}]\n",
                           "m.head[1]: a convolution needs an H×W×C feature map, but the input here is flat (150528)"),
    "pool_after_global_pool": ("m:\n  head: [{type: global_pool}, {type: maxpool}]\n",
                               "m.head[1]: pooling needs an H×W×C feature map, but the input here is flat (3)"),
    "block_after_flatten": ("m:\n  stem: [{type: flatten}]\n  block: {type: basic}\n  stages: [1]\n  widths: [4]\n",
                            "m.stages[0].block[0]: a residual block needs an H×W×C feature map, but the input "
                            "here is flat (150528)"),
    "repeat_in_stem": ("m:\n  stem: [{type: repeat, times: 2, layers: [8]}]\n", None),
    "repeat_in_head": ("m:\n  head: [{type: repeat, times: 2, layers: [{type: dropout}]}]\n", None),
}


@pytest.mark.parametrize("case", PLANNER_CASES)
def test_planner_refuses_or_plans(case, write_spec):
    text, message = PLANNER_CASES[case]
    path = write_spec(text)
    if message is None:
        plan = zoo.plan(str(path))
        assert len({n.name for n in plan.nodes}) == len(plan.nodes)
    else:
        with pytest.raises(ZooError) as info:
            zoo.plan(str(path))
        assert str(info.value) == message
