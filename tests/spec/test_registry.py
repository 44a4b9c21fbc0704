"""The registry: names, `extends` chains, user files next to the zoo's, and `file.yaml:name`."""

from __future__ import annotations

import difflib

import pytest

import zoo
from zoo.spec import registry as registry_module
from zoo.spec.registry import MAX_EXTENDS_DEPTH, Registry


def spec_error(registry: Registry, name: str) -> zoo.SpecError:
    with pytest.raises(zoo.SpecError) as info:
        registry.spec(name)
    assert "\n" not in str(info.value)
    return info.value


def load_error(selector: str, kind=zoo.ZooError) -> str:
    with pytest.raises(kind) as info:
        zoo.load_spec(selector)
    assert "\n" not in str(info.value)
    return str(info.value)


# -- extends -------------------------------------------------------------------------------------

def test_extends_cycle_names_the_whole_loop(write_spec):
    path = write_spec("""
        a:
          extends: b
          head: [{type: flatten}]
        b:
          extends: a
    """)
    assert load_error(f"{path}:a") == "spec.yaml:5: b.extends: extends cycle: a -> b -> a"
    assert load_error(f"{path}:b") == "spec.yaml:2: a.extends: extends cycle: b -> a -> b"


def test_a_model_extending_itself(write_spec):
    path = write_spec("a:\n  head: [{type: flatten}]\n  extends: a\n")
    assert load_error(str(path)) == "spec.yaml:3: a.extends: extends cycle: a -> a"


def test_a_three_model_cycle_entered_from_outside(write_spec):
    path = write_spec("""
        top:
          extends: a
        a:
          extends: b
        b:
          extends: c
        c:
          extends: a
    """)
    assert load_error(f"{path}:top") == "spec.yaml:8: c.extends: extends cycle: top -> a -> b -> c -> a"


def test_missing_parent_suggests_close_names(write_spec):
    path = write_spec("""
        _base:
          abstract: true
          head: [{type: flatten}]
        child:
          extends: _bsae
    """)
    registry = Registry()
    registry.add_file(path)
    assert str(spec_error(registry, "child")) == ("spec.yaml:5: child.extends: extends unknown model '_bsae' "
                                                  "(did you mean: _base?)")


def test_missing_parent_against_the_zoo(write_spec):
    path = write_spec("a:\n  extends: resnet5\n  classes: 10\n")
    close = difflib.get_close_matches("resnet5", zoo.spec.registry.default_registry().all_names(), n=3, cutoff=0.5)
    assert "resnet50" in close
    assert load_error(str(path)) == (f"spec.yaml:2: a.extends: extends unknown model 'resnet5' "
                                     f"(did you mean: {', '.join(close)}?)")


def test_missing_parent_with_nothing_close(write_spec):
    registry = Registry()
    registry.add_file(write_spec("a:\n  extends: transformer\n"))
    assert str(spec_error(registry, "a")) == "spec.yaml:2: a.extends: extends unknown model 'transformer'"


def test_missing_grandparent_points_at_the_parent(write_spec):
    path = write_spec("""
        a:
          extends: b
          head: [{type: flatten}]
        b:
          abstract: true
          extends: nowhere
    """)
    assert load_error(f"{path}:a") == "spec.yaml:6: b.extends: extends unknown model 'nowhere'"


def test_extends_must_be_a_name(write_spec):
    path = write_spec("a:\n  extends: [resnet18]\n")
    assert load_error(str(path)) == "spec.yaml:2: a.extends: must be a model name (got ['resnet18'])"


def test_very_long_chains_are_refused(write_spec):
    rows = [f"m{i}:\n  extends: m{i + 1}\n" for i in range(MAX_EXTENDS_DEPTH + 1)]
    path = write_spec("".join(rows) + f"m{MAX_EXTENDS_DEPTH + 1}:\n  head: [{{type: flatten}}]\n")
    assert load_error(f"{path}:m0") == f"spec.yaml:64: m31.extends: extends chain is longer than {MAX_EXTENDS_DEPTH} models"
    assert zoo.load_spec(f"{path}:m2").head[0].type == "flatten"  # m2 … m33: 32 models are fine


# -- parents in other files ---------------------------------------------------------------------

@pytest.fixture
def zoo_specs(monkeypatch):
    """Point $ZOO_SPECS somewhere and rebuild the default registry; both are restored afterwards."""
    def use(*paths):
        monkeypatch.setenv("ZOO_SPECS", ":".join(str(p) for p in paths))
        monkeypatch.setattr(registry_module, "_default", None)
    return use


def test_error_in_a_parent_file_points_at_that_file(write_spec, zoo_specs):
    base = write_spec("""
        # a team's shared bases
        _team_base:
          abstract: true
          conv: {bias: false, batch_norm: true}
          features: [64, 64, M, 128, 0, M]
          head: [{type: global_pool}, {type: classifier}]
    """, name="base.yaml")
    child = write_spec("mine:\n  extends: _team_base\n  classes: 10\n", name="mine.yaml")
    zoo_specs(base)
    assert load_error(str(child)) == "base.yaml:5: mine.features[4].filters: must be >= 1 (got 0)"
    assert base.read_text().splitlines()[4] == "  features: [64, 64, M, 128, 0, M]"


def test_parent_file_error_through_registries(write_spec):
    base = write_spec("_b:\n  abstract: true\n  head:\n    - {type: dense, units: -1}\n", name="base.yaml")
    child = write_spec("\n\nmine:\n  extends: _b\n", name="mine.yaml")
    parent = Registry()
    parent.add_file(base)
    local = Registry(parent=parent)
    local.add_file(child)
    assert str(spec_error(local, "mine")) == "base.yaml:4: mine.head[0].units: must be >= 1 (got -1)"


def test_a_model_defined_in_two_files(write_spec):
    first = write_spec("# first\nm:\n  head: [{type: flatten}]\n", name="a.yaml")
    second = write_spec("m:\n  head: [{type: flatten}]\n", name="b.yaml")
    registry = Registry()
    registry.add_file(first)
    with pytest.raises(zoo.SpecError) as info:
        registry.add_file(second)
    assert str(info.value) == "b.yaml:1: model 'm' is defined twice (also in a.yaml:2)"


# -- user files where zoo names go --------------------------------------------------------------

def test_user_spec_extends_a_zoo_model(write_spec):
    path = write_spec("mine:\n  extends: resnet18\n  classes: 10\n")
    spec = zoo.load_spec(str(path))
    assert spec.classes == 10 and spec.stages == [2, 2, 2, 2]
    # Only the classifier changes: 512·10 + 10 weights instead of 512·1000 + 1000.
    assert zoo.count(str(path))["params"] == zoo.count("resnet18")["params"] - 512 * 990 - 990
    assert zoo.plan(str(path)).output_shape == (10,)


def test_user_spec_may_reuse_its_parents_name(write_spec):
    path = write_spec("resnet18:\n  extends: resnet18\n  classes: 10\n")
    spec = zoo.load_spec(str(path))
    assert spec.classes == 10 and spec.stages == [2, 2, 2, 2]
    assert zoo.load_spec("resnet18").classes == 1000


def test_a_user_file_cannot_change_what_builtins_extend(write_spec):
    # vgg11_lrn extends vgg11; a user's own vgg11 must not leak into it.
    path = write_spec("vgg11:\n  extends: vgg11\n  classes: 3\nmine:\n  extends: vgg11_lrn\n")
    assert zoo.load_spec(f"{path}:vgg11").classes == 3
    assert zoo.load_spec(f"{path}:mine").classes == 1000


def test_mappings_merge_and_lists_replace(write_spec):
    path = write_spec("mine:\n  extends: resnet50_keras\n  conv: {bias: false}\n  widths: [8, 16, 32, 64]\n")
    spec = zoo.load_spec(str(path))
    assert spec.conv.bias is False and spec.conv.bn_epsilon == 1.001e-5  # the twin's other conv fields stay
    assert spec.widths == [8, 16, 32, 64] and spec.stages == [3, 4, 6, 3]


def test_file_colon_name_selects_one_model(write_spec):
    path = write_spec("""
        _small:
          abstract: true
          input_shape: [32, 32, 3]
          head: [{type: flatten}, {type: classifier}]
        tiny:
          extends: _small
          features: [8, M]
        wider:
          extends: _small
          features: [16, M]
    """)
    assert zoo.load_spec(f"{path}:wider").features[0].filters == 16
    assert zoo.plan(f"{path}:tiny", classes=3).params == (3 * 3 * 3 * 8 + 8) + (16 * 16 * 8 * 3 + 3)
    assert load_error(str(path), zoo.UnknownModelError) == ("spec.yaml: holds 2 models (tiny, wider); "
                                                            "name one as spec.yaml:NAME")
    assert load_error(f"{path}:wide", zoo.UnknownModelError) == ("spec.yaml: no model 'wide' in this file "
                                                                 "(did you mean: wider?)")
    assert load_error(f"{path}:_small", zoo.UnknownModelError) == "spec.yaml: no model '_small' in this file"


def test_a_file_of_abstract_bases_only(write_spec):
    path = write_spec("_b:\n  abstract: true\n  head: [{type: flatten}]\n")
    assert load_error(str(path), zoo.UnknownModelError) == "spec.yaml: holds no models to build, only abstract bases"


def test_unknown_zoo_name_suggests_close_names():
    close = difflib.get_close_matches("resnet5", zoo.list_models(), n=3, cutoff=0.5)
    assert "resnet50" in close
    assert load_error("resnet5", zoo.UnknownModelError) == f"unknown model 'resnet5' (did you mean: {', '.join(close)}?)"


def test_abstract_bases_are_not_models():
    assert "_resnet" not in zoo.list_models()
    assert load_error("_resnet", zoo.UnknownModelError).startswith("unknown model '_resnet' (did you mean: ")


def test_unknown_name_with_nothing_close():
    assert load_error("qqqqqqqqqqqq", zoo.UnknownModelError) == "unknown model 'qqqqqqqqqqqq' (see `zoo list`)"
