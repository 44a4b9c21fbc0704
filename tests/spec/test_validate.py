"""Field errors: one line with the file, the line of the offending key, the field path and the value."""

from __future__ import annotations

import time

import pytest

import zoo
from zoo.spec.registry import default_registry
from zoo.spec.schema import LAYER_TYPES
from zoo.spec.validate import MAX_LAYERS

TYPES = ", ".join(LAYER_TYPES)  # the message lists every kind; new kinds must not break these tests


def first_error(path, select: str = "") -> zoo.SpecError:
    with pytest.raises(zoo.SpecError) as info:
        zoo.load_spec(f"{path}{select}")
    assert "\n" not in str(info.value)
    return info.value


def error_line(path, select: str = "") -> str:
    return str(first_error(path, select))


def line_text(path, error: zoo.ZooError) -> str:
    return path.read_text(encoding="utf-8").splitlines()[error.line - 1]


# -- layer types --------------------------------------------------------------------------------

def test_unknown_type_suggests_the_closest(write_spec):
    path = write_spec("""
        m:
          features:
            - 64
            - {type: convv, filters: 3}
          head: [{type: flatten}]
    """)
    assert error_line(path) == (f"spec.yaml:4: m.features[1].type: unknown type 'convv' (did you mean 'conv'?) "
                                f"(expected one of: {TYPES})")


def test_unknown_type_points_at_the_type_key_in_a_block_mapping(write_spec):
    path = write_spec("""
        m:
          head:
            - name: out
              type: globalpool
    """)
    error = first_error(path)
    assert str(error) == (f"spec.yaml:4: m.head[0].type: unknown type 'globalpool' (did you mean 'global_pool'?) "
                          f"(expected one of: {TYPES})")
    assert line_text(path, error) == "      type: globalpool"


def test_unknown_type_with_nothing_close(write_spec):
    path = write_spec("m:\n  head: [{type: transformer}]\n")
    assert error_line(path) == f"spec.yaml:2: m.head[0].type: unknown type 'transformer' (expected one of: {TYPES})"


def test_missing_type(write_spec):
    path = write_spec("""
        m:
          features:
            - filters: 3
              kernel: 3
          head: [{type: flatten}]
    """)
    assert error_line(path) == f"spec.yaml:3: m.features[0]: layer has no `type:` (expected one of: {TYPES})"


@pytest.mark.parametrize("item,shown", [("64.5", "64.5"), ("flatten", "'flatten'"), ("true", "True"), ("~", "None")])
def test_shorthand_that_is_not_a_layer(write_spec, item, shown):
    path = write_spec(f"m:\n  features: [64, {item}, M]\n  head: [{{type: flatten}}]\n")
    assert error_line(path) == ("spec.yaml:2: m.features[1]: must be a layer mapping with a `type:`, an integer "
                                f"(a 3×3 convolution's filters) or 'M' (2×2 max pooling) (got {shown})")


# -- unknown and misspelt fields ----------------------------------------------------------------

def test_misspelt_top_level_field(write_spec):
    path = write_spec("""
        m:
          featurs: [64]
          head: [{type: flatten}]
    """)
    assert error_line(path) == "spec.yaml:2: m.featurs: unknown field (did you mean 'features'?)"


def test_misspelt_field_in_a_layer_is_one_problem_not_two(write_spec):
    # `filtres` also leaves `filters` missing; only the misspelling is reported.
    path = write_spec("""
        m:
          features:
            - type: conv
              filtres: 64
          head: [{type: flatten}]
    """)
    error = first_error(path)
    assert error.all_lines() == ["spec.yaml:4: m.features[0].filtres: unknown field (did you mean 'filters'?)"]
    assert line_text(path, error) == "      filtres: 64"


def test_missing_required_field_in_a_layer(write_spec):
    path = write_spec("m:\n  features: [{type: conv, kernel: 3}]\n  head: [{type: flatten}]\n")
    assert first_error(path).all_lines() == ["spec.yaml:2: m.features[0].filters: required field is missing"]


def test_misspelt_field_in_conv_defaults(write_spec):
    path = write_spec("""
        m:
          conv:
            bias: false
            kernal: 3
          features: [64]
          head: [{type: flatten}]
    """)
    assert error_line(path) == "spec.yaml:4: m.conv.kernal: unknown field (did you mean 'kernel'?)"


def test_field_of_another_layer_kind(write_spec):
    path = write_spec("m:\n  head: [{type: flatten}, {type: dense, units: 10, filters: 3}]\n")
    assert error_line(path) == "spec.yaml:2: m.head[1].filters: unknown field"


def test_misspelt_field_inside_a_repeat(write_spec):
    path = write_spec("""
        m:
          features:
            - type: repeat
              times: 2
              layers:
                - {type: conv, filters: 8, strid: 2}
          head: [{type: flatten}]
    """)
    assert error_line(path) == "spec.yaml:6: m.features[0].layers[0].strid: unknown field (did you mean 'stride'?)"


# -- wrong types --------------------------------------------------------------------------------

@pytest.mark.parametrize("value,message", [
    ('"64"', "must be an integer (got '64')"),
    ("true", "must be an integer (got True)"),
    ("64.0", "must be an integer (got 64.0)"),
    ("64.5", "must be an integer (got 64.5)"),
    ("[64]", "must be an integer (got [64])"),
    ("~", "must be an integer (got None)"),
])
def test_filters_must_be_an_integer(write_spec, value, message):
    path = write_spec(f"m:\n  features:\n    - type: conv\n      filters: {value}\n  head: [{{type: flatten}}]\n")
    assert error_line(path) == f"spec.yaml:4: m.features[0].filters: {message}"


def test_wrong_types_at_top_level_all_reported(write_spec):
    path = write_spec("""
        m:
          input_shape: "28,28,1"
          classes: "10"
          abstract: 1
          head: {type: flatten}
    """)
    assert first_error(path).all_lines() == [
        "spec.yaml:2: m.input_shape: must be a list (got '28,28,1')",
        "spec.yaml:3: m.classes: must be an integer (got '10')",
        "spec.yaml:4: m.abstract: must be true or false (got 1)",
        "spec.yaml:5: m.head: must be a list (got {'type': 'flatten'})",
    ]


def test_float_bounds_read_as_written(write_spec):
    path = write_spec("m:\n  conv: {bn_epsilon: 0, bn_momentum: 1.5}\n  head: [{type: flatten}]\n")
    assert first_error(path).all_lines() == ["spec.yaml:2: m.conv.bn_epsilon: must be > 0 (got 0)",
                                             "spec.yaml:2: m.conv.bn_momentum: must be < 1 (got 1.5)"]


@pytest.mark.parametrize("section", ["conv: {type: [x], kernal: 3}", "block: {type: [basic], foo: 1}",
                                     "paper: {type: {a: 1}, titel: x}"])
def test_a_section_with_a_type_of_any_shape(write_spec, section):
    # The suggestion for a misspelt field looked the mapping's `type` up in a dict: a list there crashed.
    path = write_spec(f"m:\n  {section}\n  head: [{{type: flatten}}]\n")
    assert all(line.startswith("spec.yaml:2: m.") for line in first_error(path).all_lines())


def test_choices(write_spec):
    path = write_spec("m:\n  conv: {padding: full}\n  head: [{type: flatten}]\n")
    assert error_line(path) == "spec.yaml:2: m.conv.padding: must be one of 'same' or 'valid' (got 'full')"


# -- bounds ------------------------------------------------------------------------------------

def test_zero_repeats_in_a_stage(write_spec):
    path = write_spec("""
        resnet50_broken:
          extends: resnet50
          stages: [3, 4, 0, 3]
    """)
    assert error_line(path) == "spec.yaml:3: resnet50_broken.stages[2]: must be >= 1 (got 0)"


def test_stage_items_on_their_own_lines(write_spec):
    path = write_spec("""
        r:
          extends: resnet18
          stages:
            - 2
            - 2
            - -1
            - 2
    """)
    error = first_error(path)
    assert str(error) == "spec.yaml:6: r.stages[2]: must be >= 1 (got -1)"
    assert line_text(path, error) == "    - -1"


@pytest.mark.parametrize("layer,message", [
    ("{type: conv, filters: 0}", "m.features[0].filters: must be >= 1 (got 0)"),
    ("{type: conv, filters: -64}", "m.features[0].filters: must be >= 1 (got -64)"),
    ("{type: conv, filters: 8, kernel: 0}", "m.features[0].kernel: must be >= 1 (got 0)"),
    ("{type: conv, filters: 8, kernel: [3, -1]}", "m.features[0].kernel[1]: must be >= 1 (got -1)"),
    ("{type: conv, filters: 8, kernel: [3, 3, 3]}", "m.features[0].kernel: must have at most 2 items (got 3)"),
    ("{type: conv, filters: 8, stride: 0}", "m.features[0].stride: must be >= 1 (got 0)"),
    ("{type: maxpool, pool: -2}", "m.features[0].pool: must be >= 1 (got -2)"),
    ("{type: repeat, times: 0, layers: [8]}", "m.features[0].times: must be >= 1 (got 0)"),
    ("{type: repeat, times: 2, layers: []}", "m.features[0].layers: must have at least 1 items (got 0)"),
    ("{type: lrn, size: 4}", "m.features[0].size: must be odd (got 4)"),
    ("{type: basic, filters: 0}", "m.features[0].filters: must be >= 1 (got 0)"),
])
def test_non_positive_sizes(write_spec, layer, message):
    path = write_spec(f"m:\n  features: [{layer}]\n  head: [{{type: flatten}}]\n")
    assert error_line(path) == f"spec.yaml:2: {message}"


def test_negative_shorthand_filters(write_spec):
    path = write_spec("m:\n  features: [64, -3, M]\n  head: [{type: flatten}]\n")
    assert error_line(path) == "spec.yaml:2: m.features[1].filters: must be >= 1 (got -3)"


@pytest.mark.parametrize("field,value,message", [
    ("features", "[{type: conv, filters: 1000000000}]", "m.features[0].filters: must be <= 65536 (got 1000000000)"),
    ("features", "[1000000000]", "m.features[0].filters: must be <= 65536 (got 1000000000)"),
    ("head", "[{type: dense, units: 1000000000}]", "m.head[0].units: must be <= 1048576 (got 1000000000)"),
    ("input_shape", "[100000, 100000, 3]", "m.input_shape[0]: must be <= 32768 (got 100000)"),
    ("classes", "1000000000", "m.classes: must be <= 1048576 (got 1000000000)"),
    ("features", "[{type: conv, filters: 8, kernel: 100000}]", "m.features[0].kernel: must be <= 256 (got 100000)"),
])
def test_absurd_sizes_are_refused(write_spec, field, value, message):
    path = write_spec(f"m:\n  {field}: {value}\n  stem: [{{type: flatten}}]\n")
    assert error_line(path) == f"spec.yaml:2: {message}"


def test_nested_repeats_are_refused_before_planning(write_spec):
    # 10,000 × 10,000 activations: 10⁸ plan nodes, more time and memory than any machine gives; refused at load.
    path = write_spec("""
        m:
          features:
            - type: repeat
              times: 10000
              layers: [{type: repeat, times: 10000, layers: [{type: activation}]}]
          head: [{type: flatten}]
    """)
    start = time.perf_counter()
    assert error_line(path) == ("spec.yaml:1: m: 100,000,001 layers once repeats and stages are unrolled; "
                                "the limit is 10,000")
    assert time.perf_counter() - start < 1


def test_long_stage_lists_are_refused(write_spec):
    path = write_spec("""
        r:
          extends: resnet18
          stages: [10000, 10000, 10000, 10000]
    """)
    assert error_line(path) == ("spec.yaml:1: r: 40,004 layers once repeats and stages are unrolled; "
                                "the limit is 10,000")


def test_the_layer_limit_is_inclusive(write_spec):
    path = write_spec(f"m:\n  features: [{{type: repeat, times: {MAX_LAYERS - 1}, layers: [{{type: activation}}]}}]\n"
                      "  head: [{type: flatten}]\n")
    assert zoo.load_spec(str(path)).features[0].times == MAX_LAYERS - 1


# -- rules across fields -----------------------------------------------------------------------

def test_every_problem_is_listed_in_file_order(write_spec):
    path = write_spec("""
        m:
          conv: {padding: full, kernal: 3}
          features: [64, 0, M, {type: conv, filters: true, stride: 0}]
          head:
            - {type: flatten}
            - {type: dropout, rate: 1.5}
            - {type: classifier, name: 9x}
    """)
    assert first_error(path).all_lines() == [
        "spec.yaml:2: m.conv.padding: must be one of 'same' or 'valid' (got 'full')",
        "spec.yaml:2: m.conv.kernal: unknown field (did you mean 'kernel'?)",
        "spec.yaml:3: m.features[1].filters: must be >= 1 (got 0)",
        "spec.yaml:3: m.features[3].filters: must be an integer (got True)",
        "spec.yaml:3: m.features[3].stride: must be >= 1 (got 0)",
        "spec.yaml:6: m.head[1].rate: must be < 1 (got 1.5)",
        "spec.yaml:7: m.head[2].name: must be a name of letters, digits and underscores starting with a letter (got '9x')",
    ]


def test_stage_lists_of_different_lengths(write_spec):
    path = write_spec("""
        m:
          block: {type: basic}
          stages: [2, 2]
          widths: [64]
          strides: [1, 2, 2]
    """)
    assert first_error(path).all_lines() == [
        "spec.yaml:4: m.widths: must have one entry per stage (2 stages, got 1)",
        "spec.yaml:5: m.strides: must have one entry per stage (2 stages, got 3)",
    ]


def test_stages_without_a_block(write_spec):
    path = write_spec("m:\n  stages: [2, 2]\n  widths: [64, 128]\n")
    assert error_line(path) == "spec.yaml:1: m.block: required when `stages` is given"


def test_a_model_with_no_layers_points_at_its_name(write_spec):
    path = write_spec("""
        # nothing but metadata
        m:

          description: empty
    """)
    assert error_line(path) == "spec.yaml:2: m: has no layers: give at least one of stem, features, stages, head"


def test_errors_in_a_parent_point_at_the_parent(write_spec):
    path = write_spec("""
        _base:
          abstract: true
          conv: {kernel: 0}
          head: [{type: flatten}]

        child:
          extends: _base
          features: [64]
    """)
    error = first_error(path, ":child")
    assert str(error) == "spec.yaml:3: child.conv.kernel: must be >= 1 (got 0)"
    assert line_text(path, error) == "  conv: {kernel: 0}"


def test_a_child_override_mends_its_parent(write_spec):
    path = write_spec("""
        _base:
          abstract: true
          conv: {kernel: 0}
          head: [{type: flatten}]
        child:
          extends: _base
          conv: {kernel: 5}
          features: [64]
    """)
    assert zoo.load_spec(f"{path}:child").conv.kernel == [5, 5]


def test_a_conflict_with_an_inherited_field_names_the_users_line(write_spec):
    # widths and strides come from the zoo's resnet.yaml; the user's `stages` is what breaks the rule
    path = write_spec("""
        mine:
          extends: resnet18
          description: three stages
          stages: [1, 1, 1]
    """)
    resnet = default_registry().entry("resnet18").file  # as the registry read it
    error = first_error(path)
    assert error.all_lines() == [
        f"spec.yaml:4: mine.stages: conflicts with the inherited `widths` ({resnet}:22): "
        "`widths` must have one entry per stage (3 stages, got 4)",
        f"spec.yaml:4: mine.stages: conflicts with the inherited `strides` ({resnet}:23): "
        "`strides` must have one entry per stage (3 stages, got 4)",
    ]
    assert line_text(path, error) == "  stages: [1, 1, 1]"


def test_a_conflict_the_user_wrote_is_at_the_users_field(write_spec):
    path = write_spec("""
        mine:
          extends: resnet18
          widths: [8, 16]
    """)
    assert error_line(path) == "spec.yaml:3: mine.widths: must have one entry per stage (4 stages, got 2)"
