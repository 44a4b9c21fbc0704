"""`--resume`: every setting comes back from the run's config.json, not from the command's defaults.

A run records its settings when it starts (``settings`` and ``recipe`` in config.json). Resuming
restores all of them. An option given again with the stored value is fine; one that contradicts
it is refused with one line naming both values, except the settings that may change on resume
(``MAY_CHANGE``): those are applied and recorded under ``resumes`` in config.json.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from zoo.training.recipe import Recipe
from zoo.training.runfiles import Config, RunFileError, State, read_json, read_state

# Options as the CLI spells them, and whether they live in the settings or in the recipe.
SETTINGS = {"spec": "SPEC", "dataset": "--dataset", "data_dir": "--data-dir", "recipe": "--recipe",
            "limit": "--limit", "test_limit": "--test-limit", "strategy": "--strategy",
            "input_size": "--input-size", "weights": "--weights"}
# Settings added after runs were first written: an older config.json without them had the default.
ADDED_LATER = {"weights": None}
RECIPE = {"epochs": "--epochs", "batch_size": "--batch-size", "seed": "--seed", "precision": "--precision",
          "precise_bn_batches": "--precise-bn-batches", "jit": "--jit"}
# How the run reads its data or compiles, or how long it goes on: not what it learns from.
MAY_CHANGE = {"epochs", "jit", "cache", "max_memory"}


class ResumeError(RunFileError):
    """``--resume`` was given an option that contradicts the run, or the run cannot be continued."""


@dataclass
class Restored:
    options: dict[str, Any]  # spec, dataset, data_dir, recipe, limit, test_limit, strategy, input_size
    recipe_name: str
    recipe: Recipe
    state: State
    config: Config
    changed: dict[str, list] = field(default_factory=dict)  # setting: [stored, now]


def reference(value: str | None) -> str | None:
    """A name as given, or a path made absolute: the same file named from another folder compares equal."""
    if value is None:
        return None
    text = str(value)
    path = Path(text).expanduser()
    if path.exists():
        return str(path.resolve())
    file, sep, name = text.rpartition(":")  # file.yaml:name
    if sep and Path(file).expanduser().exists():
        return f"{Path(file).expanduser().resolve()}:{name}"
    return text


def settings(spec: str, dataset: str, data_dir, recipe: str, limit, test_limit, strategy, input_size,
             weights=None) -> dict:
    """What config.json stores, so that ``restore`` can give the run back its settings."""
    return {"spec": reference(spec), "dataset": reference(dataset), "data_dir": reference(data_dir),
            "recipe": reference(recipe), "limit": limit, "test_limit": test_limit, "strategy": strategy,
            "input_size": input_size, "weights": reference(weights)}


def restore(run_dir: Path, given: dict[str, Any]) -> Restored:
    """The run's settings, checked against what the command gave (``None``: not given)."""
    config_file = run_dir / "config.json"
    config = read_json(config_file, Config)
    state = read_state(run_dir)
    if config.settings is None:
        raise ResumeError("written by an older zoo that did not record its settings; it cannot be resumed "
                          "exactly: start a new run", file=str(config_file))
    stored = {**ADDED_LATER, **config.settings}
    missing = [key for key in SETTINGS if key not in stored]
    if missing:
        raise ResumeError(f"settings.{missing[0]}: missing", file=str(config_file))
    try:
        recipe = Recipe.model_validate(config.recipe)
    except ValidationError as e:
        raise ResumeError(f"recipe: {e.errors()[0]['msg']}", file=str(config_file)) from None
    changed: dict[str, list] = {}
    for key, flag in SETTINGS.items():
        value = given.get(key)
        if key == "recipe" and isinstance(value, Recipe):
            if value != recipe:
                raise ResumeError(f"the recipe given contradicts the run's recipe {config.recipe_name!r}; leave it "
                                  f"out to resume, or start a new run with another --out", file=str(config_file))
            continue
        now = reference(value) if key in ("spec", "dataset", "data_dir", "recipe", "weights") else value
        if value is not None and now != stored[key]:
            _refuse(flag, value, stored[key], config_file)
    updates = {}
    for key, flag in RECIPE.items():
        value, before = given.get(key), getattr(recipe, key)
        if value is None or value == before:
            continue
        if key not in MAY_CHANGE:
            _refuse(flag, value, before, config_file)
        if key == "epochs" and value < state.epoch:
            raise ResumeError(f"--epochs {value} is fewer than the {state.epoch} epochs this run has finished",
                              file=str(config_file))
        updates[key] = value
        changed[key] = [before, value]
    if updates:
        recipe = Recipe.model_validate({**recipe.model_dump(), **updates})
    return Restored({key: stored[key] for key in SETTINGS}, config.recipe_name, recipe, state, config, changed)


def _refuse(flag: str, value, stored, config_file: Path) -> None:
    raise ResumeError(f"{flag} {value} contradicts the run's {flag} {stored}; leave it out to resume with the "
                      f"run's settings, or start a new run with another --out", file=str(config_file))
