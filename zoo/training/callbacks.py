"""The per-epoch loop around Keras's fit: progress, honest evaluation, checkpoints, NaN guard."""

from __future__ import annotations

import math
import time
from pathlib import Path

import keras
import numpy as np

from zoo.training.interrupt import CtrlC
from zoo.training.precise_bn import recompute_batch_norm
from zoo.training.rundir import save_model_atomic, write_history, write_json


class EpochLoop(keras.callbacks.Callback):
    """After each epoch: re-estimate batch norm, validate, append history, checkpoint; stop on NaN."""

    def __init__(self, run_dir: Path, train_batches, val_batches, reporter, *, epochs: int,
                 precise_bn_batches: int, history: list[dict], state_extra: dict,
                 clock: tuple[float, float] | None = None, ctrl_c: CtrlC | None = None):
        super().__init__()
        self.ctrl_c = ctrl_c or CtrlC()  # an interrupt dropped on its way is raised at the next boundary
        self.run_dir, self.train_batches, self.val_batches = run_dir, train_batches, val_batches
        self.reporter, self.epochs, self.precise_bn_batches = reporter, epochs, precise_bn_batches
        self.history, self.state_extra = history, state_extra
        # wall seconds of the processes before a resume, and when this one started (perf_counter)
        self.seconds_before, self.process_started = clock or (0.0, time.perf_counter())
        self.diverged: tuple[int, int, float] | None = None
        self.batch_size = train_batches.batch_size

    def on_epoch_begin(self, epoch, logs=None):
        self.ctrl_c.check()
        reseed_layers(self.model, self.state_extra.get("seed") or 0, epoch)
        self.started = time.perf_counter()
        self.reporter.epoch_start(epoch + 1, self.epochs, len(self.train_batches))

    def on_train_batch_end(self, batch, logs=None):
        self.ctrl_c.check()
        logs = logs or {}
        loss = float(logs.get("loss", 0.0))
        if not math.isfinite(loss):
            self.diverged = (len(self.history) + 1, batch + 1, loss)
            self.model.stop_training = True
            return
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        self.reporter.batch(batch + 1, loss, float(logs.get("accuracy", 0.0)), (batch + 1) * self.batch_size / elapsed)

    def on_epoch_end(self, epoch, logs=None):
        if self.diverged is not None:
            return
        logs = logs or {}
        seconds = time.perf_counter() - self.started
        images = len(self.train_batches) * self.batch_size
        if self.val_batches is not None or epoch + 1 >= self.epochs:
            # Only an evaluation reads the statistics: without a validation split, only the final test does.
            recompute_batch_norm(self.model, self.train_batches, self.precise_bn_batches)
        row = {"epoch": epoch + 1, "loss": float(logs["loss"]), "accuracy": float(logs["accuracy"]),
               "val_loss": None, "val_accuracy": None, "lr": current_lr(self.model.optimizer),
               "seconds": seconds, "images_per_second": images / seconds}
        if not all(math.isfinite(row[k]) for k in ("loss", "accuracy")):
            self.diverged = (epoch + 1, len(self.train_batches), row["loss"])
            self.model.stop_training = True
            return
        if self.val_batches is not None:
            scores = self.model.evaluate(self.val_batches, verbose=0, return_dict=True)
            row["val_loss"], row["val_accuracy"] = float(scores["loss"]), float(scores["accuracy"])
        self.ctrl_c.check()
        with self.ctrl_c.held():  # the epoch's row, checkpoint and state are written whole, or not begun
            self.history.append(row)
            self.checkpoint(epoch + 1)
            self.reporter.epoch_done(row)

    def checkpoint(self, epoch: int) -> None:
        """Model and optimizer first, then the state that points at them: a kill between the two loses nothing."""
        folder = self.run_dir / "checkpoints"
        path = folder / f"epoch-{epoch:04d}.keras"
        save_model_atomic(self.model, path)
        # Shuffling and augmentation are seeded by (seed, epoch), so the epoch number is the data RNG state.
        state = {"epoch": epoch, "checkpoint": path.name, "history": self.history,
                 "rng": {"seed": self.state_extra.get("seed"), "next_epoch": epoch},
                 "seconds": self.seconds_before + time.perf_counter() - self.process_started, **self.state_extra}
        write_json(folder / "state.json", state)
        write_history(self.run_dir / "history.csv", self.history)
        for old in folder.glob("epoch-*.keras"):
            if old.name != path.name:
                old.unlink(missing_ok=True)


def reseed_layers(model, seed: int, epoch: int) -> None:
    """Set every random layer's generator (dropout masks...) from (seed, epoch).

    Left alone, a generator's state runs on from the previous epoch in this process only; a resumed
    process would start it afresh and draw other masks. Seeded per epoch, both draw the same.
    """
    states = [v for v in model.variables if v.name == "seed_generator_state"]
    for i, state in enumerate(states):
        value = int(np.random.default_rng([seed, epoch, i]).integers(1, 2**31 - 1))
        state.assign(keras.ops.convert_to_tensor(np.array([value, 0]), dtype=state.dtype))


def current_lr(optimizer) -> float:
    lr = optimizer.learning_rate
    return float(np.asarray(keras.ops.convert_to_numpy(lr)))
