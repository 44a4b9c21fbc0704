"""Progress for people: a rich bar per epoch, or plain log lines with --quiet."""

from __future__ import annotations

import sys
import time


class PlainReporter:
    """One line per epoch; nothing per batch."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr

    def epoch_start(self, epoch: int, epochs: int, steps: int) -> None:
        self.epoch, self.epochs = epoch, epochs

    def batch(self, step: int, loss: float, accuracy: float, images_per_second: float) -> None:
        pass

    def epoch_done(self, row: dict) -> None:
        print(epoch_line(row, self.epochs), file=self.stream, flush=True)

    def message(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def close(self) -> None:
        pass


class RichReporter(PlainReporter):
    """A live bar with loss, accuracy and images/s; a summary line when each epoch ends."""

    def __init__(self):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.console = Console(stderr=True, highlight=False)
        self.progress = Progress(TextColumn("epoch {task.fields[epoch]}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("loss {task.fields[loss]:.4f}  acc {task.fields[acc]:.4f}  "
                                            "{task.fields[ips]:.0f} img/s"), TimeRemainingColumn(),
                                 console=self.console, transient=True)
        self.progress.start()
        self.task = None
        self._last = 0.0

    def epoch_start(self, epoch: int, epochs: int, steps: int) -> None:
        super().epoch_start(epoch, epochs, steps)
        if self.task is not None:
            self.progress.remove_task(self.task)
        self.task = self.progress.add_task("train", total=steps, epoch=f"{epoch}/{epochs}", loss=0.0, acc=0.0, ips=0.0)

    def batch(self, step: int, loss: float, accuracy: float, images_per_second: float) -> None:
        now = time.monotonic()
        if now - self._last > 0.1:
            self._last = now
            self.progress.update(self.task, completed=step, loss=loss, acc=accuracy, ips=images_per_second)

    def epoch_done(self, row: dict) -> None:
        if self.task is not None:
            self.progress.update(self.task, completed=self.progress.tasks[0].total if self.progress.tasks else None)
            self.progress.remove_task(self.task)
            self.task = None
        self.console.print(epoch_line(row, self.epochs))

    def message(self, text: str) -> None:
        self.console.print(text)

    def close(self) -> None:
        self.progress.stop()


def epoch_line(row: dict, epochs: int) -> str:
    val = ""
    if row.get("val_accuracy") is not None:
        val = f"  val_loss {row['val_loss']:.4f}  val_acc {row['val_accuracy']:.4f}"
    return (f"epoch {row['epoch']}/{epochs}  loss {row['loss']:.4f}  acc {row['accuracy']:.4f}{val}"
            f"  lr {row['lr']:.3g}  {row['seconds']:.1f}s  {row['images_per_second']:.0f} img/s")
