"""A name → function table that refuses to register a name twice."""

from __future__ import annotations

from typing import Callable, Generic, TypeVar

F = TypeVar("F", bound=Callable)


class KindTable(Generic[F]):
    def __init__(self, what: str):
        self.what = what
        self._table: dict[str, F] = {}

    def register(self, *names: str) -> Callable[[F], F]:
        def add(fn: F) -> F:
            for name in names:
                if name in self._table:
                    raise RuntimeError(f"{self.what} {name!r} is registered twice")
                self._table[name] = fn
            return fn
        return add

    def __getitem__(self, name: str) -> F:
        return self._table[name]

    def __contains__(self, name: str) -> bool:
        return name in self._table

    def names(self) -> list[str]:
        return sorted(self._table)
