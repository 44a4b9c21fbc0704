"""Small markdown writers shared by the page generators."""

from __future__ import annotations

from typing import Iterable, Sequence


def fold(value) -> str:
    """Text on one line."""
    return str(value).replace("\n", " ")


def cell(value) -> str:
    """One table cell: pipes escaped, newlines folded."""
    return str(value).replace("|", r"\|").replace("\n", " ")


def table(header: Sequence[str], rows: Iterable[Sequence], align: str | None = None) -> str:
    """A pipe table; ``align`` has one letter per column: l, r or c.

    A header of empty strings (key/value facts) gives a list instead: a pipe table must have a
    header row, and an empty one renders as a blank bar above the facts.
    """
    if not any(str(h).strip() for h in header):
        return "".join(f"- **{fold(row[0])}**: {' '.join(fold(v) for v in row[1:])}\n" for row in rows)
    align = align or "l" * len(header)
    rule = {"l": "---", "r": "--:", "c": ":-:"}
    lines = ["| " + " | ".join(cell(h) for h in header) + " |",
             "|" + "|".join(rule[a] for a in align) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def fence(text: str, lang: str = "", title: str | None = None) -> str:
    ticks = "````" if "```" in text else "```"
    info = lang + (f' title="{title}"' if title else "")
    return f"{ticks}{info}\n{text.rstrip()}\n{ticks}\n"


def indent(text: str, spaces: int = 4) -> str:
    pad = " " * spaces
    return "\n".join(pad + line if line.strip() else "" for line in text.splitlines()) + "\n"


def details(title: str, body: str, kind: str = "note", open_: bool = False) -> str:
    """A collapsible admonition (pymdownx.details)."""
    marker = "???+" if open_ else "???"
    return f'{marker} {kind} "{title}"\n\n{indent(body)}\n'



def millions(value: float) -> str:
    return f"{value:g} M"
