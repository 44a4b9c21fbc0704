"""Recipes load like specs; schedules give the learning rates they promise."""

from __future__ import annotations

import math

import pytest

from zoo.errors import SpecError
from zoo.training.recipe import list_recipes, load_recipe, with_overrides


def test_seed_recipes_match_the_seed_report():
    _, vgg = load_recipe("vgg_seed")
    assert (vgg.optimizer.type, vgg.optimizer.lr, vgg.optimizer.momentum) == ("sgd", 0.01, 0.9)
    assert (vgg.batch_size, vgg.epochs, vgg.validation_split) == (128, 50, 0.2)
    _, resnet = load_recipe("resnet_seed")
    assert (resnet.optimizer.type, resnet.optimizer.lr, resnet.batch_size, resnet.epochs) == ("adam", 0.001, 128, 50)
    assert {"vgg_seed", "resnet_seed", "cifar_fast", "mnist_fast"} <= set(list_recipes())


def test_unknown_recipe_suggests_names():
    with pytest.raises(SpecError.__mro__[1]) as info:
        load_recipe("vgg_sed")
    assert str(info.value) == "unknown recipe 'vgg_sed' (did you mean: vgg_seed?)"


def test_bad_recipe_field_names_file_line_and_path(write_spec):
    path = write_spec("""
        mine:
          optimizer: {type: sgd, lr: -1}
    """, "recipe.yaml")
    with pytest.raises(SpecError) as info:
        load_recipe(str(path))
    assert str(info.value) == "recipe.yaml:2: mine.optimizer.lr: must be > 0 (got -1)"


def test_overrides_are_validated():
    _, recipe = load_recipe("vgg_seed")
    assert with_overrides(recipe, epochs=3, batch_size=None).epochs == 3
    with pytest.raises(SpecError) as info:
        with_overrides(recipe, batch_size=0)
    assert str(info.value) == "--batch-size: must be >= 1 (got 0)"


def lr_at(schedule, step: int) -> float:
    return float(schedule(step))


def test_warmup_then_cosine_reaches_zero():
    from zoo.training.schedule import WarmupSchedule

    s = WarmupSchedule("cosine", peak=0.1, total_steps=110, warmup_steps=10)
    assert lr_at(s, 0) == pytest.approx(0.01)      # (0 + 1) / 10 of the peak
    assert lr_at(s, 9) == pytest.approx(0.1)
    assert lr_at(s, 10) == pytest.approx(0.1)
    assert lr_at(s, 60) == pytest.approx(0.05, rel=1e-5)  # halfway down the cosine
    assert lr_at(s, 110) == pytest.approx(0.0, abs=1e-9)


def test_step_schedule_multiplies_at_milestones():
    from zoo.training.schedule import WarmupSchedule

    s = WarmupSchedule("step", peak=1.0, total_steps=100, milestones=(30, 60), gamma=0.1)
    assert [round(lr_at(s, k), 6) for k in (0, 29, 30, 59, 60, 99)] == [1.0, 1.0, 0.1, 0.1, 0.01, 0.01]


def test_onecycle_ramps_up_then_anneals_linearly():
    from zoo.training.schedule import WarmupSchedule

    s = WarmupSchedule("onecycle", peak=0.4, total_steps=100, warmup_steps=20, final_fraction=0.0)
    assert lr_at(s, 19) == pytest.approx(0.4)
    assert lr_at(s, 60) == pytest.approx(0.2)
    assert math.isclose(lr_at(s, 100), 0.0, abs_tol=1e-9)


def test_misspelt_recipe_field_is_suggested(write_spec):
    path = write_spec("""
        mine:
          optimizer: {type: sgd, lr: 0.1, momentun: 0.9}
    """, "recipe.yaml")
    with pytest.raises(SpecError) as info:
        load_recipe(str(path))
    assert str(info.value) == "recipe.yaml:2: mine.optimizer.momentun: unknown field (did you mean 'momentum'?)"


@pytest.mark.parametrize("extends,message", [
    ("[x]", "recipe.yaml:2: mine.extends: must be a recipe name (got ['x'])"),
    ("vgg_sed", "recipe.yaml:2: mine.extends: extends unknown recipe 'vgg_sed' (did you mean: vgg_seed?)"),
])
def test_bad_recipe_extends_is_one_line(write_spec, extends, message):
    path = write_spec(f"""
        mine:
          extends: {extends}
          epochs: 2
    """, "recipe.yaml")
    with pytest.raises(SpecError) as info:
        load_recipe(str(path))
    assert str(info.value) == message


def test_recipe_extends_a_shipped_recipe(write_spec):
    path = write_spec("""
        mine:
          extends: vgg_seed
          epochs: 2
    """, "recipe.yaml")
    name, recipe = load_recipe(str(path))
    assert (name, recipe.epochs, recipe.optimizer.lr, recipe.batch_size) == ("mine", 2, 0.01, 128)
