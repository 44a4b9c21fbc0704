"""Time-to-accuracy records: a whole `zoo train` command, timed from its start to its last test
prediction (Python and TensorFlow start-up and data loading included), with the machine it ran on.

    python -m zoo.bench.records mnist [--out benchmarks/results/records]

writes ``<out>/<name>.json``; ``docs/records.md`` is generated from those files.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path


@dataclass(frozen=True)
class Record:
    name: str
    spec: str
    dataset: str
    recipe: str
    target: float                 # test accuracy to reach
    budget_s: float               # the wall time the record must stay within
    goal: str                     # what it answers, in words

    def args(self, data_dir: str, out: str) -> list[str]:
        return ["train", self.spec, "--dataset", self.dataset, "--recipe", self.recipe, "--data-dir", data_dir,
                "--out", out, "--quiet"]


RECORDS = {r.name: r for r in (
    Record("mnist", "vgg_mini", "mnist", "mnist_record", 0.995, 180,
           "MNIST to 99.5 % within 3 minutes on two CPU cores"),
    Record("cifar10", "cifar_record", "cifar10", "cifar_record", 0.85, 600,
           "CIFAR-10 (JPEG copy) to 85 % within 10 minutes on two CPU cores"),
    # The seed's architectures to the seed's accuracy, within the seed's own GPU time for 50 epochs.
    Record("resnet50_mnist", "resnet50_zero_init", "mnist", "resnet50_mnist", 0.9842, 1980,
           "ResNet-50 on MNIST to the seed's 98.42 % in at most 2 epochs, within the seed's 33 min (50 epochs on a GPU)"),
    Record("vgg16_mnist", "benchmarks/gpu/specs.yaml:vgg16_he", "mnist", "mnist_vgg16", 0.9897, 1862,
           "VGG-16 (no batch norm) on MNIST to the seed's 98.97 % in 2 epochs, within the seed's 1,862 s on a GPU"),
    Record("vgg16_cifar10", "benchmarks/gpu/specs.yaml:vgg16_he", "cifar10", "cifar_vgg16", 0.7269, 3600,
           "VGG-16 (no batch norm) on CIFAR-10 (JPEG copy) to the seed's 72.69 % in 3 epochs, within an hour"),
)}


def run_record(record: Record, data_dir: str, work: Path) -> dict:
    """Run it once; the result as the JSON file holds it."""
    from zoo import system

    run_dir = work / f"run-{record.name}"
    command = [sys.executable, "-m", "zoo.cli", *record.args(data_dir, str(run_dir))]
    load_before = system.load_average()
    start = time.perf_counter()
    usage_before = os.times()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - start
    usage = os.times()
    if done.returncode != 0:
        raise SystemExit(f"records: {record.name}: zoo train exited {done.returncode}: "
                         f"{done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ''}")
    metrics = json.loads((run_dir / "metrics.json").read_text())
    info = system.describe()
    from zoo.bench.peak import measure_peak  # after the run, on the same machine: its own float32 matmul peak

    peak = measure_peak(("float32",))["tflops"]["float32"]
    # a training image costs about 3 passes of 2 FLOPs per multiply-add (forward, two backward products)
    achieved = 6 * metrics["macs"] * metrics["images_per_second"] / 1e12
    return {"record": record.name, "goal": record.goal, "target": record.target, "budget_s": record.budget_s,
            "command": " ".join(["zoo", *record.args("../shared/data", "runs/" + record.name)]),
            "spec": record.spec, "dataset": metrics["dataset_label"], "recipe": record.recipe,
            "test_accuracy": metrics["test_accuracy"], "epochs": metrics["epochs"],
            "wall_s": round(wall, 1), "train_s": round(metrics["train_seconds"], 1),
            "cpu_s": round((usage.children_user - usage_before.children_user)
                           + (usage.children_system - usage_before.children_system), 1),
            "images_per_second": round(metrics["images_per_second"], 1), "macs": metrics["macs"],
            "test_accuracy_unflipped": metrics.get("test_accuracy_unflipped"),
            "history": _history(run_dir),
            "train_tflops": round(achieved, 4), "peak_tflops_float32": round(peak, 4) if peak else None,
            "mfu": round(achieved / peak, 3) if peak else None,
            "met": metrics["test_accuracy"] >= record.target and wall <= record.budget_s,
            "machine": {"cpu": info["cpu"], "cores": info["cpu_count"], "accelerator": info["accelerator"],
                        "backend": info["backend"], "load_average_before": load_before,
                        "load_average_after": system.load_average()},
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"), "versions": system.versions()}


def _history(run_dir: Path) -> list[dict]:
    """Each epoch's training loss and accuracy (on augmented images) and seconds: where the time went."""
    from zoo.training.runfiles import history_rows, read_state

    return [{"epoch": row["epoch"], "loss": round(row["loss"], 4), "accuracy": round(row["accuracy"], 4),
             "seconds": round(row["seconds"], 1)} for row in history_rows(read_state(run_dir))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m zoo.bench.records", description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="+", choices=sorted(RECORDS))
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--out", default="benchmarks/results/records")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in args.names:
        with tempfile.TemporaryDirectory() as work:
            result = run_record(RECORDS[name], args.data_dir, Path(work))
        (out / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
        print(f"{name}: {100 * result['test_accuracy']:.2f}% in {result['wall_s']:.0f} s "
              f"({'met' if result['met'] else 'not met'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["RECORDS", "Record", "run_record"]
