"""Training any spec on any dataset (`zoo.train`), with a run folder that loses nothing.

spec + dataset + recipe → plan at the dataset's shape → Keras model (with its
input normalisation) → fit, epoch by epoch → checkpoints, history, metrics, curves.
A resumed run takes every setting from the run's config.json (zoo.training.resume) and
continues exactly where the uninterrupted run would have been.
"""

from __future__ import annotations

import contextlib
import shlex
import sys
import time
from datetime import datetime
from pathlib import Path

from zoo.errors import ZooError, visible
from zoo.training import runfolder
from zoo.training.distribute import check as check_strategy
from zoo.training.outcome import TrainResult, finish, record_resume, write_config
from zoo.training.recipe import Recipe, load_recipe, with_overrides
from zoo.training.resume import restore, settings as make_settings
from zoo.training.runfiles import checkpoint_path, history_rows

__all__ = ["Interrupted", "TrainResult", "TrainingError", "train"]


class TrainingError(ZooError):
    """The run cannot start or had to stop (diverged, resume mismatch)."""


class Interrupted(ZooError):
    """Ctrl-C: the last full epoch's checkpoint is kept (or, before the first, nothing was saved)."""


def default_recipe(family: str | None) -> str:
    return "vgg_seed" if family == "vgg" else "resnet_seed"


def train(spec: str | None = None, dataset: str | None = None, recipe: str | Recipe | None = None, *,
          epochs: int | None = None, batch_size: int | None = None, limit: int | None = None,
          test_limit: int | None = None, data_dir: str | None = None, out: str | Path | None = None,
          resume: bool = False, quiet: bool = True, strategy: str | None = None,
          precise_bn_batches: int | None = None, jit: str | None = None, precision: str | None = None,
          seed: int | None = None, max_memory: str | int | None = None, cache: str | None = None,
          input_size: int | None = None, weights: str | Path | None = None) -> TrainResult:
    """Train ``spec`` on ``dataset`` (default mnist); returns the run folder, final metrics and history.

    With ``resume=True`` and ``out``, the run continues with the settings stored in its config.json;
    an option that contradicts them is refused, except ``epochs`` (to extend), ``jit``, ``cache``
    and ``max_memory``. ``weights``: a file to start from (see `zoo.build`); a classifier of another
    class count starts from its initialisation, and grey images sum the first kernel's channels."""
    from zoo.spec.registry import resolve

    started = time.perf_counter()
    given = dict(spec=spec, dataset=dataset, recipe=recipe, data_dir=data_dir, limit=limit,
                 test_limit=test_limit, strategy=strategy, input_size=input_size, epochs=epochs,
                 batch_size=batch_size, seed=seed, precision=precision, precise_bn_batches=precise_bn_batches,
                 jit=jit, weights=None if weights is None else str(weights))
    restored = None
    if resume:
        if out is None:
            raise TrainingError("--resume needs --out RUN_DIR")
        run_dir = Path(out)
        runfolder.check(run_dir, resume=True)
        restored = restore(run_dir, given)
        spec, dataset, recipe, data_dir, limit, test_limit, strategy, input_size = (
            restored.options[k] for k in ("spec", "dataset", "recipe", "data_dir", "limit", "test_limit",
                                          "strategy", "input_size"))
        weights = restored.options["weights"]  # recorded; the checkpoint, not the file, is loaded again
    elif spec is None:
        raise TrainingError("name the model to train (zoo train SPEC), or continue a run with --resume --out RUN")
    dataset, strategy, cache = dataset or "mnist", strategy or "none", cache or "auto"
    name, registry = resolve(spec)
    model_spec = registry.spec(name)
    check_strategy(strategy)  # before any work: a strategy this backend cannot run is one line
    if weights is not None and restored is None:  # a missing or unknown file: one line before the data loads
        from zoo.weights.source import check_path

        check_path(weights)
    if limit is not None and limit < 2:
        raise TrainingError(f"--limit must be at least 2 (got {limit})")
    if test_limit is not None and test_limit < 1:
        raise TrainingError(f"--test-limit must be at least 1 (got {test_limit})")
    if restored is not None:
        recipe_name, recipe_obj = restored.recipe_name, restored.recipe
        if model_spec.model_dump(mode="json") != restored.config.model_extra.get("spec"):
            raise TrainingError(f"the spec of {name} has changed since this run started; resume with the spec "
                                f"it was started with, or start a new run", file=str(run_dir / "config.json"))
    else:
        recipe_name, recipe_obj = _recipe(recipe, model_spec.family)
        recipe_obj = with_overrides(recipe_obj, epochs=epochs, batch_size=batch_size, jit=jit, precision=precision,
                                    precise_bn_batches=precise_bn_batches, seed=seed)
        run_dir = Path(out) if out is not None else \
            Path("runs") / f"{name}-{Path(str(dataset)).stem}-{datetime.now():%Y%m%d-%H%M%S}"
    settings = make_settings(spec, dataset, data_dir, recipe if isinstance(recipe, str) else recipe_name,
                             limit, test_limit, strategy, input_size, weights)
    from zoo.training import distribute

    cluster = distribute.cluster_from()
    writer = cluster is None or cluster.process_id == 0  # only process 0 writes (and locks) the run folder
    with runfolder.claim(run_dir, resume) if writer else contextlib.nullcontext(run_dir):
        return _run(name, model_spec, dataset, data_dir, run_dir, restored, recipe_name, recipe_obj, settings,
                    limit, test_limit, strategy, cache, input_size, max_memory, quiet, started,
                    None if restored else weights)


def _run(name, model_spec, dataset, data_dir, run_dir, restored, recipe_name, recipe_obj, settings, limit,
         test_limit, strategy, cache, input_size, max_memory, quiet, started, weights=None) -> TrainResult:
    from zoo.data import load_dataset, stream  # image folders over the memory budget are read lazily
    from zoo.data.sample import stratified
    from zoo.plan.planner import plan_model

    # max_memory bounds what the dataset's files may allocate; decode progress goes to stderr
    if stream.should_stream(Path(str(dataset)), cache, input_size, max_memory):
        data = stream.open_stream(dataset, input_size, seed=recipe_obj.seed)
    else:
        data = load_dataset(dataset, data_dir, max_memory=max_memory,
                            progress=lambda text: print(text, file=sys.stderr, flush=True))
    x_train, y_train = data.x_train, data.y_train
    if limit is not None:  # a seeded, class-stratified sample: class-ordered files still give every class
        keep = stratified(y_train, limit, recipe_obj.seed)
        x_train, y_train = x_train[keep], y_train[keep]
    x_test, y_test = data.x_test, data.y_test
    if test_limit is not None:
        keep = stratified(y_test, test_limit, recipe_obj.seed)
        x_test, y_test = x_test[keep], y_test[keep]
    if len(x_test) == 0:  # found before the first epoch, not after it
        raise TrainingError("the test split is empty: nothing to measure the run on", file=str(data.source))
    classes = len(data.class_names)
    plan = plan_model(name, model_spec, tuple(int(v) for v in x_train.shape[1:]), classes)
    if plan.adapted:  # named, as `zoo build` names them: the README promises the builder says so
        print(visible(f"{len(plan.adapted)} layer(s) adapted to this input:"), file=sys.stderr)
        for node in plan.adapted:
            print(visible(f"  {node.name} ({node.source}): {node.note}"), file=sys.stderr)

    import keras

    from zoo import system
    from zoo.training import distribute, shard
    from zoo.training.callbacks import EpochLoop
    from zoo.training.interrupt import CtrlC
    from zoo.training.pipeline import Batches, Split, channel_stats, split_train
    from zoo.training.progress import PlainReporter, RichReporter

    train_split, val_split = split_train(x_train, y_train, recipe_obj.validation_split, recipe_obj.seed)
    if len(train_split.x) < 1:
        raise TrainingError("no training examples left after the validation split")
    n_train, n_val = len(train_split.x), len(val_split.x) if val_split else 0
    placement = distribute.place(strategy, distribute.cluster_from())
    effective_batch = shard.global_batch(min(recipe_obj.batch_size, n_train), placement.replicas)
    aug = recipe_obj.augment
    start_epoch = restored.state.epoch if restored else 0
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
            if restored:
                model = _load_checkpoint(source_dir, restored.state.checkpoint)
                if restored.changed.get("epochs"):  # the schedule spans the new length (recorded in config.json)
                    from zoo.training.schedule import make_schedule

                    model.optimizer.learning_rate = make_schedule(recipe_obj, len(train_batches))
                history = history_rows(restored.state)
                if placement.writes_run_folder:
                    record_resume(run_dir, restored)
            else:
                model = _with_normalisation(plan, *channel_stats(train_split.x), weights)
                _compile(model, recipe_obj, len(train_batches), jit_on)
                history = []
                write_config(run_dir, name, model_spec, plan, recipe_name, recipe_obj, data, info, jit_on,
                             strategy, settings, n_train, n_val, int(len(x_test)))
        seconds_before = restored.state.seconds if restored else 0.0
        reporter = PlainReporter() if quiet else RichReporter()
        ctrl_c = CtrlC()
        loop = EpochLoop(run_dir, train_batches, val_batches, reporter, epochs=recipe_obj.epochs,
                         precise_bn_batches=recipe_obj.precise_bn_batches, history=history,
                         state_extra={"model": name, "dataset": data.name, "seed": recipe_obj.seed},
                         clock=(seconds_before, started), ctrl_c=ctrl_c)
        try:
            try:
                with ctrl_c:
                    if start_epoch < recipe_obj.epochs:
                        # shuffle=False: Batches shuffles by (seed, epoch) itself; Keras would reorder the
                        # batches with Python's `random`, whose state a resumed process does not share.
                        model.fit(train_batches, epochs=recipe_obj.epochs, initial_epoch=start_epoch,
                                  shuffle=False, callbacks=[loop, *_tensorboard(run_dir)], verbose=0)
                    ctrl_c.check()  # one dropped after the last boundary
            finally:
                reporter.close()
            if loop.diverged is not None:
                epoch, batch, loss = loop.diverged
                kept = (f"the checkpoint of epoch {len(loop.history)} is kept in {run_dir / 'checkpoints'}"
                        if loop.history else "no epoch finished, so nothing was saved")
                raise TrainingError(f"loss became {loss} at epoch {epoch}, batch {batch}: stopped; {kept}; "
                                    f"try a lower learning rate")
            return finish(run_dir, model, plan, data, recipe_name, recipe_obj, loop.history, test_batches,
                          n_train, n_val, started, seconds_before, info, settings)
        except KeyboardInterrupt:  # in an epoch, or in the final test (a resume then only tests)
            raise Interrupted(_interrupted(loop.history, source_dir, recipe_obj.epochs), file=None) from None
    finally:
        keras.config.set_dtype_policy(previous_policy)
        placement.release()


def _interrupted(history: list[dict], run_dir: Path, epochs: int) -> str:
    done = len(history)
    if not done:
        return "interrupted during epoch 1, before its checkpoint: nothing was saved"
    where = "the final test" if done >= epochs else f"epoch {done + 1}"
    return (f"interrupted during {where}; the checkpoint of epoch {done} is kept; continue with: "
            f"zoo train --resume --out {shlex.quote(str(run_dir))}")


def _recipe(recipe, family) -> tuple[str, Recipe]:
    if isinstance(recipe, Recipe):
        return "custom", recipe
    return load_recipe(recipe or default_recipe(family))


def _load_checkpoint(run_dir: Path, name: str):
    import zipfile

    import keras

    import zoo.keras.legacy  # noqa: F401  (zoo 0.1 checkpoints hold its registered layers)
    import zoo.training.schedule  # noqa: F401  (registers the learning-rate schedule)

    state_file = run_dir / "checkpoints" / "state.json"
    path = checkpoint_path(run_dir, name, state_file)
    if not path.is_file():
        raise TrainingError(f"the checkpoint named by {state_file.name} is missing", file=str(path))
    if not zipfile.is_zipfile(path):  # Keras would call a truncated archive "File not found"
        raise TrainingError("the checkpoint is damaged (not a complete .keras archive); the run cannot continue "
                            "from it", file=str(path))
    try:
        return keras.saving.load_model(path, compile=True)
    except Exception as e:  # a damaged archive member: say which file
        text = f"cannot load the checkpoint ({type(e).__name__}: {e})".splitlines()[0]
        raise TrainingError(text, file=str(path)) from None


def _with_normalisation(plan, mean, variance, weights=None):
    """Raw 0–255 pixels in: scale to [0, 1], then standardise with the training split's channel statistics."""
    import keras

    from zoo.keras.build import build_model

    base = build_model(plan)
    if weights is not None:  # into the zoo network itself: the file knows nothing of the normalisation
        from zoo.weights import load_weights

        loaded = load_weights(base, plan, weights)
        for line in loaded.lines():  # as `zoo build --weights` says them
            print(visible(line), file=sys.stderr)
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
