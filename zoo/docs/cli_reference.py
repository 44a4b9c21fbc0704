"""The CLI reference, from the commands' own help: nothing here is copied from the code."""

from __future__ import annotations

from typing import Any

import typer

PAGE = "reference/cli.md"
PROG = "zoo"


def commands(app: typer.Typer | None = None) -> list[tuple[str, Any, Any]]:
    """(full name, click command, its context) for the app and every command under it, depth first.

    Duck-typed: recent typer releases ship their own copy of click, older ones use click itself.
    """
    if app is None:
        from zoo.cli.main import app
    root = typer.main.get_command(app)
    out = []

    def walk(cmd, ctx, path: str) -> None:
        out.append((path, cmd, ctx))
        if hasattr(cmd, "list_commands"):
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                if sub is not None and not sub.hidden:
                    walk(sub, sub.context_class(sub, info_name=name, parent=ctx), f"{path} {name}")

    walk(root, root.context_class(root, info_name=PROG), PROG)
    return out


def help_text(cmd, ctx) -> str:
    """The help `--help` prints, as plain text rather than rich's panels."""
    cmd.rich_markup_mode = None  # a fresh object from get_command: typer then formats like click
    if hasattr(cmd, "list_commands"):
        # click cuts a group's command descriptions to the help width ("... at..."); a fixed
        # short help is printed whole, wrapped onto more lines
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            if sub is not None:
                sub.short_help = sub.get_short_help_str(limit=300)
    return cmd.get_help(ctx).rstrip()


def anchor(path: str) -> str:
    return path.replace(" ", "-")


def cli_reference_page(app: typer.Typer | None = None) -> str:
    entries = commands(app)
    parts = ["# CLI reference\n",
             f"Every `{PROG}` command with its `--help`, generated from the commands themselves. "
             "Errors print one line to stderr, `error: file:line: path: message`, and exit with status 2.\n",
             "| Command | What it does |", "|---|---|"]
    for path, cmd, _ in entries[1:]:
        short = cmd.get_short_help_str(limit=300).replace("|", r"\|")
        parts.append(f"| [`{path}`](#{anchor(path)}) | {short} |")
    parts.append("")
    for path, cmd, ctx in entries:
        level = "#" * max(2, min(1 + path.count(" "), 4))  # zoo, zoo list: ##; zoo docs build: ###
        parts.append(f"{level} `{path}` {{#{anchor(path)}}}\n")
        parts.append(f"```text\n{help_text(cmd, ctx)}\n```\n")
    return "\n".join(parts)
