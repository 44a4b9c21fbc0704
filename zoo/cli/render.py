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

from rich.cells import cell_len
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


PLAN_COLUMNS = (("#", "right"), ("layer", "left"), ("op", "left"), ("output", "left"), ("params", "right"),
                ("MACs", "right"), ("from spec", "left"), ("adapted", "left"))


def plan_table(plan: Plan) -> Text | Table:
    """The per-layer table, drawn like rich's tables but laid out here: cells never wrap, so
    column widths are a maximum over the rows, and ResNet-1202's 4,000 rows take a fraction of
    the seconds rich's general table layout needs. A terminal too narrow for it gets rich's
    table, which wraps cells to fit."""
    rows = []
    for i, node in enumerate(plan.nodes):
        params = node.params + node.frozen
        rows.append((str(i), visible(node.name), visible(node.op), shape_text(node.shape),
                     f"{params:,}" if params else "", f"{node.macs:,}" if node.macs else "",
                     visible(node.source), visible(node.note)))
    widths = [max([cell_len(title), *(cell_len(row[c]) for row in rows)]) for c, (title, _) in enumerate(PLAN_COLUMNS)]

    if out.is_terminal and sum(widths) + 3 * len(widths) + 1 > out.width:
        return _wrapping_table(rows)

    def line(cells, bar: str) -> str:
        padded = [_pad(text, width, justify) for text, width, (_, justify) in zip(cells, widths, PLAN_COLUMNS)]
        return bar + bar.join(f" {text} " for text in padded) + bar

    def rule(left: str, fill: str, mid: str, right: str) -> str:
        return left + mid.join(fill * (w + 2) for w in widths) + right

    table = Text(no_wrap=True, overflow="ignore")
    table.append(rule("┏", "━", "┳", "┓") + "\n")
    table.append(line([title for title, _ in PLAN_COLUMNS], "┃") + "\n", style="bold")
    table.append(rule("┡", "━", "╇", "┩") + "\n")
    for row in rows:
        if row[-1]:  # an adapted layer: its note in yellow, as in the header's list
            text = line(row, "│")
            cut = len(text) - len(_pad(row[-1], widths[-1], "left")) - 2
            table.append(text[:cut])
            table.append(text[cut:-2], style="yellow")
            table.append(text[-2:] + "\n")
        else:
            table.append(line(row, "│") + "\n")
    table.append(rule("└", "─", "┴", "┘"))
    return table


def _wrapping_table(rows: list[tuple[str, ...]]) -> Table:
    table = Table(title_justify="left")
    for column, justify in PLAN_COLUMNS:
        table.add_column(column, justify=justify)
    for row in rows:
        table.add_row(*(Text(text, style="yellow" if c == len(row) - 1 else "") for c, text in enumerate(row)))
    return table


def _pad(text: str, width: int, justify: str) -> str:
    space = " " * (width - cell_len(text))
    return space + text if justify == "right" else text + space


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
