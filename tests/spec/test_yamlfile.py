"""Reading spec files: every bad file is one SpecError line naming the file and, where known, the line."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

import zoo
from zoo.spec.yamlfile import MAX_DEPTH, MAX_FILE_BYTES, parse_spec_text, read_spec_file


def error_line(path) -> str:
    with pytest.raises(zoo.SpecError) as info:
        zoo.load_spec(str(path))
    text = str(info.value)
    assert "\n" not in text and text == info.value.line_text()
    return text


def shown_line(path, line: int) -> str:
    """The file's text at an error's line number, to check the number points at the problem."""
    return path.read_text(encoding="utf-8").splitlines()[line - 1]


# -- malformed YAML -----------------------------------------------------------------------------

def test_unclosed_bracket_names_the_line_found_and_the_line_opened(write_spec):
    path = write_spec("""
        m:
          features: [64, M
          head: [{type: flatten}]
    """)
    assert error_line(path) == ("spec.yaml:3: invalid YAML: while parsing a flow sequence at line 2, "
                                "did not find expected ',' or ']'")


def test_bad_indentation_points_at_the_misindented_key(write_spec):
    path = write_spec("""
        m:
          features: [64]
           head: [{type: flatten}]
    """)
    assert error_line(path) == ("spec.yaml:3: invalid YAML: while parsing a block mapping at line 2, "
                                "did not find expected key")
    assert shown_line(path, 3) == "   head: [{type: flatten}]"


def test_tab_indentation(write_spec):
    path = write_spec("m:\n\tfeatures: [64]\n")
    assert error_line(path) == ("spec.yaml:2: invalid YAML: while scanning for the next token "
                                "found character that cannot start any token")


def test_unclosed_quote(write_spec):
    path = write_spec('m:\n  description: "abc\n  head: []\n')
    assert error_line(path) == ("spec.yaml:4: invalid YAML: while scanning a quoted scalar at line 2, "
                                "found unexpected end of stream")


def test_two_documents_in_one_file(write_spec):
    path = write_spec("a:\n  head: [{type: flatten}]\n---\nb:\n  head: [{type: flatten}]\n")
    assert error_line(path) == ("spec.yaml:3: invalid YAML: expected a single document in the stream at line 1, "
                                "but found another document")


# -- what the file holds ------------------------------------------------------------------------

def test_duplicate_field_names_both_lines(write_spec):
    path = write_spec("""
        m:
          features: [64]
          head: [{type: flatten}]
          features: [32]
    """)
    assert error_line(path) == "spec.yaml:4: duplicate key 'features' (first at line 2)"


def test_duplicate_model_names(write_spec):
    path = write_spec("""
        m:
          head: [{type: flatten}]
        m:
          head: [{type: flatten}]
    """)
    assert error_line(path) == "spec.yaml:3: duplicate key 'm' (first at line 1)"


def test_duplicate_key_inside_a_layer(write_spec):
    path = write_spec("""
        m:
          head:
            - type: dense
              units: 8
              units: 9
    """)
    assert error_line(path) == "spec.yaml:5: duplicate key 'units' (first at line 4)"


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n", "~\n"])
def test_empty_file(write_spec, text):
    assert error_line(write_spec(text)) == "spec.yaml: empty spec file: expected a mapping of model names to specs"


def test_a_list_instead_of_a_mapping(write_spec):
    path = write_spec("- vgg16\n- resnet50\n")
    assert error_line(path) == "spec.yaml:1: expected a mapping of model names to specs (got a list)"


def test_a_scalar_instead_of_a_mapping(write_spec):
    assert error_line(write_spec("vgg16\n")) == "spec.yaml:1: expected a mapping of model names to specs (got 'vgg16')"


def test_a_model_that_is_not_a_mapping(write_spec):
    path = write_spec("""
        good:
          head: [{type: flatten}]
        bad: [64, M]
    """)
    assert error_line(path) == "spec.yaml:3: bad: expected a mapping of spec fields (got a list)"


@pytest.mark.parametrize("key,shown", [("1", "1"), ("~", "None"), ("true", "True"), ("2020-01-01", "datetime.date(2020, 1, 1)"),
                                       ("[a, b]", "['a', 'b']"), ("{a: 1}", "{'a': 1}")])
def test_keys_must_be_names(write_spec, key, shown):
    path = write_spec(f"m:\n  head:\n    - type: flatten\n      {key}: 3\n")
    assert error_line(path) == f"spec.yaml:4: mapping keys must be names (got {shown})"


def test_missing_file(tmp_path):
    assert error_line(tmp_path / "nowhere.yaml") == "nowhere.yaml: no such file"


def test_a_folder(tmp_path):
    (tmp_path / "specs.yaml").mkdir()
    assert error_line(tmp_path / "specs.yaml") == "specs.yaml: is a folder, not a regular file"


def test_file_names_the_os_refuses():
    assert error_line("a\x00b.yaml") == r"a\x00b.yaml: cannot read: not a valid file name"  # NUL shown, not printed
    long = "a" * 5000 + ".yaml"
    assert error_line(long) == f"{long}: cannot read: File name too long"
    assert error_line(long + ":m") == f"{long}: cannot read: File name too long"


def test_non_utf8_bytes_name_the_line_and_byte(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"m:\n  description: caf\xe9 au lait\n  head: [{type: flatten}]\n")
    assert error_line(path) == "latin1.yaml:2: not UTF-8 text (invalid continuation byte at byte 21)"


def test_control_characters_name_the_line(tmp_path):
    path = tmp_path / "nul.yaml"
    path.write_bytes('m:\n  description: "café"\n  family: "a\x00b"\n'.encode())
    assert error_line(path) == "nul.yaml:3: invalid YAML: unacceptable character #x0000 (control characters are not allowed)"


def test_lone_surrogates_in_text(tmp_path):
    with pytest.raises(zoo.SpecError) as info:
        parse_spec_text('m:\n  description: "\ud800"\n', "text.yaml")
    assert str(info.value) == "text.yaml:2: not UTF-8 text (surrogates not allowed)"


def test_oversized_file_is_refused_before_parsing(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    assert error_line(path) == "big.yaml: spec file is over 4,194,304 bytes, the most zoo reads"


@pytest.mark.parametrize("device,kind", [("/dev/zero", "a character device"),
                                         ("/dev/urandom", "a character device")])
def test_devices_are_refused_without_reading(device, kind):
    if not Path(device).exists():
        pytest.skip(f"no {device} here")
    assert error_line(device) == f"{device}: is {kind}, not a regular file"


def test_a_fifo_with_no_writer_is_refused_without_waiting(tmp_path):
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)
    assert error_line(fifo) == "spec.yaml: is a FIFO (named pipe), not a regular file"


# -- values PyYAML itself cannot build ---------------------------------------------------------

@pytest.mark.parametrize("value,message", [
    ("2020-02-30", "cannot read '2020-02-30' as !!timestamp (day is out of range for month)"),
    ("!!int ten", "cannot read 'ten' as !!int (invalid literal for int() with base 10: 'ten')"),
    ("!!float x", "cannot read 'x' as !!float (could not convert string to float: 'x')"),
    ("!!bool maybe", "cannot read 'maybe' as !!bool"),
    ("!!timestamp soon", "cannot read 'soon' as !!timestamp"),
    ("!!map [a]", "expected a mapping, but found sequence"),
    ("!!seq {a: 1}", "expected a list, but found mapping"),
    ("1" * 5000, "cannot read '" + "1" * 56 + "... as !!int "
                 "(Exceeds the limit (4300 digits) for integer string conversion: value has 5000 digits)"),
])
def test_values_yaml_cannot_construct(write_spec, value, message):
    path = write_spec(f"m:\n  head: [{{type: flatten}}]\n  description: {value}\n")
    assert error_line(path) == f"spec.yaml:3: invalid YAML: {message}"


# -- hostile files ------------------------------------------------------------------------------

PAYLOAD = '!!python/object/apply:os.system ["echo hacked > {marker}"]'


@pytest.mark.parametrize("where", ["m: {payload}\n", "m:\n  head: [{{type: flatten}}]\n  description: {payload}\n"])
def test_python_tags_are_an_error_and_never_run(write_spec, tmp_path, where):
    marker = tmp_path / "hacked.txt"
    path = write_spec(where.format(payload=PAYLOAD.format(marker=marker)))
    line = 1 if where.startswith("m: {") else 3
    assert error_line(path) == (f"spec.yaml:{line}: invalid YAML: could not determine a constructor for the tag "
                                "'tag:yaml.org,2002:python/object/apply:os.system'")
    assert not marker.exists()
    # The control: the same text through an unsafe loader does run the command.
    yaml.unsafe_load(path.read_text())
    assert marker.read_text().strip() == "hacked"


def test_billion_laughs_is_refused_quickly(write_spec):
    rows = ['  - &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    rows += [f"  - &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 10)]
    path = write_spec("m:\n  description:\n" + "\n".join(rows) + "\n")  # 9⁹ ≈ 387 million strings
    start = time.perf_counter()
    assert error_line(path) == "spec.yaml: too many values (over 100,000 once YAML aliases are expanded)"
    assert time.perf_counter() - start < 2


def test_recursive_alias(write_spec):
    assert error_line(write_spec("m: &a {head: *a}\n")) == "spec.yaml:1: invalid YAML: found unconstructable recursive node"


def test_deep_nesting_is_an_error_not_a_crash(tmp_path):
    # libyaml's C composer recurses once per level: 100,000 levels overflowed the stack (a segfault).
    path = tmp_path / "deep.yaml"
    path.write_text("m: " + "[" * 100_000 + "]" * 100_000 + "\n")
    code = "import zoo, sys\ntry:\n    zoo.load_spec(sys.argv[1])\nexcept zoo.SpecError as e:\n    print(e)\n"
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, cwd=tmp_path,
                         timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout == f"deep.yaml:1: invalid YAML: nested more than {MAX_DEPTH} deep\n"


def test_depth_is_counted_after_aliases(write_spec):
    # Each anchor nests 30 deep and holds the previous one: the text is shallow, the value is 1,200 deep,
    # deep enough that repr() of it, in a later error message, would raise RecursionError.
    items = ", ".join(f"&a{i} " + "[" * 30 + (f"*a{i - 1}" if i else "") + "]" * 30 for i in range(40))
    path = write_spec(f"m:\n  description: [{items}]\n  head: [{{type: flatten}}]\n")
    assert error_line(path) == f"spec.yaml:2: nested more than {MAX_DEPTH} deep once YAML aliases are expanded"


# -- what a good file gives back -----------------------------------------------------------------

def test_lines_of_models_keys_and_items(write_spec):
    path = write_spec("""
        # a comment
        m:
          features:
            - 64
            - {type: conv, filters: 8}
          head: [{type: flatten}]
    """)
    data = read_spec_file(path)
    m = data["m"]
    assert m.where == ("spec.yaml", 2)  # the model is where its name is
    assert m.key_where == {"features": ("spec.yaml", 3), "head": ("spec.yaml", 6)}
    assert m["features"].item_where == [("spec.yaml", 4), ("spec.yaml", 5)]
    assert m["features"][1].key_where["filters"] == ("spec.yaml", 5)


def test_aliased_models_keep_their_own_lines(write_spec):
    path = write_spec("a: &x\n  head: [{type: flatten}]\nb: *x\n")
    data = read_spec_file(path)
    assert data["a"].where == ("spec.yaml", 1) and data["b"].where == ("spec.yaml", 3)
    assert data["a"] == data["b"]
