"""How every command ends on bad input: one line on stderr, exit status 2, no traceback."""

from __future__ import annotations

import functools
import sys
from typing import Callable

import typer

from zoo.errors import ZooError


def fail(error: ZooError) -> None:
    print(f"error: {error.line_text()}", file=sys.stderr)
    raise typer.Exit(2)


def reports_errors(fn: Callable) -> Callable:
    """Wrap a command so a ZooError becomes `fail(error)`."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ZooError as e:
            fail(e)
    return wrapper
