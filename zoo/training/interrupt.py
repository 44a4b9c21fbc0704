"""Ctrl-C during training that is never lost and never splits a checkpoint.

Python raises KeyboardInterrupt wherever the main thread happens to be. Inside a finaliser or some
C-level callbacks the exception is only printed and dropped; a test run once went on to its last
epoch and exited 0 after a Ctrl-C. Here the signal is remembered as well as raised, raised again at
the next batch or epoch boundary, and held back while an epoch's checkpoint, state and history are
written, so that they always describe the same epoch.
"""

from __future__ import annotations

import contextlib
import signal
import threading


class CtrlC:
    """Install for the length of ``fit``; ``check()`` at boundaries; ``held()`` around checkpoint writes."""

    def __init__(self) -> None:
        self.hit = False
        self._holding = False
        self._previous = None

    def __enter__(self) -> CtrlC:
        # Only the main thread may set handlers; leave a caller's own handler (not Python's default) alone.
        if threading.current_thread() is threading.main_thread() \
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None

    def _handler(self, signum, frame) -> None:
        self.hit = True
        if not self._holding:
            raise KeyboardInterrupt

    def check(self) -> None:
        """Raise the interrupt that arrived earlier, if one did (dropped or held back on its way)."""
        if self.hit:
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def held(self):
        """Writes that must finish together: an interrupt during them is raised once they are done."""
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
        self.check()


__all__ = ["CtrlC"]
