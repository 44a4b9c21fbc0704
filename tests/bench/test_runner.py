"""The benchmark runner on a tiny spec: complete records with sane values. Timings are never asserted."""

from __future__ import annotations

import pytest

import zoo
from tests.bench.conftest import QUICK, TINY_MACS, TINY_PARAMS, jit_auto
from tests.conftest import SHARED_DATA
from zoo.bench import runner
from zoo.bench.runner import Settings, expand_names, halve_on_oom, prepare, run_benchmark, summarize
from zoo.errors import ShapeError, ZooError

RESULT_KEYS = {"name", "zoo_model", "twin", "input_shape", "classes", "params", "keras_params", "macs",
               "flops_per_sample", "batch_size", "batch_size_requested", "jit_compile", "dataset", "build_s",
               "runs", "ratios", "notes", "oom_retries"}
RUN_KEYS = {"variant", "built_by", "mode", "batch_size", "steps", "repeats", "samples_per_s", "ms_per_step",
            "tflops", "mfu", "peak_tflops", "peak_source", "first_step_s", "host_peak_bytes", "device_peak_bytes"}
SUMMARY_KEYS = {"median", "min", "max", "iqr", "values"}


def check_summary(summary: dict, repeats: int) -> None:
    assert set(summary) == SUMMARY_KEYS
    assert len(summary["values"]) == repeats
    assert 0 < summary["min"] <= summary["median"] <= summary["max"]
    assert summary["iqr"] >= 0


@pytest.mark.parametrize("mode", ["train", "infer"])
def test_one_mode_gives_a_complete_record(tiny, mode):
    result = run_benchmark(tiny, mode=mode, **QUICK)
    assert set(result) == RESULT_KEYS
    assert result["macs"] == zoo.count(tiny)["macs"] == TINY_MACS
    assert result["params"] == TINY_PARAMS
    assert (result["zoo_model"], result["input_shape"], result["classes"]) == ("tiny", [8, 8, 1], 3)
    assert result["batch_size"] == result["batch_size_requested"] == 4
    assert result["jit_compile"] is jit_auto()
    assert (result["twin"], result["ratios"], result["oom_retries"], result["notes"]) == (None, None, [], [])
    check_summary(result["build_s"]["zoo"], 1)

    [run] = result["runs"]
    assert set(run) == RUN_KEYS
    assert (run["variant"], run["built_by"], run["mode"], run["batch_size"]) == ("zoo", "zoo", mode, 4)
    check_summary(run["samples_per_s"], 2)
    check_summary(run["ms_per_step"], 2)
    # samples/s and ms/step describe the same repeats: batch / (ms / 1000)
    for sps, ms in zip(run["samples_per_s"]["values"], run["ms_per_step"]["values"]):
        assert sps == pytest.approx(4 / (ms / 1000))
    flops = 2 * TINY_MACS * (3 if mode == "train" else 1)
    assert result["flops_per_sample"] == {mode: flops}
    assert run["tflops"] == pytest.approx(flops * run["samples_per_s"]["median"] / 1e12)
    assert run["mfu"] is None
    assert run["first_step_s"] > 0
    assert run["host_peak_bytes"] > 2**20
    assert run["device_peak_bytes"] is None  # CPU


def test_both_modes_and_model_flop_utilisation(tiny):
    result = run_benchmark(tiny, mode="both", peak_tflops=2.0, **QUICK)
    assert [run["mode"] for run in result["runs"]] == ["train", "infer"]
    assert result["flops_per_sample"] == {"train": 6 * TINY_MACS, "infer": 2 * TINY_MACS}
    for run in result["runs"]:
        assert run["mfu"] == pytest.approx(run["tflops"] / 2.0)


def test_no_warmup_leaves_the_first_step_unmeasured(tiny):
    [run] = run_benchmark(tiny, mode="infer", batch_size=2, steps=1, warmup=0, repeats=1)["runs"]
    assert run["first_step_s"] is None
    check_summary(run["samples_per_s"], 1)


def test_vs_keras_alternates_with_the_twin_and_gives_ratios():
    result = run_benchmark("vgg16", vs="keras", mode="infer", input_shape=(32, 32, 1), classes=3,
                           batch_size=2, steps=1, warmup=1, repeats=2)
    assert result["twin"] == "keras.applications.VGG16"
    assert result["keras_params"] == result["params"] == zoo.count("vgg16", (32, 32, 1), 3)["params"]
    assert [(r["variant"], r["built_by"]) for r in result["runs"]] == [
        ("zoo", "zoo"), ("keras", "keras.applications.VGG16")]
    assert set(result["build_s"]) == {"zoo", "keras"}
    assert set(result["ratios"]) == {"build_time", "infer_throughput"}
    ratio = result["ratios"]["infer_throughput"]
    zoo_s, keras_s = result["runs"][0]["ms_per_step"]["values"], result["runs"][1]["ms_per_step"]["values"]
    assert ratio["values"] == pytest.approx([k / z for z, k in zip(zoo_s, keras_s)])
    check_summary(result["ratios"]["build_time"], 2)
    if result["zoo_model"] == "vgg16":  # the paper's VGG keeps dropout; keras.applications drops it
        assert result["notes"] == ["graphs differ: zoo has 2 Dropout layer(s), keras.applications.VGG16 0"]


def test_graph_differences_name_parameters_and_layer_kinds():
    import keras

    def model(*layers):
        inputs = keras.Input((4,))
        x = inputs
        for layer in layers:
            x = layer(x)
        return keras.Model(inputs, x)

    same = runner.graph_differences(model(keras.layers.Dense(3)), model(keras.layers.Dense(3)), "twin")
    assert same == []
    notes = runner.graph_differences(model(keras.layers.Dense(3), keras.layers.Dropout(0.5)),
                                     model(keras.layers.Dense(3, use_bias=False)), "twin")
    assert notes == ["parameter counts differ: zoo 15, twin 12", "graphs differ: zoo has 1 Dropout layer(s), twin 0"]


# -- out of memory ---------------------------------------------------------------------------


class ResourceExhaustedError(Exception):
    """Stands in for tf.errors.ResourceExhaustedError: recognised by its name."""


def test_out_of_memory_halves_the_batch_and_says_so(tiny, monkeypatch):
    real_step_fn = runner._step_fn

    def step_fn(model, mode, batches):
        step = real_step_fn(model, mode, batches)
        if len(batches.x[0]) > 2:
            def exhausted(i):
                raise ResourceExhaustedError("OOM when allocating tensor with shape[8,4,8,8]\nmore detail")
            return exhausted
        return step

    monkeypatch.setattr(runner, "_step_fn", step_fn)
    import keras

    keras.config.set_dtype_policy("mixed_bfloat16")  # the caller's policy survives the retries' clear_session
    try:
        logged = []
        result = run_benchmark("tiny.yaml", mode="train", batch_size=8, steps=1, warmup=1, repeats=1,
                               log=logged.append)
        assert keras.config.dtype_policy().name == "mixed_bfloat16"
    finally:
        keras.config.set_dtype_policy("float32")
    assert result["batch_size_requested"] == 8
    assert result["batch_size"] == result["runs"][0]["batch_size"] == 2
    assert result["oom_retries"] == [
        {"batch_size": 8, "error": "OOM when allocating tensor with shape[8,4,8,8]"},
        {"batch_size": 4, "error": "OOM when allocating tensor with shape[8,4,8,8]"}]
    assert result["notes"] == ["out of memory at batch size 8: halved", "out of memory at batch size 4: halved"]
    assert "tiny.yaml: out of memory at batch size 8; retrying with 4" in logged
    assert result["runs"][0]["samples_per_s"]["median"] > 0


def test_halving_stops_at_batch_size_one():
    tried = []

    def always_exhausted(batch_size):
        tried.append(batch_size)
        raise MemoryError()

    with pytest.raises(ZooError) as info:
        halve_on_oom(always_exhausted, 5)
    assert str(info.value) == "out of memory even at batch size 1"
    assert tried == [5, 2, 1]


def test_other_errors_are_not_retried():
    tried = []

    def broken(batch_size):
        tried.append(batch_size)
        raise ValueError("not memory")

    with pytest.raises(ValueError, match="not memory"):
        halve_on_oom(broken, 8)
    assert tried == [8]


def test_halving_returns_the_result_and_the_retries():
    assert halve_on_oom(lambda b: b * 10, 8) == (80, [])


# -- settings and names ----------------------------------------------------------------------


@pytest.mark.parametrize("options,message", [
    ({"mode": "fast"}, "--mode: must be one of train, infer, both (got 'fast')"),
    ({"precision": "float16"}, "--precision: must be one of float32, mixed_float16, mixed_bfloat16 (got 'float16')"),
    ({"jit": "yes"}, "--jit: must be one of auto, on, off (got 'yes')"),
    ({"dataset": "imagenet"}, "--dataset: must be one of synthetic, mnist, cifar10 (got 'imagenet')"),
    ({"vs": "torch"}, "--vs: must be keras (got 'torch')"),
    ({"batch_size": 0}, "--batch-size: must be an integer >= 1 (got 0)"),
    ({"steps": 0}, "--steps: must be an integer >= 1 (got 0)"),
    ({"warmup": -1}, "--warmup: must be an integer >= 0 (got -1)"),
    ({"repeats": 0}, "--repeats: must be an integer >= 1 (got 0)"),
    ({"peak_tflops": 0.0}, "--peak-tflops: must be > 0 (got 0.0)"),
])
def test_bad_settings_are_one_line(options, message):
    with pytest.raises(ZooError) as info:
        Settings(**options).check()
    assert str(info.value) == message


def test_bad_settings_fail_before_any_model_is_planned():
    with pytest.raises(ZooError, match="^--mode"):
        run_benchmark("no_such_model", mode="fast")


def test_wildcards_expand_through_the_registry():
    assert expand_names(["vgg1*", "resnet50"]) == [*zoo.list_models("vgg1*"), "resnet50"]
    assert expand_names(["vgg16", "vgg16"]) == ["vgg16"]
    with pytest.raises(ZooError) as info:
        expand_names(["alexnet*"])
    assert str(info.value) == "no model matches 'alexnet*' (see `zoo list`)"


def test_unknown_model_is_the_registry_error():
    with pytest.raises(ZooError, match="^unknown model 'vgg99'"):
        run_benchmark("vgg99")


def test_resnets_are_compared_through_their_keras_layout():
    target = prepare("resnet50", Settings(vs="keras", input_shape=(32, 32, 3)))
    assert (target.spec, target.plan.name, target.twin.application) == ("resnet50_keras", "resnet50_keras", "ResNet50")
    assert target.notes == ["resnet50 is compared as resnet50_keras, the zoo spec that reproduces "
                            "keras.applications.ResNet50"]
    assert prepare("resnet50", Settings()).spec == "resnet50"  # alone, the paper's layout


def test_a_model_without_twin_runs_alone():
    target = prepare("resnet18", Settings(vs="keras", input_shape=(32, 32, 3)))
    assert target.twin is None
    assert target.notes == ["resnet18 has no keras.applications twin: zoo only"]


def test_keras_applications_need_32_pixels():
    with pytest.raises(ShapeError) as info:
        prepare("vgg16", Settings(vs="keras", input_shape=(28, 28, 1)))
    assert str(info.value) == ("--vs keras: keras.applications.VGG16 needs an input of at least 32×32 (got 28×28×1); "
                               "pass --input-shape 32,32,1 or larger")


def test_dataset_fixes_the_input_shape():
    with pytest.raises(ShapeError) as info:
        Settings(dataset="mnist", input_shape=(32, 32, 3)).check()
    assert str(info.value) == "--dataset mnist holds 28×28×1 images; --input-shape 32×32×3 does not match"
    plan = prepare("vgg16", Settings(dataset="cifar10")).plan
    assert (plan.input_shape, plan.classes) == ((32, 32, 3), 10)  # the dataset's, unless given


# -- arithmetic ------------------------------------------------------------------------------


def test_summary_gives_median_range_and_interquartile_range():
    assert summarize([4.0, 1.0, 3.0, 2.0]) == {"median": 2.5, "min": 1.0, "max": 4.0, "iqr": 1.5,
                                               "values": [4.0, 1.0, 3.0, 2.0]}
    assert summarize([7.0]) == {"median": 7.0, "min": 7.0, "max": 7.0, "iqr": 0.0, "values": [7.0]}


def test_training_counts_three_forward_passes():
    assert runner.flops_per_sample(1000, "infer") == 2000
    assert runner.flops_per_sample(1000, "train") == 6000


def test_jit_auto_is_off_on_cpu_and_on_with_an_accelerator(monkeypatch):
    assert runner.resolve_jit("on") is True and runner.resolve_jit("off") is False
    assert runner.resolve_jit("auto") is jit_auto()
    monkeypatch.setattr(runner.system, "accelerator", lambda: {"kind": "gpu", "name": "H100", "count": 1})
    assert runner.resolve_jit("auto") is True


@pytest.mark.skipif(not (SHARED_DATA / "mnist" / "mnist.npz").is_file(), reason="needs ../shared/data/mnist")
def test_real_mnist_batches(tiny):
    result = run_benchmark(tiny, dataset="mnist", data_dir=str(SHARED_DATA), mode="train", **QUICK)
    assert (result["dataset"], result["input_shape"], result["classes"]) == ("mnist", [28, 28, 1], 10)
    assert result["macs"] == zoo.count(tiny, (28, 28, 1), 10)["macs"]
    assert result["runs"][0]["samples_per_s"]["median"] > 0
