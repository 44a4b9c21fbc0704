"""Training recipes: YAML files with the same loader, schema style and errors as model specs."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from zoo.errors import SpecError, UnknownModelError
from zoo.spec.registry import Registry, builtin_spec_dir
from zoo.spec.yamlfile import LineDict

Fraction = Annotated[float, Field(ge=0, lt=1)]
Positive = Annotated[float, Field(gt=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False)  # `.inf`, `.nan`


class Optimizer(_Strict):
    type: Literal["sgd", "adam", "adamw"] = "sgd"
    lr: Annotated[float, Field(gt=0, le=10)] = Field(0.01, description="Peak learning rate.")
    momentum: Fraction = Field(0.9, description="SGD only.")
    nesterov: bool = Field(False, description="SGD only.")
    beta_1: Fraction = 0.9
    beta_2: Fraction = 0.999
    epsilon: Positive = 1e-7


class Schedule(_Strict):
    type: Literal["constant", "step", "cosine", "onecycle"] = "constant"
    warmup_epochs: Annotated[float, Field(ge=0)] = Field(0, description="Linear warm-up from zero.")
    milestones: list[Annotated[float, Field(gt=0)]] = Field([], description="`step`: epochs at which lr is multiplied by `gamma`.")
    gamma: Annotated[float, Field(gt=0, le=1)] = 0.1
    final_fraction: Annotated[float, Field(ge=0, le=1)] = Field(0.0, description="`cosine`/`onecycle`: final lr as a fraction of the peak.")


class Augment(_Strict):
    crop_padding: Annotated[int, Field(ge=0, le=64)] = Field(0, description="Random crop after zero padding by this many pixels.")
    flip: bool = Field(False, description="Random horizontal flip.")


class Recipe(_Strict):
    """How to train: optimizer, schedule, regularisation, batch, epochs, precision."""
    extends: str | None = None
    description: str = ""
    optimizer: Optimizer = Optimizer()
    schedule: Schedule = Schedule()
    weight_decay: Annotated[float, Field(ge=0, lt=1)] = Field(0.0, description="Decoupled; not applied to biases or batch norm.")
    label_smoothing: Fraction = 0.0
    batch_size: Annotated[int, Field(ge=1, le=65_536)] = 128
    epochs: Annotated[int, Field(ge=1, le=100_000)] = 10
    validation_split: Annotated[float, Field(ge=0, lt=1)] = 0.2
    augment: Augment = Augment()
    precision: Literal["float32", "mixed_float16", "mixed_bfloat16"] = "float32"
    jit: Literal["auto", "on", "off"] = Field("auto", description="XLA; `auto` is off on CPU (slower there), on on GPU.")
    steps_per_execution: Annotated[int, Field(ge=1, le=10_000)] = 1
    precise_bn_batches: Annotated[int, Field(ge=0, le=10_000)] = Field(
        20, description="Re-estimate batch-norm statistics over this many training batches before each evaluation (0: off).")
    test_flip: bool = Field(False, description="Test on each image and its mirror image, averaging the class probabilities (the final test only).")
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0


def recipe_dir() -> Path:
    return builtin_spec_dir() / "recipes"


def recipe_registry() -> Registry:
    """The shipped recipes, read with the spec machinery: same errors, same `extends`."""
    registry = Registry(kind="recipe")
    for path in sorted(recipe_dir().glob("*.yaml")):
        registry.add_file(path)
    return registry


def list_recipes() -> list[str]:
    return recipe_registry().all_names()


def load_recipe(name_or_path: str) -> tuple[str, Recipe]:
    """A shipped recipe name, a recipe file, or ``file.yaml:name`` → (name, Recipe)."""
    registry = recipe_registry()
    wanted = name_or_path
    if name_or_path.endswith((".yaml", ".yml", ".json")) or "/" in name_or_path or ":" in name_or_path:
        file, _, wanted = name_or_path.partition(":") if not Path(name_or_path).exists() else (name_or_path, "", "")
        registry = Registry(parent=registry, kind="recipe")
        names = registry.add_file(file)
        if not wanted:
            if len(names) != 1:
                raise UnknownModelError(f"holds {len(names)} recipes; name one as {file}:NAME", file=file)
            wanted = names[0]
    if registry.entry(wanted) is None:
        known = registry.all_names()
        close = difflib.get_close_matches(wanted, known, n=3, cutoff=0.5)
        hint = f" (did you mean: {', '.join(close)}?)" if close else f" (known: {', '.join(sorted(known))})"
        raise UnknownModelError(f"unknown recipe {wanted!r}{hint}")
    return wanted, validate_recipe(wanted, registry.resolved(wanted))


def validate_recipe(name: str, raw: LineDict) -> Recipe:
    from zoo.spec.validate import validate_fields

    return validate_fields(Recipe, name, raw)


def with_overrides(recipe: Recipe, **changes) -> Recipe:
    """The recipe with command-line overrides (None means keep)."""
    changes = {k: v for k, v in changes.items() if v is not None}
    if not changes:
        return recipe
    try:
        return Recipe.model_validate({**recipe.model_dump(), **changes})
    except ValidationError as e:
        err = e.errors()[0]
        from zoo.spec.validate import _value_message

        field = "--" + str(err["loc"][0]).replace("_", "-")
        raise SpecError(_value_message(err["type"], err.get("ctx", {}), err.get("input"), err["msg"]),
                        path=field) from None
