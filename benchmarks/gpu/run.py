"""The one-shot GPU run: time-to-accuracy and a throughput/MFU figure, one JSON file per stage.

Each stage is a whole `zoo` command in its own process (so its wall time includes the
interpreter, imports, data loading, XLA compilation and the final test evaluation, as the
CPU records count it), with its own time budget: a stage that runs over is killed, and its
JSON still says how far it got (the best validation accuracy of the epochs it finished).

    python benchmarks/gpu/run.py --data-dir .gpudata --out results/    # the real run (run.sh)
    python benchmarks/gpu/run.py --smoke --out /tmp/smoke              # tiny synthetic settings, seconds

Only the standard library here: the stages import zoo, Keras and JAX themselves.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
RECIPES = HERE / "recipes.yaml"
VGG16 = f"{HERE / 'specs.yaml'}:vgg16_he"  # VGG-16 with He-normal init: the default Glorot stalls without batch norm
LOG_TAIL = 4000  # characters of a stage's output kept in its JSON


@dataclass
class Stage:
    name: str
    kind: str                  # "train" or "bench"
    args: list[str]            # after `python -m zoo.cli`
    budget_s: float
    target: float | None = None  # test accuracy to reach (train stages)
    run_dir: str | None = None   # the `--out` folder of a train stage
    notes: list[str] = field(default_factory=list)


# -- the stages ------------------------------------------------------------------------------


def cifar_model(cwd: Path) -> tuple[str, list[str]]:
    """resnet18_cifar where this zoo has it, else resnet20 (the older CIFAR ResNet)."""
    code = "import zoo, sys; sys.stdout.write(' '.join(zoo.list_models('resnet18_cifar')))"
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=cwd)
    if found.returncode != 0:  # zoo does not import: keep the intended model; the stage will say what broke
        return "resnet18_cifar", [f"could not list the zoo's models: {found.stderr.strip()[-300:]}"]
    if "resnet18_cifar" in found.stdout.split():
        return "resnet18_cifar", []
    return "resnet20", ["resnet18_cifar is not in this zoo: resnet20 instead"]


def full_stages(data_dir: str, work: Path) -> list[Stage]:
    """VGG-16 on MNIST to 99.0%, ResNet-18 on CIFAR-10 (JPEG copy) to 93%, ResNet-50 bf16 throughput.

    Budgets add up to 7 min 20 s, leaving 40 s of the 8 minutes for installing the wheels.
    """
    cifar, notes = cifar_model(work)
    return [
        train_stage("vgg16_mnist", VGG16, "mnist", f"{RECIPES}:gpu_vgg16_mnist", data_dir, work,
                    budget_s=100, target=0.99),
        train_stage("cifar10", cifar, "cifar10", f"{RECIPES}:gpu_resnet_cifar", data_dir, work,
                    budget_s=240, target=0.93, notes=notes),
        Stage("resnet50_bench", "bench",
              ["bench", "resnet50", "-i", "224,224,3", "--precision", "mixed_bfloat16", "--peak", "auto",
               "--batch-size", "256", "--warmup", "5", "--steps", "10", "--repeats", "3", "--json"],
              budget_s=100),
    ]


def smoke_stages(work: Path) -> list[Stage]:
    """The same three stages on a 235-parameter model, 64 synthetic images and a 64×64 peak matmul."""
    spec, data = write_smoke_inputs(work)
    recipe = work / "smoke_recipe.yaml"
    # steps_per_execution 2 over 3 steps an epoch: the GPU recipes' setting, with a short last execution
    recipe.write_text("smoke:\n  optimizer: {type: adam, lr: 0.01}\n  batch_size: 16\n  epochs: 1\n"
                      "  validation_split: 0.25\n  precise_bn_batches: 0\n  steps_per_execution: 2\n",
                      encoding="utf-8")
    common = {"data_dir": None, "work": work, "budget_s": 120}
    return [
        train_stage("vgg16_mnist", str(spec), str(data), str(recipe), target=0.99, **common),
        train_stage("cifar10", str(spec), str(data), str(recipe), target=0.0, **common),
        Stage("resnet50_bench", "bench",
              ["bench", str(spec), "--peak", "auto", "--peak-size", "64", "--batch-size", "4",
               "--warmup", "1", "--steps", "1", "--repeats", "1", "--json"], budget_s=120),
    ]


def write_smoke_inputs(work: Path) -> tuple[Path, Path]:
    import numpy as np

    spec = work / "smoke_tiny.yaml"
    spec.write_text("smoke_tiny:\n  input_shape: [8, 8, 1]\n  classes: 3\n  features: [4, M]\n"
                    "  head:\n    - {type: flatten}\n    - {type: classifier}\n", encoding="utf-8")
    rng = np.random.default_rng(0)
    images = lambda n: rng.integers(0, 256, (n, 8, 8), dtype=np.uint8)  # noqa: E731
    labels = lambda n: rng.integers(0, 3, n, dtype=np.uint8)  # noqa: E731
    data = work / "smoke.npz"
    np.savez(data, x_train=images(64), y_train=labels(64), x_test=images(32), y_test=labels(32))
    return spec, data


def train_stage(name: str, model: str, dataset: str, recipe: str, data_dir: str | None, work: Path, *,
                budget_s: float, target: float, notes: list[str] | None = None) -> Stage:
    run_dir = work / f"run-{name}"
    args = ["train", model, "--dataset", dataset, "--recipe", recipe, "--out", str(run_dir), "--quiet"]
    args += ["--data-dir", data_dir] if data_dir else []
    return Stage(name, "train", args, budget_s, target, str(run_dir), list(notes or []))


# -- running them -----------------------------------------------------------------------------


def run_stage(stage: Stage, env: dict[str, str], cwd: Path) -> dict:
    """Run one stage's command within its budget; its record, whatever happened."""
    command = [sys.executable, "-m", "zoo.cli", *stage.args]
    start = time.perf_counter()
    # A process group of its own, so a stage over budget is killed with anything it started.
    # From the work folder, so `python -m` imports the installed zoo (the carried wheel), not a checkout's.
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                               cwd=cwd, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=stage.budget_s)
        timed_out = False
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        timed_out = True
    wall_s = time.perf_counter() - start
    record = {"stage": stage.name, "kind": stage.kind, "command": ["zoo", *stage.args],
              "budget_s": stage.budget_s, "wall_s": round(wall_s, 2), "timed_out": timed_out,
              "returncode": process.returncode, "notes": stage.notes,
              "log_tail": (stdout[-LOG_TAIL // 2:] if stage.kind == "train" else "") + stderr[-LOG_TAIL:]}
    if stage.kind == "train":
        record.update(train_outcome(stage, wall_s, timed_out))
    else:
        record.update(bench_outcome(stdout))
        if timed_out:
            record["outcome"] = "over budget"
    return record


def train_outcome(stage: Stage, wall_s: float, timed_out: bool) -> dict:
    """Test accuracy when the command finished; else the best validation accuracy of the finished epochs."""
    run_dir = Path(stage.run_dir)
    history = read_json(run_dir / "checkpoints" / "state.json", {}).get("history", [])
    metrics = read_json(run_dir / "metrics.json", None)
    vals = [row["val_accuracy"] for row in history if row.get("val_accuracy") is not None]
    test = metrics["test_accuracy"] if metrics else None
    reached = test is not None and test >= stage.target
    return {"model": metrics["model"] if metrics else stage.args[1], "target_accuracy": stage.target,
            "finished": metrics is not None, "test_accuracy": test, "reached": reached,
            # the whole command's wall time, as for the CPU records: only when the target was reached
            "time_to_target_s": round(wall_s, 2) if reached else None,
            "best_val_accuracy": max(vals) if vals else None, "epochs_done": len(history),
            "train_seconds": metrics["train_seconds"] if metrics else sum(r["seconds"] for r in history),
            "images_per_second": metrics["images_per_second"] if metrics else None,
            "metrics": metrics, "history": history,
            "outcome": ("reached" if reached else "missed the target" if metrics
                        else "over budget" if timed_out else "failed")}


def bench_outcome(stdout: str) -> dict:
    try:
        document = json.loads(stdout)
    except ValueError:
        return {"outcome": "failed", "bench": None}
    runs = [run for result in document["results"] for run in result["runs"]]
    first = runs[0] if runs else {}
    return {"outcome": "measured", "samples_per_s": first.get("samples_per_s", {}).get("median"),
            "tflops": first.get("tflops"), "mfu": first.get("mfu"), "peak": document.get("peak"),
            "bench": document}


def read_json(path: Path, default):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


def write_json(path: Path, value) -> None:
    temp = path.with_suffix(".tmp")
    temp.write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")
    os.replace(temp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path, help="Where the stage JSON files go.")
    parser.add_argument("--data-dir", help="Holds mnist/mnist.npz and cifar10/cifar10-jpeg.tar.gz.")
    parser.add_argument("--work", type=Path, help="Run folders and checkpoints (default: a temporary folder).")
    parser.add_argument("--smoke", action="store_true", help="Tiny synthetic settings: checks the driver in seconds.")
    parser.add_argument("--only", action="append", help="Run only this stage (repeatable).")
    args = parser.parse_args(argv)
    if not args.smoke and not args.data_dir:
        parser.error("--data-dir is needed (or --smoke)")
    args.out.mkdir(parents=True, exist_ok=True)
    work = (args.work or Path(tempfile.mkdtemp(prefix="zoo-gpu-"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "jax"), "PYTHONUNBUFFERED": "1"}
    stages = smoke_stages(work) if args.smoke else full_stages(str(Path(args.data_dir).resolve()), work)
    stages = [s for s in stages if not args.only or s.name in args.only]
    started = time.perf_counter()
    summary = {"smoke": args.smoke, "backend": env["KERAS_BACKEND"], "python": platform.python_version(),
               "host": platform.node(), "zoo_commit": os.environ.get("ZOO_COMMIT"), "stages": []}
    for stage in stages:
        print(f"[gpu] {stage.name}: zoo {' '.join(stage.args)} (budget {stage.budget_s:.0f} s)", flush=True)
        record = run_stage(stage, env, work)
        write_json(args.out / f"{stage.name}.json", record)
        print(f"[gpu] {stage.name}: {record['outcome']} in {record['wall_s']:.1f} s", flush=True)
        summary["stages"].append({k: record.get(k) for k in (
            "stage", "outcome", "wall_s", "model", "target_accuracy", "test_accuracy", "best_val_accuracy",
            "time_to_target_s", "epochs_done", "samples_per_s", "mfu")})
    summary["total_s"] = round(time.perf_counter() - started, 2)
    write_json(args.out / "summary.json", summary)
    print(json.dumps(summary, indent=2), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
