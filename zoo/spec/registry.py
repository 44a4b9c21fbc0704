"""The registry: every spec file's models by name, with `extends` resolved.

One source of truth for ``zoo list``, the docs and the tests' parametrization.
"""

from __future__ import annotations

import difflib
import fnmatch
import os
import re
from dataclasses import dataclass
from pathlib import Path

from zoo.errors import SpecError, UnknownModelError
from zoo.spec import schema
from zoo.spec.schema import ModelSpec
from zoo.spec.validate import validate_model
from zoo.spec.yamlfile import LineDict, display_name, read_spec_file

SPEC_SUFFIXES = (".yaml", ".yml", ".json")
MAX_EXTENDS_DEPTH = 32
_NAME = re.compile(schema.MODEL_NAME_PATTERN)


def builtin_spec_dir() -> Path:
    """Specs ship inside the wheel as ``zoo/_specs``; a source checkout has ``specs/``."""
    here = Path(__file__).resolve().parent.parent
    packaged = here / "_specs"
    return packaged if packaged.is_dir() else here.parent / "specs"


@dataclass(frozen=True)
class Entry:
    name: str
    file: str
    raw: LineDict


class Registry:
    """Models from spec files; a child registry sees its parent's models too.

    ``kind`` names what the files hold in error messages: training recipes use the same
    files, `extends` and errors as models.
    """

    def __init__(self, parent: Registry | None = None, kind: str = "model"):
        self.parent, self.kind = parent, kind
        self._entries: dict[str, Entry] = {}
        self._specs: dict[str, ModelSpec] = {}

    def add_file(self, path: str | os.PathLike) -> list[str]:
        data = read_spec_file(path)
        names = []
        for name, raw in data.items():
            line = data.key_where[name][1]
            file = raw.where[0]
            if not _NAME.fullmatch(name):
                raise SpecError(f"not a valid {self.kind} name: {schema.MODEL_NAME_RULE} (got {name!r})",
                                file=file, line=line)
            clash = self._entries.get(name)
            if clash is not None:
                raise SpecError(f"{self.kind} {name!r} is defined twice (also in {clash.file}:{clash.raw.where[1]})",
                                file=file, line=line)
            self._entries[name] = Entry(name, file, raw)
            names.append(name)
        return names

    def add_dir(self, folder: Path) -> None:
        for path in sorted(folder.iterdir()):
            if path.suffix in SPEC_SUFFIXES and path.is_file():
                self.add_file(path)

    def entry(self, name: str) -> Entry | None:
        found = self._entries.get(name)
        if found is None and self.parent is not None:
            return self.parent.entry(name)
        return found

    def _find(self, name: str) -> tuple[Entry, Registry] | None:
        """The entry and the registry, this one or an ancestor, that defines it."""
        registry: Registry | None = self
        while registry is not None:
            if name in registry._entries:
                return registry._entries[name], registry
            registry = registry.parent
        return None

    def all_names(self) -> list[str]:
        names = set(self._entries)
        if self.parent is not None:
            names |= set(self.parent.all_names())
        return sorted(names, key=natural_key)

    def names(self, pattern: str | None = None) -> list[str]:
        """Concrete (non-abstract) models, optionally filtered by a shell wildcard."""
        out = [n for n in self.all_names() if not self.entry(n).raw.get("abstract") is True]
        if pattern:
            out = [n for n in out if fnmatch.fnmatchcase(n, pattern)]
        return out

    def spec(self, name: str) -> ModelSpec:
        cached = self._specs.get(name)
        if cached is None:
            if self.entry(name) is None:
                raise unknown_model(name, self.names())
            raw = self.resolved(name)
            cached = validate_model(name, raw, complete=raw.get("abstract") is not True)
            self._specs[name] = cached
        return cached

    def resolved(self, name: str) -> LineDict:
        """The raw spec with its `extends` chain merged in, parent first.

        A parent is looked up from the registry that defines its child, so a user file cannot change
        what a built-in model extends, and ``resnet18: {extends: resnet18}`` extends the built-in one.
        """
        chain: list[Entry] = []
        seen: set[tuple[int, str]] = set()
        current: str | None = name
        scope: Registry = self
        while current is not None:
            found = scope._find(current)
            if found is None:
                child = chain[-1]
                where = child.raw.key_where.get("extends", child.raw.where)
                raise SpecError(f"extends unknown {self.kind} {current!r}{_suggestion(current, scope.all_names())}",
                                file=where[0], line=where[1], path=f"{child.name}.extends")
            entry, owner = found
            if (id(owner), current) in seen:
                names = " -> ".join([e.name for e in chain] + [current])
                where = chain[-1].raw.key_where.get("extends", chain[-1].raw.where)
                raise SpecError(f"extends cycle: {names}", file=where[0], line=where[1],
                                path=f"{chain[-1].name}.extends")
            if len(chain) >= MAX_EXTENDS_DEPTH:
                where = chain[-1].raw.key_where.get("extends", chain[-1].raw.where)
                raise SpecError(f"extends chain is longer than {MAX_EXTENDS_DEPTH} {self.kind}s", file=where[0],
                                line=where[1], path=f"{chain[-1].name}.extends")
            seen.add((id(owner), current))
            chain.append(entry)
            parent = entry.raw.get("extends")
            if parent is not None and not (isinstance(parent, str) and _NAME.fullmatch(parent)):
                where = entry.raw.key_where["extends"]
                rule = f": {schema.MODEL_NAME_RULE}" if isinstance(parent, str) else ""
                raise SpecError(f"must be a {self.kind} name{rule} (got {parent!r})", file=where[0], line=where[1],
                                path=f"{entry.name}.extends")
            own_name = parent == current and owner.parent is not None and owner.parent._find(current)
            scope = owner.parent if own_name else owner
            current = parent
        merged = chain[-1].raw
        for entry in reversed(chain[:-1]):
            merged = merge(merged, entry.raw)
        merged = _copy_dict(merged)
        for key in ("extends", "abstract"):
            merged.pop(key, None)
        if chain[0].raw.get("abstract") is not None:
            merged["abstract"] = chain[0].raw["abstract"]
            merged.key_where["abstract"] = chain[0].raw.key_where["abstract"]
        return merged


    def ancestry(self, name: str) -> list[str]:
        """``name`` and every model its `extends` chain reaches, however long, stopping at a cycle or
        an unknown name: for reporting a broken chain once rather than once per model on it."""
        out: list[str] = []
        seen: set[tuple[int, str]] = set()
        current, scope = name, self
        while isinstance(current, str):
            found = scope._find(current)
            if found is None:
                break
            entry, owner = found
            if (id(owner), current) in seen:
                break
            seen.add((id(owner), current))
            out.append(current)
            parent = entry.raw.get("extends")
            own_name = parent == current and owner.parent is not None and owner.parent._find(current)
            scope = owner.parent if own_name else owner
            current = parent
        return out


def natural_key(name: str) -> list:
    """resnet18 < resnet50 < resnet101."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def merge(base: LineDict, over: LineDict) -> LineDict:
    """Mappings merge key by key; lists and scalars in ``over`` replace those in ``base``."""
    out = _copy_dict(base)
    out.where = over.where
    for key, value in over.items():
        if isinstance(value, LineDict) and isinstance(out.get(key), LineDict):
            value = merge(out[key], value)
        out[key] = value
        out.key_where[key] = over.key_where[key]
    return out


def _copy_dict(d: LineDict) -> LineDict:
    out = LineDict(d)
    out.where = d.where
    out.key_where = dict(d.key_where)
    return out


def _suggestion(name: str, names: list[str]) -> str:
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    return f" (did you mean: {', '.join(close)}?)" if close else ""


def unknown_model(name: str, names: list[str]) -> UnknownModelError:
    hint = _suggestion(name, names) or " (see `zoo list`)"
    return UnknownModelError(f"unknown model {name!r}{hint}")


_default: Registry | None = None


def default_registry(reload: bool = False) -> Registry:
    """The built-in specs plus any folders or files listed in ``$ZOO_SPECS`` (os.pathsep-separated).

    Read once and cached; ``reload=True`` reads the files again (after editing a spec).
    """
    global _default
    if _default is None or reload:
        registry = Registry()
        registry.add_dir(builtin_spec_dir())
        for item in filter(None, os.environ.get("ZOO_SPECS", "").split(os.pathsep)):
            path = Path(item)
            registry.add_dir(path) if path.is_dir() else registry.add_file(path)
        _default = registry
    return _default


def _exists(name: str) -> bool:
    """Path.exists, false for names the OS refuses (too long, a NUL byte) rather than raising."""
    try:
        return Path(name).exists()
    except (OSError, ValueError):
        return False


def looks_like_path(name: str) -> bool:
    base = name.split(":", 1)[0] if name.count(":") == 1 and not _exists(name) else name
    return base.endswith(SPEC_SUFFIXES) or os.sep in base or "/" in base


def resolve(name_or_path: str, registry: Registry | None = None) -> tuple[str, Registry]:
    """A zoo name, a spec file, or ``file.yaml:name`` → (model name, registry that holds it)."""
    registry = registry or default_registry()
    if not looks_like_path(name_or_path):
        if registry.entry(name_or_path) is None or name_or_path not in registry.names():
            raise unknown_model(name_or_path, registry.names())
        return name_or_path, registry
    file, _, wanted = name_or_path.partition(":") if not _exists(name_or_path) else (name_or_path, "", "")
    local = Registry(parent=registry)
    names = [n for n in local.add_file(file) if local.entry(n).raw.get("abstract") is not True]
    file = display_name(Path(file))
    if wanted:
        if wanted not in names:
            raise UnknownModelError(f"no model {wanted!r} in this file{_suggestion(wanted, names)}", file=file)
        return wanted, local
    if not names:
        raise UnknownModelError("holds no models to build, only abstract bases", file=file)
    if len(names) != 1:
        raise UnknownModelError(f"holds {len(names)} models ({', '.join(names)}); name one as {file}:NAME", file=file)
    return names[0], local
