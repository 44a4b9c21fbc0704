"""The library's one error type for bad input: specs, names, shapes, data."""

from __future__ import annotations

# Every character str.splitlines() breaks at, written as repr() writes it: a key or model
# name read from YAML may hold any of them, and the error must still be one line.
_ONE_LINE = {c: repr(chr(c))[1:-1] for c in (0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029)}


class ZooError(Exception):
    """Bad input. ``str(error)`` is one line: ``file:line: path: message``."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 path: str | None = None, more: tuple[ZooError, ...] = ()):
        self.message = message
        self.file = file
        self.line = line
        self.path = path
        self.more = more  # further problems found in the same pass (``zoo validate`` prints all)
        super().__init__(self.line_text())

    def line_text(self) -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        field = f"{self.path}: " if self.path else ""
        return f"{where}{field}{self.message}".translate(_ONE_LINE)

    def all_lines(self) -> list[str]:
        return [self.line_text(), *(e.line_text() for e in self.more)]


class SpecError(ZooError):
    """A spec file or spec value is invalid."""


class ShapeError(ZooError):
    """An input shape is invalid, or a strict plan cannot fit the input."""


class UnknownModelError(ZooError):
    """No spec of that name in the registry."""
