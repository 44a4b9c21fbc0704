"""The library's one error type for bad input: specs, names, shapes, data."""

from __future__ import annotations

# Every C0 and C1 control character (ESC starts the terminal's colour, title and clear
# sequences), DEL, the characters str.splitlines() breaks at and the bidirectional overrides,
# written as repr() writes them: a key or model name read from YAML may hold any of them, and
# what zoo prints must stay one line and must not drive the user's terminal.
_CONTROL = (*range(0x00, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, 0x200E, 0x200F,
            *range(0x202A, 0x202F), *range(0x2066, 0x206A))
_ONE_LINE = {c: repr(chr(c))[1:-1] for c in _CONTROL}


def visible(text: str) -> str:
    """``text`` with control characters written out (ESC as ``\\x1b``): safe to print to a terminal."""
    return text.translate(_ONE_LINE)


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


class WeightsError(ZooError):
    """A weights file is unreadable, or does not fit the model it is loaded into."""
