"""Compare run folders: the figures from each run's config.json and metrics.json."""

from __future__ import annotations

import json
from pathlib import Path

from zoo.errors import ZooError

COLUMNS = [("model", "model"), ("dataset", "dataset"), ("params", "params"), ("epochs", "epochs"),
           ("train acc", "train_accuracy"), ("val acc", "val_accuracy"), ("test acc", "test_accuracy"),
           ("time (s)", "seconds"), ("img/s", "images_per_second"), ("status", "status")]


def collect(runs) -> list[dict]:
    return [read_run(Path(run)) for run in runs]


def read_run(run: Path) -> dict:
    metrics_file, config_file = run / "metrics.json", run / "config.json"
    if not config_file.exists():
        raise ZooError("not a run folder (no config.json)", file=str(run))
    config = _load(config_file)
    row = {"run": str(run), "model": config.get("model"), "dataset": config.get("dataset", {}).get("label"),
           "params": config.get("params")}
    if metrics_file.exists():
        m = _load(metrics_file)
        row.update(epochs=m["epochs"], train_accuracy=m["final_train_accuracy"],
                   val_accuracy=m["best_val_accuracy"], test_accuracy=m["test_accuracy"],
                   seconds=m["train_seconds"], images_per_second=m["images_per_second"], status="done")
    else:
        state_file = run / "checkpoints" / "state.json"
        history = _load(state_file).get("history", []) if state_file.exists() else []
        last = history[-1] if history else {}
        row.update(epochs=len(history), train_accuracy=last.get("accuracy"), val_accuracy=last.get("val_accuracy"),
                   test_accuracy=None, seconds=sum(r["seconds"] for r in history) or None,
                   images_per_second=last.get("images_per_second"), status="unfinished")
    return row


def _load(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ZooError(f"unreadable ({e})", file=str(path)) from None


def cell(key: str, value) -> str:
    if value is None:
        return "–"
    if key.endswith("accuracy"):
        return f"{100 * value:.2f}%"
    if key == "params":
        return f"{value:,}"
    if key in ("seconds", "images_per_second"):
        return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"
    return str(value)


def markdown_table(rows: list[dict]) -> str:
    head = "| " + " | ".join(title for title, _ in COLUMNS) + " |"
    rule = "|" + "|".join("---" for _ in COLUMNS) + "|"
    body = ["| " + " | ".join(cell(key, row.get(key)) for _, key in COLUMNS) + " |" for row in rows]
    return "\n".join([head, rule, *body]) + "\n"


def metrics_table(runs, rows: list[dict] | None = None):
    from rich.table import Table

    rows = rows if rows is not None else collect(runs)
    table = Table(title="runs", title_justify="left")
    for title, key in COLUMNS:
        table.add_column(title, justify="left" if key in ("model", "dataset", "status") else "right")
    for row in rows:
        table.add_row(*(cell(key, row.get(key)) for _, key in COLUMNS))
    return table


def run_table(run):
    """One run as a two-column table: fits an 80-column terminal."""
    from rich.table import Table

    row = read_run(Path(run))
    table = Table(title=f"{row['model']} on {row['dataset']}", title_justify="left", show_header=False)
    table.add_column("figure")
    table.add_column("value", justify="right")
    for title, key in COLUMNS[2:]:
        table.add_row(title, cell(key, row.get(key)))
    return table
