"""Rich tables for the CLI. The only module that formats for people.

Everything that came from the user (model names, families, paper rows, file paths, notes) goes
through `cell` or `safe` here: control characters are written out (``\\x1b``, never a raw ESC
that could recolour or retitle the terminal) and rich markup in it (``[/bold]``) is text, not style.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Iterator

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from zoo.errors import visible
from zoo.plan.graph import Plan
from zoo.plan.ops import shape_text

# Piped output is not cut: rich's 80-column default for a non-terminal would crop the tables.
PIPE_WIDTH = 1000
_width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else PIPE_WIDTH
out = Console(highlight=False, width=_width)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def safe(value: object) -> str:
    """User text to put inside a markup string: control characters visible, markup escaped."""
    return escape(visible(str(value)))


def cell(value: object, style: str = "") -> Text:
    """User text as a table cell: a `Text` is never parsed as markup."""
    return Text(visible(str(value)), style=style)


def models_table(plans: list[Plan]) -> Table:
    table = Table(title="zoo models", title_justify="left")
    for column, justify in (("name", "left"), ("family", "left"), ("depth", "right"), ("paper row", "left"),
                            ("input", "left"), ("params", "right"), ("GMACs", "right"), ("paper says", "left")):
        table.add_column(column, justify=justify, no_wrap=True)
    for plan in plans:
        paper = plan.meta.get("paper") or {}
        table.add_row(*map(cell, (plan.name, plan.meta.get("family") or "", plan.depth, paper.get("row", ""),
                                  shape_text(plan.input_shape), f"{plan.params:,}", f"{plan.macs / 1e9:.2f}",
                                  published_text(plan.meta.get("published")))))
    return table


def published_text(published: dict | None) -> str:
    if not published:
        return ""
    parts = []
    if published.get("params_millions"):
        parts.append(f"{published['params_millions']:g} M params")
    if published.get("gflops"):
        parts.append(f"{published['gflops']:g} GFLOPs")
    return ", ".join(parts)


def plan_header(plan: Plan) -> str:
    lines = [f"[bold]{safe(plan.name)}[/bold]  {shape_text(plan.input_shape)} → {shape_text(plan.output_shape)}"
             f"  ({plan.classes} classes, policy {plan.policy})",
             f"params {plan.params:,}  (trainable {plan.trainable_params:,}, non-trainable "
             f"{plan.non_trainable_params:,})   MACs {plan.macs:,} ({plan.macs / 1e9:.3f} G)   depth {plan.depth}"]
    lines += adapted_lines(plan)
    return "\n".join(lines)


def adapted_lines(plan: Plan) -> list[str]:
    """One line per layer adapted to this input, naming it: the README promises the builder says so."""
    if not plan.adapted:
        return []
    lines = [f"[yellow]{len(plan.adapted)} layer(s) adapted to this input:[/yellow]"]
    for node in plan.adapted:
        lines.append(f"  [yellow]{safe(node.name)}[/yellow] ({safe(node.source)}): {safe(node.note)}")
    return lines


def plan_table(plan: Plan) -> Table:
    table = Table(title_justify="left")
    for column, justify in (("#", "right"), ("layer", "left"), ("op", "left"), ("output", "left"),
                            ("params", "right"), ("MACs", "right"), ("from spec", "left"), ("adapted", "left")):
        table.add_column(column, justify=justify)
    for i, node in enumerate(plan.nodes):
        params = node.params + node.frozen
        table.add_row(str(i), cell(node.name), cell(node.op), shape_text(node.shape), f"{params:,}" if params else "",
                      f"{node.macs:,}" if node.macs else "", cell(node.source), cell(node.note, "yellow"))
    return table


@contextlib.contextmanager
def summary_width() -> Iterator[None]:
    """Keras prints its summary through a console of its own, 80 columns when piped: give it ours."""
    if _width is None:
        yield
        return
    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(_width)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = before
