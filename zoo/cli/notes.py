"""Lines that tell the user what a command did on their behalf (to stderr, so --json stays clean)."""

from __future__ import annotations

import sys

from zoo.errors import visible


def say_loaded(loaded) -> None:
    """What `--weights` loaded, and a `note:` line for each thing it did not load as the file has it."""
    for line in loaded.lines():
        print(visible(line), file=sys.stderr)
