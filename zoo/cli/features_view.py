"""`zoo show NAME --features`: the feature maps a backbone build returns, as a table or JSON."""

from __future__ import annotations

from rich.table import Table

from zoo.plan.ops import shape_text


def features_table(name: str, input_shape, found: list[dict]) -> Table:
    table = Table(title=f"{name} feature maps at {shape_text(input_shape)}", title_justify="left")
    for column, justify in (("feature", "left"), ("layer", "left"), ("shape", "left"),
                            ("channels", "right"), ("stride", "right")):
        table.add_column(column, justify=justify, no_wrap=True)
    from zoo.cli.render import cell

    for f in found:
        sh, sw = f["stride"]
        table.add_row(*map(cell, (f["name"], f["layer"], shape_text(f["shape"]), f["channels"],
                                  sh if sh == sw else f"{sh}×{sw}")))
    return table
