"""Read YAML or JSON spec files safely, remembering where each value came from."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from zoo.errors import SpecError

Where = tuple[str, int]  # (display file name, 1-based line)

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_FILE_BYTES = 4 * 1024 * 1024  # a spec is a few KiB; refuse anything absurd before parsing
MAX_VALUES = 100_000  # after YAML aliases are expanded ("billion laughs" files stop here)


class LineDict(dict):
    """A mapping that knows the file and line of itself and of each key."""

    where: Where
    key_where: dict[Any, Where]


class LineList(list):
    """A sequence that knows the file and line of itself and of each item."""

    where: Where
    item_where: list[Where]


def display_name(path: Path) -> str:
    """The path as the user would type it: relative to the working folder when inside it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def _loader_for(file: str):
    class Loader(_BaseLoader):
        pass

    def mapping(loader, node):
        out = LineDict()
        out.where = (file, node.start_mark.line + 1)
        out.key_where = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                raise SpecError("mapping keys must be plain names", file=file, line=line)
            if key in out:
                raise SpecError(f"duplicate key {key!r} (first at line {out.key_where[key][1]})", file=file, line=line)
            out[key] = loader.construct_object(value_node, deep=True)
            out.key_where[key] = (file, line)
        return out

    def sequence(loader, node):
        out = LineList(loader.construct_object(child, deep=True) for child in node.value)
        out.where = (file, node.start_mark.line + 1)
        out.item_where = [(file, child.start_mark.line + 1) for child in node.value]
        return out

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, sequence)
    return Loader


def read_spec_file(path: str | os.PathLike) -> LineDict:
    """Parse a spec file into ``{model name: raw spec}``; only SpecError escapes."""
    path = Path(path)
    file = display_name(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SpecError(f"file is {size:,} bytes; a spec file may be at most {MAX_FILE_BYTES:,}", file=file)
        text = path.read_text(encoding="utf-8")
    except SpecError:
        raise
    except FileNotFoundError:
        raise SpecError("no such file", file=file) from None
    except IsADirectoryError:
        raise SpecError("is a folder, not a spec file", file=file) from None
    except UnicodeDecodeError as e:
        raise SpecError(f"not UTF-8 text ({e.reason} at byte {e.start})", file=file) from None
    except OSError as e:
        raise SpecError(f"cannot read: {e.strerror}", file=file) from None
    return parse_spec_text(text, file)


def parse_spec_text(text: str, file: str) -> LineDict:
    try:
        data = yaml.load(text, Loader=_loader_for(file))  # noqa: S506 - a safe loader subclass
    except SpecError:
        raise
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        what = " ".join(part for part in (e.context, e.problem) if part)
        raise SpecError(f"invalid YAML: {what}", file=file, line=line) from None
    except yaml.YAMLError as e:
        raise SpecError(f"invalid YAML: {e}", file=file) from None
    except RecursionError:
        raise SpecError("invalid YAML: nested too deeply", file=file) from None
    _check_size(data, file)
    if data is None:
        raise SpecError("empty spec file: expected a mapping of model names to specs", file=file)
    if not isinstance(data, LineDict):
        raise SpecError(f"expected a mapping of model names to specs (got {type(data).__name__})", file=file, line=1)
    for name, raw in data.items():
        line = data.key_where[name][1]
        if not isinstance(name, str):
            raise SpecError(f"model names must be text (got {name!r})", file=file, line=line)
        if not isinstance(raw, LineDict):
            raise SpecError(f"{name}: expected a mapping of spec fields (got {type(raw).__name__})", file=file, line=line)
    return data


def _check_size(data: Any, file: str) -> None:
    """Count values as later stages would see them, aliases expanded, and stop early."""
    budget = MAX_VALUES
    stack = [data]
    while stack:
        item = stack.pop()
        budget -= 1
        if budget < 0:
            raise SpecError(f"too many values (over {MAX_VALUES:,} once YAML aliases are expanded)", file=file)
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
