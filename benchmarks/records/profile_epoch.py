"""Where a `zoo train` run spends its time: the run under cProfile, its time split by part.

    python benchmarks/records/profile_epoch.py cifar_record --recipe cifar_record --dataset cifar10 \
        --data-dir ../shared/data --limit 10240 --epochs 1 --test-limit 2000

Prints JSON: wall seconds of the whole train() call and the cumulative seconds of each part
(input pipeline: Batches.__getitem__; per-batch callback; PreciseBN; evaluations; checkpoints;
the compiled training steps are the rest of fit). The parts are measured in the main thread,
where Keras calls them (a PyDataset with one worker is read synchronously).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import tempfile
import time
from pathlib import Path

PARTS = {  # (file suffix, function name) → part
    ("zoo/training/pipeline.py", "__getitem__"): "input pipeline (Batches.__getitem__)",
    ("zoo/training/callbacks.py", "on_train_batch_end"): "per-batch callback (NaN guard, progress)",
    ("zoo/training/precise_bn.py", "recompute_batch_norm"): "PreciseBN",
    ("zoo/training/callbacks.py", "checkpoint"): "checkpoints and history",
    ("keras/src/backend/tensorflow/trainer.py", "evaluate"): "evaluation (validation and test)",
    ("keras/src/backend/tensorflow/trainer.py", "fit"): "fit (all of training)",
    ("zoo/training/outcome.py", "finish"): "finish (test, model.keras, curves)",
    ("zoo/data/__init__.py", "load_dataset"): "loading the dataset",
    ("keras/src/callbacks/tensorboard.py", "on_epoch_end"): "TensorBoard",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("spec")
    parser.add_argument("--recipe")
    parser.add_argument("--dataset", default="cifar10")
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--test-limit", type=int)
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()
    from zoo.training.trainer import train

    profile = cProfile.Profile()
    with tempfile.TemporaryDirectory() as work:
        start = time.perf_counter()
        profile.enable()
        result = train(args.spec, args.dataset, args.recipe, data_dir=args.data_dir, limit=args.limit,
                       test_limit=args.test_limit, epochs=args.epochs, out=Path(work) / "run")
        profile.disable()
        wall = time.perf_counter() - start
    stats = pstats.Stats(profile).stats
    parts = {name: 0.0 for name in PARTS.values()}
    calls = {name: 0 for name in PARTS.values()}
    for (file, _, function), (_, ncalls, _, cumulative, _) in stats.items():
        for (suffix, wanted), name in PARTS.items():
            if function == wanted and file.endswith(suffix):
                parts[name] += cumulative
                calls[name] += ncalls
    epoch_s = sum(row["seconds"] for row in result.history)
    print(json.dumps({"wall_s": round(wall, 2), "epoch_s (history)": round(epoch_s, 2),
                      "images_per_second": result.metrics["images_per_second"],
                      "test_accuracy": result.metrics["test_accuracy"],
                      "parts_s": {k: round(v, 2) for k, v in parts.items()}, "calls": calls}, indent=1))


if __name__ == "__main__":
    main()
