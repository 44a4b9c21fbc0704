"""Rich tables for the CLI. The only module that formats for people."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from zoo.plan.graph import Plan
from zoo.plan.ops import shape_text

import os
import sys

# Piped output gets room for the tables rather than rich's 80-column default.
_width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 140
out = Console(highlight=False, width=_width)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def models_table(plans: list[Plan]) -> Table:
    table = Table(title="zoo models", title_justify="left")
    for column, justify in (("name", "left"), ("family", "left"), ("depth", "right"), ("paper row", "left"),
                            ("input", "left"), ("params", "right"), ("GMACs", "right"), ("paper says", "left")):
        table.add_column(column, justify=justify, no_wrap=True)
    for plan in plans:
        paper = plan.meta.get("paper") or {}
        table.add_row(plan.name, plan.meta.get("family") or "", str(plan.depth), paper.get("row", ""),
                      shape_text(plan.input_shape), f"{plan.params:,}", f"{plan.macs / 1e9:.2f}",
                      published_text(plan.meta.get("published")))
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
    lines = [f"[bold]{plan.name}[/bold]  {shape_text(plan.input_shape)} → {shape_text(plan.output_shape)}"
             f"  ({plan.classes} classes, policy {plan.policy})",
             f"params {plan.params:,}  (trainable {plan.trainable_params:,}, non-trainable "
             f"{plan.non_trainable_params:,})   MACs {plan.macs:,} ({plan.macs / 1e9:.3f} G)   depth {plan.depth}"]
    if plan.adapted:
        lines.append(f"[yellow]{len(plan.adapted)} layer(s) adapted to this input[/yellow]")
    return "\n".join(lines)


def plan_table(plan: Plan) -> Table:
    table = Table(title_justify="left")
    for column, justify in (("#", "right"), ("layer", "left"), ("op", "left"), ("output", "left"),
                            ("params", "right"), ("MACs", "right"), ("from spec", "left"), ("adapted", "left")):
        table.add_column(column, justify=justify)
    for i, node in enumerate(plan.nodes):
        params = node.params + node.frozen
        table.add_row(str(i), node.name, node.op, shape_text(node.shape), f"{params:,}" if params else "",
                      f"{node.macs:,}" if node.macs else "", node.source,
                      f"[yellow]{node.note}[/yellow]" if node.note else "")
    return table
