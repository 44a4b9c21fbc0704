"""Compare run folders: the figures from each run's config.json and metrics.json (schema-checked)."""

from __future__ import annotations

from pathlib import Path

from zoo.errors import ZooError
from zoo.training.runfiles import Config, Metrics, read_json, read_state

COLUMNS = [("model", "model"), ("dataset", "dataset"), ("recipe", "recipe"), ("epochs", "epochs"),
           ("limit", "limit"), ("params", "params"), ("train acc", "train_accuracy"), ("val acc", "val_accuracy"),
           ("test acc", "test_accuracy"), ("time (s)", "seconds"), ("img/s", "images_per_second"),
           ("status", "status")]
TEXT = ("model", "dataset", "recipe", "status")


def collect(runs) -> list[dict]:
    return [read_run(Path(run)) for run in runs]


def collect_all(runs) -> tuple[list[dict], list[ZooError]]:
    """Rows for the runs that read well, and one error per damaged folder (which does not stop the others)."""
    rows, problems = [], []
    for run in runs:
        try:
            rows.append(read_run(Path(run)))
        except ZooError as e:
            problems.append(e)
    return rows, problems


def read_run(run: Path) -> dict:
    metrics_file, config_file = run / "metrics.json", run / "config.json"
    if not config_file.exists():
        raise ZooError("not a run folder (no config.json)", file=str(run))
    config = read_json(config_file, Config)
    data = config.dataset
    limit = f"{data.limit or 'all'}" + (f", test {data.test_limit}" if data.test_limit else "")
    row = {"run": str(run), "model": config.model, "dataset": data.label, "recipe": config.recipe_name,
           "limit": limit, "params": config.params, "planned_epochs": config.recipe.get("epochs")}
    if metrics_file.exists():
        m = read_json(metrics_file, Metrics)
        row.update(epochs=m.epochs, train_accuracy=m.final_train_accuracy, val_accuracy=m.best_val_accuracy,
                   test_accuracy=m.test_accuracy, seconds=m.train_seconds, images_per_second=m.images_per_second,
                   status="done")
    else:
        history = read_state(run).history if (run / "checkpoints" / "state.json").exists() else []
        last = history[-1] if history else None
        row.update(epochs=len(history), train_accuracy=last and last.accuracy,
                   val_accuracy=last and last.val_accuracy, test_accuracy=None,
                   seconds=sum(r.seconds for r in history) or None,
                   images_per_second=last and last.images_per_second, status="unfinished")
    return row


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
    from rich.markup import escape
    from rich.table import Table

    from zoo.errors import visible

    rows = rows if rows is not None else collect(runs)
    table = Table(title="runs", title_justify="left")
    for title, key in COLUMNS:
        table.add_column(title, justify="left" if key in TEXT else "right")
    for row in rows:
        table.add_row(*(escape(visible(cell(key, row.get(key)))) for _, key in COLUMNS))
    return table


def run_table(run):
    """One run as a two-column table: fits an 80-column terminal."""
    from rich.markup import escape
    from rich.table import Table

    from zoo.errors import visible

    row = read_run(Path(run))
    title = escape(visible(f"{row['model']} on {row['dataset']}"))
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column("figure")
    table.add_column("value", justify="right")
    for name, key in COLUMNS[2:]:
        table.add_row(name, escape(visible(cell(key, row.get(key)))))
    return table
