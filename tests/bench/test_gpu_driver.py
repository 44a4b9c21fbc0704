"""benchmarks/gpu/run.py, the one-shot GPU run, on tiny synthetic settings so it never rots.

The stages are real `zoo` commands under JAX (a 235-parameter model, 64 synthetic images);
only the sizes differ from the H200 run. Nothing here asserts a time.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

pytest.importorskip("jax", reason="the GPU run is a JAX run; jax is in the test extra")

ROOT = Path(__file__).resolve().parents[2]
DRIVER = ROOT / "benchmarks" / "gpu" / "run.py"


@pytest.fixture(scope="module")
def driver():
    spec = importlib.util.spec_from_file_location("gpu_run", DRIVER)
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_run"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_smoke_run_writes_a_json_per_stage(driver, tmp_path):
    out = tmp_path / "out"
    assert driver.main(["--smoke", "--out", str(out), "--work", str(tmp_path / "work"),
                        "--only", "cifar10", "--only", "resnet50_bench"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["cifar10.json", "resnet50_bench.json", "summary.json"]
    train = json.loads((out / "cifar10.json").read_text())
    assert train["returncode"] == 0 and train["finished"] and not train["timed_out"]
    assert train["model"] == "smoke_tiny" and train["epochs_done"] == 1
    assert 0 <= train["test_accuracy"] <= 1 and 0 <= train["best_val_accuracy"] <= 1
    # the smoke target is 0, so it is reached, and the time to it is the command's wall time
    assert train["reached"] and train["time_to_target_s"] == train["wall_s"] > 0
    assert train["metrics"]["backend"] == "jax"
    bench = json.loads((out / "resnet50_bench.json").read_text())
    assert bench["outcome"] == "measured" and bench["returncode"] == 0
    assert bench["samples_per_s"] > 0 and 0 < bench["mfu"] <= 1.5
    assert bench["peak"]["size"] == 64 and bench["peak"]["tflops"]["float32"] > 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["backend"] == "jax" and [s["stage"] for s in summary["stages"]] == ["cifar10", "resnet50_bench"]


def test_a_stage_over_budget_still_writes_how_far_it_got(driver, tmp_path):
    stage = driver.train_stage("late", "vgg16", "mnist", "vgg_seed", None, tmp_path, budget_s=0.5, target=0.99)
    record = driver.run_stage(stage, {**__import__("os").environ, "KERAS_BACKEND": "jax"}, tmp_path)
    assert record["timed_out"] and record["outcome"] == "over budget"
    assert record["finished"] is False and record["test_accuracy"] is None and record["time_to_target_s"] is None
    assert record["epochs_done"] == 0 and record["best_val_accuracy"] is None


def test_the_gpu_stages_are_the_issue_s(driver, tmp_path):
    import zoo
    from zoo.training.recipe import load_recipe

    stages = {s.name: s for s in driver.full_stages("/data", tmp_path)}
    vgg, cifar, bench = stages["vgg16_mnist"], stages["cifar10"], stages["resnet50_bench"]
    assert vgg.args[1].endswith("benchmarks/gpu/specs.yaml:vgg16_he") and vgg.target == 0.99
    assert vgg.args[2:4] == ["--dataset", "mnist"]
    assert cifar.args[1:4] == ["resnet18_cifar", "--dataset", "cifar10"] and cifar.target == 0.93
    assert bench.args[:5] == ["bench", "resnet50", "-i", "224,224,3", "--precision"]
    assert "mixed_bfloat16" in bench.args and "auto" in bench.args
    # vgg16_he is the paper's VGG-16 (same layers, counts and MACs), only its initialiser differs
    ours, paper = (zoo.count(name, (28, 28, 1), 10) for name in (vgg.args[1], "vgg16"))
    assert [ours[k] for k in ("params", "macs", "depth", "adapted")] == \
        [paper[k] for k in ("params", "macs", "depth", "adapted")]
    assert sum(s.budget_s for s in stages.values()) <= 8 * 60 - 40  # 40 s left for installing the wheels
    for stage, train_images in ((vgg, 60_000), (cifar, 50_000)):
        name, recipe = load_recipe(stage.args[stage.args.index("--recipe") + 1])
        assert recipe.precision == "mixed_bfloat16" and recipe.jit == "auto"
        # one evaluation batch shape for XLA: the batch divides the validation slice and the 10,000 test images
        validation = round(train_images * recipe.validation_split)
        assert validation % recipe.batch_size == 0 and 10_000 % recipe.batch_size == 0, name
        steps = (train_images - validation) // recipe.batch_size
        assert steps % recipe.steps_per_execution == 0 and recipe.steps_per_execution > 1, name
