"""Time zoo models (and their keras.applications twins) training and predicting.

The method follows timm's benchmark.py: build, compile, warm up, then time
``steps`` steps per repeat with a device sync on every step (Keras hands the
loss or the predictions back as NumPy, which waits for the device). Repeats
give a median and a spread. With a twin, the two models alternate within each
repeat (zoo, keras, zoo, keras…) so load from other processes hits both alike.
"""

from __future__ import annotations

import gc
import statistics
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable, TypeVar

import zoo
from zoo import system
from zoo.bench.data import DATASETS, dataset_classes, dataset_shape, make_batches
from zoo.bench.twins import Twin, build_twin, check_input, twin_of
from zoo.errors import ShapeError, ZooError
from zoo.plan.ops import shape_text

MODES = ("train", "infer", "both")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
JITS = ("auto", "on", "off")
VERSUS = ("keras",)
TRAIN_FLOPS_FACTOR = 3  # forward + backward ≈ 3 forward passes (backward: gradients for inputs and weights)

Log = Callable[[str], None]
T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    input_shape: tuple[int, int, int] | None = None
    classes: int | None = None
    batch_size: int = 32
    mode: str = "train"
    steps: int = 10
    warmup: int = 2
    repeats: int = 3
    precision: str = "float32"
    jit: str = "auto"
    dataset: str = "synthetic"
    data_dir: str | None = None  # where zoo.data looks first for mnist / cifar10 (then $ZOO_DATA)
    peak_tflops: float | None = None
    peak: str | None = None       # "auto": measure the device's matmul peak in the same run (zoo.bench.peak)
    peak_size: int | None = None  # n of the n×n×n peak matmul; None: by device (peak.default_size)
    vs: str | None = None

    def check(self) -> Settings:
        for option, value, allowed in (("mode", self.mode, MODES), ("precision", self.precision, PRECISIONS),
                                       ("jit", self.jit, JITS), ("dataset", self.dataset, DATASETS)):
            if value not in allowed:
                raise ZooError(f"must be one of {', '.join(allowed)} (got {value!r})", path=f"--{option}")
        if self.vs is not None and self.vs not in VERSUS:
            raise ZooError(f"must be {' or '.join(VERSUS)} (got {self.vs!r})", path="--vs")
        for option, value, low in (("batch-size", self.batch_size, 1), ("steps", self.steps, 1),
                                   ("warmup", self.warmup, 0), ("repeats", self.repeats, 1),
                                   ("classes", self.classes, 1)):
            if value is not None and (not isinstance(value, int) or value < low):
                raise ZooError(f"must be an integer >= {low} (got {value!r})", path=f"--{option}")
        if self.peak_tflops is not None and not self.peak_tflops > 0:
            raise ZooError(f"must be > 0 (got {self.peak_tflops!r})", path="--peak-tflops")
        if self.peak is not None and self.peak != "auto":
            raise ZooError(f"must be auto (got {self.peak!r})", path="--peak")
        if self.peak is not None and self.peak_tflops is not None:
            raise ZooError("give --peak auto or --peak-tflops, not both")
        if self.peak_size is not None and (not isinstance(self.peak_size, int) or self.peak_size < 16):
            raise ZooError(f"must be an integer >= 16 (got {self.peak_size!r})", path="--peak-size")
        fixed = dataset_shape(self.dataset)
        if fixed and self.input_shape is not None and tuple(self.input_shape) != fixed:
            raise ShapeError(f"--dataset {self.dataset} holds {shape_text(fixed)} images; "
                             f"--input-shape {shape_text(self.input_shape)} does not match")
        return self

    @property
    def modes(self) -> tuple[str, ...]:
        return ("train", "infer") if self.mode == "both" else (self.mode,)


@dataclass
class Target:
    """One model to benchmark, planned and checked before anything is built."""
    name: str                  # as asked for: a zoo name or a spec file
    spec: str                  # what zoo.build gets: resnet50 is compared as resnet50_keras
    plan: Any                  # zoo.plan.graph.Plan
    twin: Twin | None
    notes: list[str] = field(default_factory=list)


# -- the public entry points ---------------------------------------------------------------


def run_benchmark(name: str, *, log: Log | None = None, **options) -> dict[str, Any]:
    """Benchmark one zoo model (name or spec file); keyword options as in :class:`Settings`."""
    settings = Settings(**options).check()
    target = prepare(name, settings)
    before = _measured_peak(settings, log)
    result = measure(target, settings, log)
    _apply_measured_peak([result], settings, before, log)
    return result


def run_benchmarks(names: list[str], *, log: Log | None = None, **options) -> dict[str, Any]:
    """Benchmark several models (names, wildcards or spec files): ``{"system", "settings", "results"}``.

    Every name is resolved and planned first, so bad input fails before the first slow step.
    """
    settings = Settings(**options).check()
    targets = [prepare(name, settings) for name in expand_names(names)]
    document = {"system": system.system_info(), "settings": _settings_dict(settings),
                "load_average_before": system.load_average(), "results": []}
    before = _measured_peak(settings, log)
    for target in targets:
        document["results"].append(measure(target, settings, log))
        gc.collect()
    peak = _apply_measured_peak(document["results"], settings, before, log)
    if peak is not None:
        document["peak"] = peak
    document["load_average_after"] = system.load_average()
    return document


def expand_names(names: list[str]) -> list[str]:
    """Zoo names and spec files as given; shell wildcards (``resnet*``) become the models they match."""
    from zoo.spec.registry import looks_like_path

    out: list[str] = []
    for name in names:
        if any(c in name for c in "*?[") and not looks_like_path(name):
            matched = zoo.list_models(name)
            if not matched:
                raise ZooError(f"no model matches {name!r} (see `zoo list`)")
            out.extend(matched)
        else:
            out.append(name)
    if not out:
        raise ZooError("name at least one model")
    return list(dict.fromkeys(out))


def prepare(name: str, settings: Settings) -> Target:
    twin = twin_of(name) if settings.vs == "keras" else None
    spec = twin.zoo_model if twin else name
    input_shape = settings.input_shape or dataset_shape(settings.dataset)
    plan = zoo.plan(spec, input_shape, settings.classes or dataset_classes(settings.dataset))
    target = Target(name, spec, plan, twin)
    if twin:
        check_input(twin, plan.input_shape)
        if spec != name:
            target.notes.append(f"{name} is compared as {spec}, the zoo spec that reproduces {twin.label}")
    elif settings.vs == "keras":
        target.notes.append(f"{name} has no keras.applications twin: zoo only")
    return target


# -- measurement -------------------------------------------------------------------------


def _measured_peak(settings: Settings, log: Log | None) -> dict[str, Any] | None:
    if settings.peak != "auto":
        return None
    from zoo.bench.peak import dtypes_for, measure_peak

    (log or _quiet)("measuring the device's matmul peak (" + ", ".join(dtypes_for(settings.precision)) + ")")
    return measure_peak(dtypes_for(settings.precision), settings.peak_size)


def _apply_measured_peak(results: list[dict], settings: Settings, before: dict | None,
                         log: Log | None) -> dict[str, Any] | None:
    """With ``--peak auto``: measure again after the models, keep the higher of the two, set each run's MFU.

    On a shared machine load comes and goes; a peak taken only once can fall in a busy moment
    and leave the models above 100 % of it.
    """
    if before is None:
        return None
    from zoo.bench.peak import apply_peak, combine

    peak = combine(before, _measured_peak(settings, log))
    for result in results:
        apply_peak(result, settings.precision, measured=peak)
    return peak


def measure(target: Target, settings: Settings, log: Log | None = None) -> dict[str, Any]:
    """Run the benchmark, halving the batch on out-of-memory, and return the result record (MFU with
    ``--peak-tflops``; ``--peak auto`` fills it in afterwards)."""
    from zoo.bench.peak import apply_peak

    log = log or _quiet

    def attempt(batch_size: int) -> dict[str, Any]:
        return _measure_once(target, replace(settings, batch_size=batch_size), log)

    def retried(batch_size: int, error: BaseException) -> None:
        log(f"{target.name}: out of memory at batch size {batch_size}; retrying with {batch_size // 2}")
        _free_memory()

    result, retries = halve_on_oom(attempt, settings.batch_size, retried)
    result["oom_retries"] = retries
    result["batch_size_requested"] = settings.batch_size
    result["notes"] = [*target.notes, *result["notes"],
                       *(f"out of memory at batch size {r['batch_size']}: halved" for r in retries)]
    apply_peak(result, settings.precision, given=settings.peak_tflops)
    return result


def halve_on_oom(run: Callable[[int], T], batch_size: int,
                 on_retry: Callable[[int, BaseException], None] | None = None) -> tuple[T, list[dict]]:
    """``run(batch_size)``, halving the batch after each out-of-memory error until batch size 1."""
    retries: list[dict] = []
    while True:
        try:
            return run(batch_size), retries
        except Exception as error:  # backends raise their own OOM types; anything else propagates
            if not system.is_out_of_memory(error):
                raise
            if batch_size == 1:
                raise ZooError("out of memory even at batch size 1") from error
            retries.append({"batch_size": batch_size, "error": _first_line(error)})
            if on_retry is not None:
                on_retry(batch_size, error)
            batch_size //= 2


def _measure_once(target: Target, s: Settings, log: Log) -> dict[str, Any]:
    import keras

    plan, batch = target.plan, s.batch_size
    shape, classes = tuple(plan.input_shape), plan.classes
    batches = make_batches(s.dataset, shape, classes, batch, None if s.data_dir is None else str(s.data_dir))
    jit = resolve_jit(s.jit)
    builders: dict[str, Callable[[], Any]] = {"zoo": lambda: zoo.build(target.spec, shape, classes)}
    if target.twin:
        builders["keras"] = lambda: build_twin(target.twin, shape, classes)

    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy(s.precision)
    try:
        log(f"{target.name}: building {' and '.join(builders)} ({shape_text(shape)}, {classes} classes, batch {batch})")
        models, build_s = _build_alternating(builders, s.repeats if target.twin else 1)
        for model in models.values():
            model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01, momentum=0.9),
                          loss=keras.losses.SparseCategoricalCrossentropy(), jit_compile=jit)
        # (variant, mode) → one synced step; zoo before keras within each mode, so the two alternate
        steps = {(variant, mode): _step_fn(model, mode, batches)
                 for mode in s.modes for variant, model in models.items()}
        log(f"{target.name}: warming up ({s.warmup} step(s) each, jit {'on' if jit else 'off'})")
        first_step_s = {key: _warm_up(step, s.warmup) for key, step in steps.items()}
        timed = _time_repeats(steps, s, lambda r: log(f"{target.name}: repeat {r + 1}/{s.repeats}"))
        notes = graph_differences(models["zoo"], models["keras"], target.twin.label) if target.twin else []
        keras_params = int(models["keras"].count_params()) if target.twin else None
    finally:
        keras.config.set_dtype_policy(previous_policy)

    seconds = {key: t["seconds"] for key, t in timed.items()}
    runs = [_run_record(target, variant, mode, s, batch, timed[(variant, mode)], first_step_s[(variant, mode)])
            for variant, mode in steps]
    return {"name": target.name, "zoo_model": plan.name, "twin": target.twin.label if target.twin else None,
            "input_shape": list(shape), "classes": classes, "params": plan.params, "keras_params": keras_params,
            "macs": plan.macs, "flops_per_sample": {m: flops_per_sample(plan.macs, m) for m in s.modes},
            "batch_size": batch, "jit_compile": jit, "dataset": batches.source,
            "build_s": {variant: summarize(values) for variant, values in build_s.items()},
            "runs": runs, "ratios": _ratios(build_s, seconds, s.modes) if target.twin else None, "notes": notes}


def _warm_up(step: Callable[[int], Any], count: int) -> float | None:
    """Run ``count`` untimed steps; return the first one's seconds (tracing and compiling), if any."""
    first = None
    for i in range(count):
        start = time.perf_counter()
        step(i)
        if i == 0:
            first = time.perf_counter() - start
    return first


def _time_repeats(steps: dict, s: Settings, on_repeat: Callable[[int], None]) -> dict:
    """Per (variant, mode): the seconds of each repeat's ``s.steps`` steps and the peak memory seen."""
    timed = {key: {"seconds": [], "host_peak": None, "device_peak": None} for key in steps}
    for r in range(s.repeats):
        on_repeat(r)
        for key, step in steps.items():
            gc.collect()  # garbage from the other model is not this one's cost
            system.reset_host_peak()
            system.reset_device_peak()
            start = time.perf_counter()
            for i in range(s.steps):
                step(i)
            timed[key]["seconds"].append(time.perf_counter() - start)
            timed[key]["host_peak"] = _max(timed[key]["host_peak"], system.host_peak_bytes())
            timed[key]["device_peak"] = _max(timed[key]["device_peak"], system.device_peak_bytes())
    return timed


def graph_differences(zoo_model, keras_model, label: str) -> list[str]:
    """Notes where the two graphs differ in parameters or in layers of some kind (input layers aside)."""
    from collections import Counter

    notes = []
    if zoo_model.count_params() != keras_model.count_params():
        notes.append(f"parameter counts differ: zoo {zoo_model.count_params():,}, {label} {keras_model.count_params():,}")
    kinds = [Counter(type(layer).__name__ for layer in m.layers if type(layer).__name__ != "InputLayer")
             for m in (zoo_model, keras_model)]
    for kind in sorted(set(kinds[0]) | set(kinds[1])):
        ours, theirs = kinds[0][kind], kinds[1][kind]
        if ours != theirs:
            notes.append(f"graphs differ: zoo has {ours} {kind} layer(s), {label} {theirs}")
    return notes


def _build_alternating(builders: dict[str, Callable[[], Any]], times: int):
    """Build each model ``times`` times, alternating; keep the last of each.

    With a twin there is one untimed build of each first: the process's first
    Keras model pays one-off costs that would otherwise fall on whichever goes first.
    """
    models: dict[str, Any] = {}
    build_s: dict[str, list[float]] = {variant: [] for variant in builders}
    if len(builders) > 1:
        for variant, build in builders.items():
            models[variant] = build()
    for _ in range(times):
        for variant, build in builders.items():
            models.pop(variant, None)
            gc.collect()  # collect the previous copy now, not inside the next one's timed build
            start = time.perf_counter()
            models[variant] = build()
            build_s[variant].append(time.perf_counter() - start)
    return models, build_s


def _step_fn(model, mode: str, batches) -> Callable[[int], Any]:
    """One synced step: Keras returns NumPy, which waits for the device to finish."""
    if mode == "train":
        def step(i: int):
            x, y = batches[i]
            return model.train_on_batch(x, y)
    else:
        def step(i: int):
            return model.predict_on_batch(batches[i][0])
    return step


def _run_record(target: Target, variant: str, mode: str, s: Settings, batch: int, timed: dict,
                first_step_s: float | None) -> dict[str, Any]:
    seconds = timed["seconds"]
    samples = summarize([batch * s.steps / t for t in seconds])
    flops = flops_per_sample(target.plan.macs, mode)
    tflops = flops * samples["median"] / 1e12
    return {"variant": variant, "built_by": target.twin.label if variant == "keras" else "zoo",
            "mode": mode, "batch_size": batch, "steps": s.steps, "repeats": s.repeats,
            "samples_per_s": samples, "ms_per_step": summarize([1000 * t / s.steps for t in seconds]),
            "tflops": tflops,  # mfu and its peak: filled in by peak.apply_peak
            "first_step_s": first_step_s, "host_peak_bytes": timed["host_peak"],
            "device_peak_bytes": timed["device_peak"]}


def _ratios(build_s: dict[str, list[float]], seconds: dict, modes: tuple[str, ...]) -> dict[str, Any]:
    """zoo ÷ keras, paired repeat by repeat (the two ran back to back), then summarized."""
    out: dict[str, Any] = {"build_time": summarize([z / k for z, k in zip(build_s["zoo"], build_s["keras"])])}
    for mode in modes:
        # throughput ratio = keras time ÷ zoo time for the same steps
        pairs = zip(seconds[("zoo", mode)], seconds[("keras", mode)])
        out[f"{mode}_throughput"] = summarize([k / z for z, k in pairs])
    return out


# -- small pieces --------------------------------------------------------------------------


def resolve_jit(jit: str) -> bool:
    return system.jit_default(jit)


def flops_per_sample(macs: int, mode: str) -> int:
    """2 FLOPs per multiply-accumulate; training ≈ 3 forward passes."""
    return 2 * macs * (TRAIN_FLOPS_FACTOR if mode == "train" else 1)


def summarize(values: list[float]) -> dict[str, Any]:
    """Median, min, max and interquartile range of repeated measurements."""
    ordered = sorted(values)
    q1, q3 = (statistics.quantiles(ordered, n=4, method="inclusive")[::2]
              if len(ordered) > 1 else (ordered[0], ordered[0]))
    return {"median": statistics.median(ordered), "min": ordered[0], "max": ordered[-1],
            "iqr": q3 - q1, "values": list(values)}


def _settings_dict(s: Settings) -> dict[str, Any]:
    out = asdict(s)
    out["input_shape"] = list(s.input_shape) if s.input_shape else None
    out["data_dir"] = None if s.data_dir is None else str(s.data_dir)
    out["jit_compile"] = resolve_jit(s.jit)
    return out


def _free_memory() -> None:
    import keras

    policy = keras.config.dtype_policy()  # clear_session would reset the caller's global policy too
    keras.backend.clear_session()
    keras.config.set_dtype_policy(policy)
    gc.collect()


def _max(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:200]



def _quiet(_: str) -> None:
    pass
