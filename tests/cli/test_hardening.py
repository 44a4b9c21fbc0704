"""Hostile input through the `zoo` command (issue 8): devices and FIFOs, markup and terminal escapes,
non-finite numbers, names that would become paths, broken `extends` chains, unwritable outputs.

Each case is one `error:` line on stderr and exit status 2, asserted verbatim.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.cli.test_errors import fails, runner
import zoo
from zoo.cli.main import app
from zoo.spec import registry

NAME_RULE = "a letter or `_`, then letters, digits, `_`, `-` or `.`, 64 characters at most"
TINY = "  features: [8]\n  head: [{type: flatten}, {type: classifier}]\n  input_shape: [4, 4, 1]\n  classes: 2\n"


def write(name: str, text: str) -> Path:
    path = Path(name)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


@pytest.fixture
def fresh_registry(monkeypatch):
    """`zoo list` reads $ZOO_SPECS into a cached registry: start from none, restore it after."""
    monkeypatch.setattr(registry, "_default", None)


# -- files that are not files: refused on the open descriptor, before reading a byte ------------------

@pytest.mark.parametrize("args", [["validate", "/dev/zero"], ["validate", "/dev/urandom"], ["show", "/dev/zero"]])
def test_devices_are_one_line(args):
    fails(args, f"{args[1]}: is a character device, not a regular file")


def test_a_fifo_with_no_writer_is_one_line():
    os.mkfifo("pipe.yaml")
    fails(["validate", "pipe.yaml"], "pipe.yaml: is a FIFO (named pipe), not a regular file")


def test_zoo_specs_naming_a_device_is_one_line(monkeypatch, fresh_registry):
    monkeypatch.setenv("ZOO_SPECS", "/dev/zero")
    fails(["list"], "/dev/zero: is a character device, not a regular file")


def test_devices_end_quickly_in_a_real_process():
    # a hang or an unbounded read would hit the (generous) timeout rather than pass
    code = "import sys; from zoo.cli.main import run; sys.argv = ['zoo', 'validate', '/dev/zero']; run()"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout, done.stderr) == (2, "", "error: /dev/zero: is a character device, not a regular file\n")


# -- markup and control characters are shown, never interpreted ------------------------------------------

def test_markup_in_a_family_is_text_in_list_and_show(monkeypatch, fresh_registry):
    write("mk.yaml", 'm:\n  family: "[/bold] [red]x[/x]"\n' + TINY)
    monkeypatch.setenv("ZOO_SPECS", "mk.yaml")
    result = runner.invoke(app, ["list", "m"])
    assert result.exit_code == 0, result.output
    assert "│ m    │ [/bold] [red]x[/x] │" in result.stdout
    result = runner.invoke(app, ["show", "m"])
    assert result.exit_code == 0 and result.stdout.startswith("m  4×4×1 → 2")


def test_escape_sequences_in_values_are_shown_not_sent(monkeypatch, fresh_registry):
    write("esc.yaml", 'm:\n  family: "\\e]0;pwned\\a\\e[2J\\x9b"\n' + TINY)
    monkeypatch.setenv("ZOO_SPECS", "esc.yaml")
    result = runner.invoke(app, ["list", "m"])
    assert result.exit_code == 0, result.output
    assert r"│ m    │ \x1b]0;pwned\x07\x1b[2J\x9b │" in result.stdout
    assert "\x1b" not in result.output and "\x9b" not in result.output


def test_escape_sequences_in_field_names_are_shown_in_errors():
    write("f.yaml", 'm:\n  "fa\\e[2Jmily": x\n' + TINY)
    fails(["validate", "f.yaml"], r"f.yaml:2: m.fa\x1b[2Jmily: unknown field (did you mean 'family'?)")


def test_escape_sequences_in_file_names_are_shown():
    fails(["show", "a\x1b[31mb.yaml"], r"a\x1b[31mb.yaml: no such file")


# -- names and numbers the schema refuses ---------------------------------------------------------------

@pytest.mark.parametrize("name", ["a/b", "[/x]", "[/bold]", "9lives", "a b", "a\x1bb"])
def test_model_names_outside_the_documented_set_are_refused(name):
    Path("n.yaml").write_text(f"{json.dumps(name)}:\n" + TINY, encoding="utf-8")  # YAML reads JSON's escapes
    fails(["validate", "n.yaml"], f"n.yaml:1: not a valid model name: {NAME_RULE} (got {name!r})")


def test_names_with_dots_and_dashes_are_fine():
    write("ok.yaml", "resnet-18.v2:\n" + TINY + "_base.x:\n  abstract: true\n")
    result = runner.invoke(app, ["validate", "ok.yaml"])
    assert (result.exit_code, result.stdout) == (0, "ok: ok.yaml: 2 model(s): resnet-18.v2, _base.x\n")


def test_extends_names_follow_the_same_rule():
    write("e.yaml", "m:\n  extends: a/b\n" + TINY)
    fails(["validate", "e.yaml"], f"e.yaml:2: m.extends: must be a model name: {NAME_RULE} (got 'a/b')")


@pytest.mark.parametrize("value,shown", [(".inf", "inf"), ("-.inf", "-inf"), (".nan", "nan")])
def test_non_finite_numbers_are_refused(value, shown):
    write("lrn.yaml", f"""
        m:
          features: [8, {{type: lrn, alpha: {value}}}]
          head: [{{type: flatten}}, {{type: classifier}}]
    """)
    fails(["validate", "lrn.yaml"], f"lrn.yaml:2: m.features[1].alpha: must be a finite number (got {shown})")


def test_non_finite_numbers_are_refused_in_recipes():
    from zoo.errors import SpecError
    from zoo.training.recipe import load_recipe

    write("r.yaml", "r:\n  optimizer: {type: sgd, lr: 0.1, momentum: .nan}\n")
    with pytest.raises(SpecError) as info:
        load_recipe("r.yaml")
    assert info.value.line_text() == "r.yaml:2: r.optimizer.momentum: must be a finite number (got nan)"


# -- a broken extends chain is one problem --------------------------------------------------------------

def test_a_1000_deep_broken_chain_is_a_few_lines():
    Path("chain.yaml").write_text("".join(f"m{i}:\n  extends: m{i + 1}\n" for i in range(999)) +
                                  "m999:\n  extends: nowhere\n", encoding="utf-8")
    fails(["validate", "chain.yaml"],
          "chain.yaml:64: m31.extends: extends chain is longer than 32 models",
          "chain.yaml:2000: m999.extends: extends unknown model 'nowhere'",
          "chain.yaml: 998 more model(s) extend through the broken chain(s) above")


def test_a_long_chain_written_root_first_is_one_line_and_a_count():
    Path("chain.yaml").write_text("m999:\n" + TINY + "".join(f"m{i}:\n  extends: m{i + 1}\n" for i in reversed(range(999))),
                                  encoding="utf-8")
    fails(["validate", "chain.yaml"],
          "chain.yaml:7: m998.extends: extends chain is longer than 32 models",
          "chain.yaml: 967 more model(s) extend through the broken chain(s) above")


def test_a_cycle_is_one_line_and_a_count():
    write("cycle.yaml", "a:\n  extends: b\nb:\n  extends: c\nc:\n  extends: a\n")
    fails(["validate", "cycle.yaml"], "cycle.yaml:6: c.extends: extends cycle: a -> b -> c -> a",
          "cycle.yaml: 2 more model(s) extend through the broken chain(s) above")


# -- output paths: checked before the build, written whole or not at all -----------------------------

def test_build_output_under_a_file():
    write("tiny.yaml", "m:\n" + TINY)
    Path("f").write_text("mine")
    fails(["build", "tiny.yaml", "-o", "f/x/m.keras"], "f/x/m.keras: cannot write --output: "
          f"{Path('f').absolute()} is a file, not a folder")
    assert Path("f").read_text() == "mine"


def test_build_output_onto_a_folder():
    write("tiny.yaml", "m:\n" + TINY)
    Path("d.keras").mkdir()
    fails(["build", "tiny.yaml", "-o", "d.keras"], "d.keras: --output is a folder; give a file name")


def test_build_output_in_a_read_only_place():
    if not os.path.isdir("/sys/kernel"):
        pytest.skip("no /sys here")
    write("tiny.yaml", "m:\n" + TINY)
    fails(["build", "tiny.yaml", "-o", "/sys/m.keras"], "/sys/m.keras: cannot write --output: Permission denied (/sys)")


def test_build_output_onto_a_device():
    write("tiny.yaml", "m:\n" + TINY)
    fails(["build", "tiny.yaml", "-o", "/dev/null/m.keras"], "/dev/null/m.keras: cannot write --output: /dev/null is a character device, not a folder")


@pytest.fixture
def small_tmpfs(tmp_path):
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
                                           capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here (needs root and mount rights)")
    yield mount
    subprocess.run(["umount", str(mount)], capture_output=True)


def test_build_onto_a_full_device_is_one_line_and_leaves_nothing(small_tmpfs):
    # 8×8×64 features into 100 classes: 409,700 weights, 1.6 MB, on a 64 KiB file system
    write("big.yaml", """
        m:
          features: [64]
          head: [{type: flatten}, {type: classifier}]
          input_shape: [8, 8, 1]
          classes: 100
    """)
    target = small_tmpfs / "m.keras"
    fails(["build", "big.yaml", "-o", str(target), "--json"], f"{target}: cannot write --output: No space left on device")
    assert list(small_tmpfs.iterdir()) == []


# -- what `zoo build` and `zoo show` say ----------------------------------------------------------------

def test_show_names_each_adapted_layer():
    result = runner.invoke(app, ["show", "vgg16", "-i", "28,28,1", "-c", "10"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    at = lines.index("1 layer(s) adapted to this input:")
    assert lines[at + 1] == "  block5_pool (features[17]): skipped: the 2×2 pool does not fit the 1×1 input"


def test_piped_output_is_not_cut_at_80_columns():
    code = "import sys; from zoo.cli.main import run; sys.argv = ['zoo', 'list', 'resnet1*']; run()"
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    row = next(line for line in done.stdout.splitlines() if "│ resnet18 " in line)
    cells = [cell.strip() for cell in row.strip("│").split("│")]
    assert len(row) > 80 and cells[-1] == "1.8 GFLOPs" and "…" not in done.stdout


def test_build_names_the_adapted_layers_and_keeps_the_summary_whole(tmp_path):
    # a 4×4 input: the second 2×2 pool meets a 2×2 map, the third a 1×1 map and is skipped
    write("pools.yaml", """
        m:
          features: [4, M, 4, M, 4, M]
          head: [{type: flatten}, {type: classifier}]
          input_shape: [4, 4, 1]
          classes: 3
    """)
    result = runner.invoke(app, ["build", "pools.yaml", "-o", "m.keras"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    at = lines.index("1 layer(s) adapted to this input:")
    assert lines[at + 1] == "  block3_pool (features[5]): skipped: the 2×2 pool does not fit the 1×1 input"
    header = next(line for line in lines if "Layer (type)" in line)
    assert "Param #" in header  # Keras' own table is not cut at 80 columns when piped
    assert lines[-1] == "saved to m.keras" and Path("m.keras").stat().st_size > 0
    assert sorted(p.name for p in Path(".").iterdir()) == ["m.keras", "pools.yaml"]  # no temporary left


def test_the_layer_table_has_a_row_per_layer_and_straight_columns():
    result = runner.invoke(app, ["show", "resnet110"])
    assert result.exit_code == 0
    table = [line for line in result.stdout.splitlines() if line[:1] in "┏┃┡│└"]
    assert len(table) == 3 + 1 + len(zoo.plan("resnet110").nodes)  # three rules, the header, a row per layer
    assert len({len(line) for line in table}) == 1
    assert table[1].startswith("┃   # ┃ layer ") and table[1].endswith("┃ adapted ┃")


@pytest.mark.parametrize("args", [["schema"], ["list", "vgg1?"]])
def test_stdout_on_a_full_device_is_one_line(args):
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    code = f"import sys; from zoo.cli.main import run; sys.argv = ['zoo', *{args!r}]; run()"
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-c", code], stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    assert (done.returncode, done.stderr) == (2, "error: cannot write the output: No space left on device\n")
