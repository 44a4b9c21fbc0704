"""The generated pages: counts equal the planner's, every model and field is there, specs drive the pages."""

from __future__ import annotations

import re
import textwrap

import pytest

import zoo
from tests.conftest import MODELS
from zoo.docs import generate_pages, write_pages
from zoo.docs.cli_reference import cli_reference_page, commands
from zoo.docs.models import OVERVIEW, SHAPES, model_page, parts, reload_registry, source_text
from zoo.docs.pages import models_nav, site_nav
from zoo.docs.references import KERAS_NAMES, TORCHVISION_NAMES, references, relation
from zoo.docs.spec_reference import documented_classes, spec_reference_page
from zoo.spec import registry as registry_module
from zoo.spec.schema import ModelSpec



@pytest.fixture
def fresh_registry(monkeypatch):
    """The default registry rebuilt on next use (it caches), with $ZOO_SPECS as the test sets it."""
    monkeypatch.setattr(registry_module, "_default", None)
    yield monkeypatch


def overview_rows(text: str) -> dict[str, dict[str, str]]:
    """Each model's row of the overview tables, by column header."""
    rows: dict[str, dict[str, str]] = {}
    header: list[str] = []
    for line in text.splitlines():
        if not line.startswith("|"):
            header = []
            continue
        cells = [c.strip() for c in line.strip("|").split(" | ")]
        if not header:
            header = cells
        elif not set(line) <= set("|-: "):
            name = re.fullmatch(r"\[(\w+)\]\(\w+\.md\)", cells[0])[1]
            assert name not in rows, f"{name} listed twice"
            rows[name] = dict(zip(header, cells))
    return rows


def number(text: str) -> float:
    return float(text.replace(",", ""))


def test_overview_lists_every_model_with_the_planners_counts(pages):
    rows = overview_rows(pages[OVERVIEW])
    assert sorted(rows) == sorted(MODELS)
    for name, row in rows.items():
        counts = zoo.count(name)
        assert int(number(row["Parameters"])) == counts["params"], name
        assert int(number(row["Trainable"])) == counts["trainable_params"], name
        assert int(row["Depth"]) == counts["depth"], name
        for shape in ((224, 224, 3), (32, 32, 3)):
            macs = zoo.count(name, shape)["macs"]
            assert number(row[f"MACs at {'×'.join(map(str, shape))} (M)"]) == round(macs / 1e6, 1), (name, shape)


def test_overview_gives_the_other_libraries_figures(pages):
    rows = overview_rows(pages[OVERVIEW])
    assert rows["vgg16"]["keras.applications"] == "VGG16: 138,357,544 (=)"
    assert rows["vgg16_bn"]["torchvision"] == "vgg16_bn: 138,365,992 (− BN stats)"
    assert rows["resnet50"]["keras.applications"] == "ResNet50: 25,636,712 (+ conv bias)"
    assert rows["resnet50"]["torchvision"] == "resnet50: 25,557,032 (− BN stats)"
    assert rows["resnet50_keras"]["torchvision"] == "resnet50: 25,557,032 (− conv bias − BN stats)"
    assert rows["resnet50_keras"]["keras.applications"] == "ResNet50: 25,636,712 (=; same network)"
    assert rows["resnet50_tv"]["torchvision"] == "resnet50: 25,557,032 (− BN stats; same network)"
    assert rows["resnet20"]["Paper"] == "0.27 M params"
    assert "keras.applications" not in rows["resnet20"]  # no such column for the CIFAR family


def test_every_published_figure_is_explained(families):
    """Each library figure follows from ours by counting conv bias and BN statistics or not."""
    explained = {"=", "− BN stats", "+ conv bias", "+ conv bias − BN stats",
                 "− conv bias", "− conv bias − BN stats"}
    refs = [(m.name, r) for f in families for m in f.models for r in m.refs]
    assert len(refs) == len(KERAS_NAMES) + len(TORCHVISION_NAMES) == 46  # every mapped model is registered
    assert [(name, r.short) for name, r in refs if r.short not in explained] == []


def test_relation_names_the_difference():
    plan = zoo.plan("resnet50", (224, 224, 3), 1000)
    assert relation(plan, 25_636_712) == ("+ conv bias", "ours plus 26,560 convolution biases")
    assert relation(plan, 25_557_032) == ("− BN stats", "ours without the 53,120 batch-norm moving statistics")
    assert relation(plan, 25_000_000) == ("-610,152", "differs from ours by -610,152")
    assert references("resnet20", zoo.plan("resnet20", (224, 224, 3), 1000)) == []


@pytest.mark.parametrize("name", MODELS)
def test_parts_add_up_to_the_plan(families, name):
    m = next(m for f in families for m in f.models if m.name == name)
    grouped = parts(m.spec, m.plan)
    assert sum(p.params for p in grouped) == m.plan.params
    assert sum(p.macs for p in grouped) == m.plan.macs
    assert sum(len(p.nodes) for p in grouped) == len(m.plan.nodes) - 1  # all but the input


def test_parts_follow_the_spec_sections(families):
    docs = {m.name: m for f in families for m in f.models}
    vgg = parts(docs["vgg16"].spec, docs["vgg16"].plan)
    assert [p.label for p in vgg] == [f"features block {b}" for b in range(1, 6)] + ["head"]
    assert vgg[0].spec == "features[0–2]: 2 × conv3-64, maxpool 2×2"
    assert vgg[0].params == 1_792 + 36_928
    resnet = parts(docs["resnet20"].spec, docs["resnet20"].plan)
    assert [p.label for p in resnet] == ["stem", "stages[0]", "stages[1]", "stages[2]", "head"]
    assert resnet[2].spec == "3 × basic block, width 32, stride 2"
    wrn = parts(docs["wrn28_10"].spec, docs["wrn28_10"].plan)
    assert wrn[1].spec == "4 × basic block, width 160, stride 1, pre-activation, dropout 0.3"


def test_model_page_has_spec_plan_and_stages(pages):
    page = pages[model_page("vgg16_bn")]
    assert page.startswith("# vgg16_bn\n")
    assert "vgg16_bn:\n  extends: vgg16\n" in page                 # the spec as written
    assert "`vgg16_bn` → [`vgg16`](vgg16.md) → `_vgg`" in page      # the extends chain
    assert "conv: {kernel: 3, padding: same, activation: relu, bias: true, batch_norm: true}" in page  # resolved
    assert "| 224×224×3 | 32×32×3 | 28×28×1 |" in page
    # VGG's fifth pool does not fit MNIST: marked in the 28×28×1 column and explained.
    assert "| `block5_pool` | max_pool | 7×7×512 | 1×1×512 | **1×1×512** † |" in page
    assert "- at 28×28×1: `block5_pool` (features[17]): skipped: the 2×2 pool does not fit the 1×1 input" in page
    assert "| **total** |  | 1000 | **138,374,440** | **138,365,992** |" in page


def test_model_page_lists_every_layer_or_folds_repeated_blocks(pages, families):
    resnet20 = pages[model_page("resnet20")]
    for node in zoo.plan("resnet20").nodes:
        assert f"| `{node.name}` |" in resnet20 or f"`{node.name}` …" in resnet20 or f"… `{node.name}`" in resnet20
    deep = pages[model_page("resnet1202")]
    assert deep.count("\n| ") < 150  # 600 blocks fold to a few rows per stage
    assert ("| 18–1403 | `conv2_block3_1_conv` … `conv2_block200_out` | 198 blocks like the one above "
            "| 224×224×16 | 32×32×16 | 28×28×16 |") in deep


def test_source_text_finds_the_file_even_from_another_folder():
    entry = registry_module.default_registry().entry("resnet110")
    file, text = source_text(entry)
    assert file is not None and file.endswith("resnet_cifar.yaml")
    assert text.splitlines()[:3] == ["resnet110:    # n = 18", "  extends: _resnet_cifar", "  paper: {row: ResNet-110}"]


def test_a_new_spec_file_brings_its_page(tmp_path, fresh_registry):
    folder = tmp_path / "more"
    folder.mkdir()
    spec = folder / "tiny.yaml"
    text = """\
        tiny_net:
          family: tiny
          description: Two convolutions for a test.
          input_shape: [16, 16, 1]
          classes: 4
          features: [8, M, 16, M]
          head: [{type: flatten}, {type: classifier}]
        """
    spec.write_text(textwrap.dedent(text), encoding="utf-8")
    fresh_registry.setenv("ZOO_SPECS", str(folder))
    pages = generate_pages()
    assert model_page("tiny_net") in pages
    row = overview_rows(pages[OVERVIEW])["tiny_net"]
    assert int(number(row["Parameters"])) == zoo.count("tiny_net")["params"] == 80 + 1_168 + 4 * 4 * 16 * 4 + 4
    assert "## tiny {#tiny}" in pages[OVERVIEW]
    assert "Two convolutions for a test." in pages[model_page("tiny_net")]

    # Editing the spec is the only change needed for the pages to follow.
    spec.write_text(textwrap.dedent(text).replace("[8, M, 16, M]", "[8, M, 32, M]"), encoding="utf-8")
    edited = generate_pages(reload_registry())  # what docs/gen_pages.py does on each (re)build
    assert overview_rows(edited[OVERVIEW])["tiny_net"]["Parameters"] == f"{80 + 2_336 + 4 * 4 * 32 * 4 + 4:,}"
    assert "features: [8, M, 32, M]" in edited[model_page("tiny_net")]


def test_a_model_that_does_not_plan_at_224_still_gets_its_page(tmp_path, fresh_registry):
    # Flattening a 224×224×64 map into 1000 units is 3.2 billion weights, over the planner's limit.
    (tmp_path / "flat.yaml").write_text(
        "flat_net:\n  input_shape: [32, 32, 3]\n  features: [64]\n"
        "  head: [{type: flatten}, {type: classifier}]\n", encoding="utf-8")
    fresh_registry.setenv("ZOO_SPECS", str(tmp_path / "flat.yaml"))
    pages = generate_pages()
    row = overview_rows(pages[OVERVIEW])["flat_net"]
    assert row["MACs at 224×224×3 (M)"] == "—" and row["MACs at 32×32×3 (M)"] != "—"
    page = pages[model_page("flat_net")]
    assert re.search(r"At 224×224×3 the model cannot be planned: [\d,]+ parameters at input 224×224×3; "
                     r"the limit is 2,000,000,000", page)
    assert "| `predictions` | dense | — | 1000 | 1000 |" in page


def test_write_pages_writes_markdown(tmp_path):
    written = write_pages(tmp_path / "out")
    names = {p.relative_to(tmp_path / "out").as_posix() for p in written}
    assert {OVERVIEW, "reference/spec.md", "reference/cli.md"} <= names
    assert {model_page(name) for name in MODELS} <= names


def test_model_page_names_never_clash_with_the_overview():
    assert model_page("index") == "models/index_model.md" != OVERVIEW
    assert model_page("resnet50") == "models/resnet50.md"


def test_spec_reference_documents_every_class_and_field():
    page = spec_reference_page()
    classes = documented_classes()
    defs = ModelSpec.model_json_schema()["$defs"]
    assert {c.__name__ for c in classes} >= set(defs) | {"ModelSpec"}
    sections = re.split(r"\n(?=#{2,3} )", page)
    for cls in classes:
        section = next(s for s in sections if f"{{#{cls.__name__.lower()}}}" in s.splitlines()[0])
        for name, info in cls.model_fields.items():
            assert f"| `{name}` |" in section, (cls.__name__, name)
            if info.description:
                assert info.description.replace("|", r"\|") in section, (cls.__name__, name)
    assert "| `stages` | list of integer 1–10000 | `[]` | Blocks per stage, e.g. `[3, 4, 6, 3]`. |" in page
    assert "| `shortcut` | one of `projection`, `zero_pad`, `avg_down`, `subsample` | `\"projection\"` |" in page
    assert "| `basic`, `bottleneck` | [Residual](#residual) |" in page


def test_cli_reference_is_the_commands_own_help():
    import typer

    from zoo.cli import docs_cmd

    app = typer.Typer(help="Test app.")

    @app.command()
    def hello(name: str = typer.Option("x", help="Who to greet.")) -> None:
        """Say hello."""

    docs_cmd.register(app)
    paths = [path for path, _, _ in commands(app)]
    assert paths == ["zoo", "zoo hello", "zoo docs", "zoo docs build", "zoo docs serve", "zoo docs pages"]
    page = cli_reference_page(app)
    assert "| [`zoo hello`](#zoo-hello) | Say hello. |" in page
    assert "### `zoo docs build` {#zoo-docs-build}" in page
    assert re.search(r"--name <?\w*>?\s+Who to greet\.", page)
    assert "╭" not in page  # plain help, not rich's panels


def test_cli_reference_covers_the_real_app():
    from zoo.cli.main import app

    page = cli_reference_page()
    for path, cmd, _ in commands(app)[1:]:
        assert f"`{path}` {{#" in page
        for param in cmd.params:
            for opt in param.opts:
                if opt.startswith("-"):
                    assert opt in page, (path, opt)


def test_site_nav_lists_every_model_and_drops_missing_pages(tmp_path, families):
    (tmp_path / "index.md").write_text("# x")
    nav = [{"Home": "index.md"}, {"Models": OVERVIEW}, {"Benchmarks": "benchmarks.md"},
           {"Reference": [{"Spec": "reference/spec.md"}, "missing.md"]}, {"Repo": "https://example.com"}]
    out = site_nav(nav, families, tmp_path, {OVERVIEW, "reference/spec.md"})
    assert out[0] == {"Home": "index.md"}
    assert out[1] == {"Models": models_nav(families)}
    assert out[2:] == [{"Reference": [{"Spec": "reference/spec.md"}]}, {"Repo": "https://example.com"}]
    listed = [page for family in out[1]["Models"][1:] for entries in family.values() for e in entries
              for page in e.values()]
    assert sorted(listed) == sorted(model_page(n) for n in MODELS)


def test_pages_are_planned_at_the_three_documented_inputs():
    assert SHAPES == ((224, 224, 3), (32, 32, 3), (28, 28, 1))


def test_reference_rows_name_the_variant_and_the_twin(pages):
    """Equal counts are not equal networks: torchvision's resnet50 is v1.5 with PyTorch's padding."""
    v1 = pages["models/resnet50.md"]
    assert "- **Variant**: ResNet v1 (stride on the first 1×1), TensorFlow's `same` padding\n" in v1
    assert ("- **Twins**: [resnet50_keras](resnet50_keras.md) is keras.applications `ResNet50`, with a bias on "
            "every convolution, batch-norm epsilon 1.001e-5, batch-norm momentum 0.99; "
            "[resnet50_tv](resnet50_tv.md) is torchvision `resnet50`, with ResNet v1.5 (stride on the 3×3), "
            "PyTorch's symmetric padding\n") in v1
    assert ("not the same network (theirs: ResNet v1.5 (stride on the 3×3), PyTorch's symmetric padding); "
            "`resnet50_tv` is theirs") in v1
    tv = pages["models/resnet50_tv.md"]
    assert "- **Variant**: ResNet v1.5 (stride on the 3×3), PyTorch's symmetric padding\n" in tv
    assert "- **Twins**: this is torchvision `resnet50`: its weights load and give its outputs\n" in tv
