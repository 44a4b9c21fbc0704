"""What a run writes about itself: config.json when it starts (and on each resume), the rest when it ends."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from zoo.training.rundir import plot_curves, save_model_atomic, write_history, write_json


@dataclass
class TrainResult:
    run_dir: Path
    metrics: dict[str, Any]
    history: list[dict] = field(default_factory=list)

    @property
    def test_accuracy(self) -> float:
        return self.metrics["test_accuracy"]


def write_config(run_dir: Path, name, spec, plan, recipe_name, recipe, data, info, jit_on, strategy, settings,
                 n_train, n_val, n_test) -> None:
    limit, test_limit = settings["limit"], settings["test_limit"]
    config = {"model": name, "spec": spec.model_dump(mode="json"), "input_shape": list(plan.input_shape),
              "classes": plan.classes, "params": plan.params, "trainable_params": plan.trainable_params,
              "macs": plan.macs, "adapted": [n.name for n in plan.adapted],
              "recipe_name": recipe_name, "recipe": recipe.model_dump(mode="json"),
              "dataset": {"name": data.name, "label": data.label, "source": data.source, "limit": limit,
                          "test_limit": test_limit,
                          "sample": "stratified by class, seeded by the recipe's seed"
                          if limit or test_limit else None,
                          "train": n_train, "validation": n_val, "test": n_test},
              # everything --resume restores (zoo.training.resume)
              "settings": settings,
              "device": info, "jit_compile": jit_on, "strategy": strategy, "argv": sys.argv,
              "created": datetime.now().isoformat(timespec="seconds"), "resumes": []}
    write_json(run_dir / "config.json", config)


def record_resume(run_dir: Path, restored) -> None:
    """Append this resume to config.json, with the settings it changed, and keep the recipe current."""
    path = run_dir / "config.json"
    config = json.loads(path.read_text(encoding="utf-8"))  # checked by zoo.training.resume.restore
    config["recipe"] = restored.recipe.model_dump(mode="json")
    resumes = config.get("resumes") if isinstance(config.get("resumes"), list) else []
    resumes.append({"after_epoch": restored.state.epoch, "changed": restored.changed, "argv": sys.argv,
                    "time": datetime.now().isoformat(timespec="seconds")})
    config["resumes"] = resumes
    write_json(path, config)


def finish(run_dir, model, plan, data, recipe_name, recipe, history, test_batches, n_train, n_val, started,
           seconds_before, info, settings) -> TrainResult:
    import keras

    scores = model.evaluate(test_batches, verbose=0, return_dict=True)
    flipped = None
    if recipe.test_flip:  # the record is the averaged model's; the plain model's score stays beside it
        from zoo.training.tta import flip_averaged

        flipped = flip_averaged(model).evaluate(test_batches, verbose=0, return_dict=True)
    # The delivered model is for inference: same layers and weights, no optimizer or schedule to import.
    save_model_atomic(keras.Model(model.inputs, model.outputs, name=model.name), run_dir / "model.keras")
    # Rewritten in case a kill fell between the last state.json and its history.csv.
    write_history(run_dir / "history.csv", history)
    plot_curves(run_dir / "curves.png", history, f"{plan.name} on {data.label}")
    best = max(history, key=lambda r: r["val_accuracy"] if r["val_accuracy"] is not None else r["accuracy"])
    train_seconds = sum(r["seconds"] for r in history)
    images = sum(r["seconds"] * r["images_per_second"] for r in history)
    last = history[-1]
    metrics = {"model": plan.name, "dataset": data.name, "dataset_label": data.label, "recipe": recipe_name,
               "epochs": len(history), "limit": settings["limit"], "test_limit": settings["test_limit"],
               "test_loss": float((flipped or scores)["loss"]),
               "test_accuracy": float((flipped or scores)["accuracy"]), "test_flip": recipe.test_flip,
               "test_loss_unflipped": float(scores["loss"]), "test_accuracy_unflipped": float(scores["accuracy"]), "best_val_accuracy": best["val_accuracy"],
               "best_epoch": best["epoch"], "final_train_accuracy": last["accuracy"],
               "final_val_accuracy": last["val_accuracy"], "train_seconds": train_seconds,
               # every process's wall time, the ones before a resume included
               "total_seconds": seconds_before + time.perf_counter() - started,
               "images_per_second": images / train_seconds if train_seconds else None,
               "params": plan.params, "trainable_params": plan.trainable_params, "macs": plan.macs,
               "input_shape": list(plan.input_shape), "classes": plan.classes, "train_examples": n_train,
               "validation_examples": n_val, "test_examples": int(len(test_batches.x)),
               "batch_size": test_batches.batch_size, "precise_bn_batches": recipe.precise_bn_batches,
               "backend": info["backend"], "accelerator": info["accelerator"]}
    write_json(run_dir / "metrics.json", metrics)
    return TrainResult(run_dir, metrics, history)
