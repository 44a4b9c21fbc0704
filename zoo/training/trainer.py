"""Training any spec on any dataset (`zoo.train`), with a run folder that loses nothing.

spec + dataset + recipe → plan at the dataset's shape → Keras model (with its
input normalisation) → fit, epoch by epoch → checkpoints, history, metrics, curves.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from zoo.errors import ZooError
from zoo.training.recipe import Recipe, load_recipe, with_overrides
from zoo.training.rundir import plot_curves, write_history, write_json

from zoo.training.distribute import check as check_strategy


class TrainingError(ZooError):
    """The run cannot start or had to stop (diverged, resume mismatch)."""


class Interrupted(ZooError):
    """Ctrl-C: the last full epoch's checkpoint is kept."""


@dataclass
class TrainResult:
    run_dir: Path
    metrics: dict[str, Any]
    history: list[dict] = field(default_factory=list)

    @property
    def test_accuracy(self) -> float:
        return self.metrics["test_accuracy"]


def default_recipe(family: str | None) -> str:
    return "vgg_seed" if family == "vgg" else "resnet_seed"


def train(spec: str, dataset: str = "mnist", recipe: str | Recipe | None = None, *, epochs: int | None = None,
          batch_size: int | None = None, limit: int | None = None, test_limit: int | None = None,
          data_dir: str | None = None, out: str | Path | None = None, resume: bool = False,
          quiet: bool = True, strategy: str = "none", precise_bn_batches: int | None = None,
          jit: str | None = None, precision: str | None = None, seed: int | None = None,
          max_memory: str | int | None = None, cache: str = "auto", input_size: int | None = None) -> TrainResult:
    """Train ``spec`` on ``dataset``; returns the run folder, final metrics and history."""
    from zoo.data import load_dataset
    from zoo.plan.planner import plan_model
    from zoo.spec.registry import resolve

    started = time.perf_counter()
    name, registry = resolve(spec)
    model_spec = registry.spec(name)
    check_strategy(strategy)  # before any work: a strategy this backend cannot run is one line
    if limit is not None and limit < 2:
        raise TrainingError(f"--limit must be at least 2 (got {limit})")
    if test_limit is not None and test_limit < 1:
        raise TrainingError(f"--test-limit must be at least 1 (got {test_limit})")
    recipe_name, recipe_obj = _recipe(recipe, model_spec.family)
    recipe_obj = with_overrides(recipe_obj, epochs=epochs, batch_size=batch_size, jit=jit, precision=precision,
                                precise_bn_batches=precise_bn_batches, seed=seed)
    run_dir = Path(out) if out is not None else Path("runs") / f"{name}-{Path(str(dataset)).stem}-{datetime.now():%Y%m%d-%H%M%S}"
    state = _existing_state(run_dir, resume)

    # max_memory bounds what the dataset's files may allocate; decode progress goes to stderr
    from zoo.data import stream  # image folders over the memory budget (or --cache none) are read lazily

    if stream.should_stream(Path(str(dataset)), cache, input_size, max_memory):
        data = stream.open_stream(dataset, input_size, seed=recipe_obj.seed)
    else:
        data = load_dataset(dataset, data_dir, max_memory=max_memory,
                            progress=lambda text: print(text, file=sys.stderr, flush=True))
    from zoo.data.sample import stratified

    x_train, y_train = data.x_train, data.y_train
    if limit is not None:  # a seeded, class-stratified sample: class-ordered files still give every class
        keep = stratified(y_train, limit, recipe_obj.seed)
        x_train, y_train = x_train[keep], y_train[keep]
    x_test, y_test = data.x_test, data.y_test
    if test_limit is not None:
        keep = stratified(y_test, test_limit, recipe_obj.seed)
        x_test, y_test = x_test[keep], y_test[keep]
    classes = len(data.class_names)
    plan = plan_model(name, model_spec, tuple(int(v) for v in x_train.shape[1:]), classes)

    import keras

    from zoo import system
    from zoo.training.callbacks import EpochLoop
    from zoo.training.pipeline import Batches, Split, channel_stats, split_train
    from zoo.training.progress import PlainReporter, RichReporter

    train_split, val_split = split_train(x_train, y_train, recipe_obj.validation_split, recipe_obj.seed)
    if len(train_split.x) < 1:
        raise TrainingError("no training examples left after the validation split")
    n_train, n_val = len(train_split.x), len(val_split.x) if val_split else 0
    from zoo.training import distribute, shard

    placement = distribute.place(strategy, distribute.cluster_from())
    effective_batch = shard.global_batch(min(recipe_obj.batch_size, n_train), placement.replicas)
    aug = recipe_obj.augment
    start_epoch = state["epoch"] if state else 0
    train_batches = Batches(train_split, classes, effective_batch, train=True, seed=recipe_obj.seed,
                            crop_padding=aug.crop_padding, flip=aug.flip, epoch=start_epoch)
    val_batches = Batches(val_split, classes, effective_batch, train=False) if val_split else None
    test_batches = Batches(Split(x_test, y_test), classes, effective_batch, train=False)
    placement.agree({"spec": model_spec.model_dump(mode="json"), "recipe": recipe_obj.model_dump(mode="json"),
                     "data": [n_train, n_val, len(x_test), list(x_train.shape[1:])], "batch": effective_batch})
    train_batches, val_batches, test_batches = (shard.shard(b, placement) for b in (train_batches, val_batches,
                                                                                     test_batches))
    stream.prefetch(train_batches, val_batches, test_batches)  # lazy images: decode in threads, bounded queue

    jit_on = system.jit_default(recipe_obj.jit)
    info = system.describe()
    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy(recipe_obj.precision)
    try:
        with placement.scope():
            info["replicas"] = placement.replicas
            info["distribution"] = placement.record(shard.shard_sizes(train_batches, val_batches, test_batches))
            run_dir, source_dir = placement.output_dir(run_dir), run_dir  # only process 0 writes the run folder
            keras.utils.set_random_seed(recipe_obj.seed)  # before a load too: replicas must build identical values
            if state:
                model = _load_checkpoint(source_dir, state)
                history = list(state["history"])
            else:
                keras.utils.set_random_seed(recipe_obj.seed)
                model = _with_normalisation(plan, *channel_stats(train_split.x))
                _compile(model, recipe_obj, len(train_batches), jit_on)
                history = []
                _write_config(run_dir, name, model_spec, plan, recipe_name, recipe_obj, data, info, jit_on,
                              strategy, limit, n_train, n_val)
        if state:
            keras.utils.set_random_seed(recipe_obj.seed + start_epoch)
        reporter = PlainReporter() if quiet else RichReporter()
        loop = EpochLoop(run_dir, train_batches, val_batches, reporter, epochs=recipe_obj.epochs,
                         precise_bn_batches=recipe_obj.precise_bn_batches, history=history,
                         state_extra={"model": name, "dataset": data.name, "seed": recipe_obj.seed})
        callbacks = [loop, *_tensorboard(run_dir)]
        try:
            if start_epoch < recipe_obj.epochs:
                model.fit(train_batches, epochs=recipe_obj.epochs, initial_epoch=start_epoch,
                          callbacks=callbacks, verbose=0)
        except KeyboardInterrupt:
            done = len(loop.history)
            raise Interrupted(f"interrupted during epoch {done + 1}; the checkpoint of epoch {done} is kept; "
                              f"continue with --resume --out {run_dir}", file=None) from None
        finally:
            reporter.close()
        if loop.diverged is not None:
            epoch, batch, loss = loop.diverged
            kept = f"the checkpoint of epoch {len(loop.history)} is kept" if loop.history else "no epoch finished"
            raise TrainingError(f"loss became {loss} at epoch {epoch}, batch {batch}: stopped; {kept} "
                                f"in {run_dir / 'checkpoints'}; try a lower learning rate")
        return _finish(run_dir, model, plan, data, recipe_name, recipe_obj, loop.history, test_batches,
                       n_train, n_val, started, info)
    finally:
        keras.config.set_dtype_policy(previous_policy)
        placement.release()


def _recipe(recipe, family) -> tuple[str, Recipe]:
    if isinstance(recipe, Recipe):
        return "custom", recipe
    return load_recipe(recipe or default_recipe(family))


def _existing_state(run_dir: Path, resume: bool) -> dict | None:
    state_file = run_dir / "checkpoints" / "state.json"
    if resume:
        if not state_file.exists():
            raise TrainingError("nothing to resume: no checkpoints/state.json", file=str(run_dir))
        try:
            return json.loads(state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise TrainingError(f"unreadable checkpoint state ({e})", file=str(state_file)) from None
    if state_file.exists() or (run_dir / "metrics.json").exists():
        raise TrainingError("run folder already holds a run; use --resume to continue it or another --out",
                            file=str(run_dir))
    return None


def _load_checkpoint(run_dir: Path, state: dict):
    import keras

    import zoo.keras.custom  # noqa: F401  (registers the custom layers)
    import zoo.training.schedule  # noqa: F401  (registers the learning-rate schedule)

    path = run_dir / "checkpoints" / state["checkpoint"]
    try:
        return keras.saving.load_model(path, compile=True)
    except Exception as e:  # a corrupt zip or missing file: say which
        raise TrainingError(f"cannot load checkpoint ({type(e).__name__}: {e})".splitlines()[0], file=str(path)) from None


def _with_normalisation(plan, mean, variance):
    """Raw 0–255 pixels in: scale to [0, 1], then standardise with the training split's channel statistics."""
    import keras

    from zoo.keras.build import build_model

    base = build_model(plan)
    pixels = keras.Input(shape=plan.input_shape, name="pixels")
    x = keras.layers.Rescaling(1.0 / 255.0, name="scale")(pixels)
    x = keras.layers.Normalization(mean=mean, variance=variance, name="standardise")(x)
    outputs = base(x)
    if keras.config.dtype_policy().name.startswith("mixed"):
        outputs = keras.layers.Activation("linear", dtype="float32", name="float32_output")(outputs)
    return keras.Model(pixels, outputs, name=plan.name)


def _compile(model, recipe: Recipe, steps_per_epoch: int, jit_on: bool) -> None:
    import keras

    from zoo.training.schedule import make_optimizer

    model.compile(optimizer=make_optimizer(recipe, steps_per_epoch),
                  # Weighted, so that evaluation padding at weight 0 (zoo.training.shard) changes nothing.
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=recipe.label_smoothing,
                                                            reduction="mean_with_sample_weight"),
                  weighted_metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
                  jit_compile=jit_on, steps_per_execution=recipe.steps_per_execution)


def _tensorboard(run_dir: Path) -> list:
    import keras

    if keras.backend.backend() != "tensorflow":
        return []  # Keras's TensorBoard callback writes through tf.summary
    try:
        import tensorboard  # noqa: F401  (tf.summary needs the package)
    except ImportError:
        return []
    return [keras.callbacks.TensorBoard(log_dir=str(run_dir / "tensorboard"), write_graph=False)]


def _write_config(run_dir, name, spec, plan, recipe_name, recipe, data, info, jit_on, strategy, limit,
                  n_train, n_val) -> None:
    config = {"model": name, "spec": spec.model_dump(mode="json"), "input_shape": list(plan.input_shape),
              "classes": plan.classes, "params": plan.params, "trainable_params": plan.trainable_params,
              "macs": plan.macs, "adapted": [n.name for n in plan.adapted],
              "recipe_name": recipe_name, "recipe": recipe.model_dump(mode="json"),
              "dataset": {"name": data.name, "label": data.label, "source": data.source, "limit": limit,
                          "sample": "stratified, seeded by the recipe's seed" if limit else None,
                          "train": n_train, "validation": n_val, "test": int(len(data.x_test))},
              "device": info, "jit_compile": jit_on, "strategy": strategy, "argv": sys.argv,
              "created": datetime.now().isoformat(timespec="seconds")}
    write_json(run_dir / "config.json", config)


def _finish(run_dir, model, plan, data, recipe_name, recipe, history, test_batches, n_train, n_val, started,
            info) -> TrainResult:
    from zoo.training.rundir import save_model_atomic

    import keras

    scores = model.evaluate(test_batches, verbose=0, return_dict=True)
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
               "epochs": len(history), "test_loss": float(scores["loss"]),
               "test_accuracy": float(scores["accuracy"]), "best_val_accuracy": best["val_accuracy"],
               "best_epoch": best["epoch"], "final_train_accuracy": last["accuracy"],
               "final_val_accuracy": last["val_accuracy"], "train_seconds": train_seconds,
               "total_seconds": time.perf_counter() - started,
               "images_per_second": images / train_seconds if train_seconds else None,
               "params": plan.params, "trainable_params": plan.trainable_params, "macs": plan.macs,
               "input_shape": list(plan.input_shape), "classes": plan.classes, "train_examples": n_train,
               "validation_examples": n_val, "test_examples": int(len(test_batches.x)),
               "batch_size": test_batches.batch_size, "precise_bn_batches": recipe.precise_bn_batches,
               "backend": info["backend"], "accelerator": info["accelerator"]}
    write_json(run_dir / "metrics.json", metrics)
    return TrainResult(run_dir, metrics, history)
