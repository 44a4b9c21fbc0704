"""Read YAML or JSON spec files safely, remembering where each value came from."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from zoo.errors import SpecError
from zoo.safefile import read_capped

Where = tuple[str, int]  # (display file name, 1-based line)

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_FILE_BYTES = 4 * 1024 * 1024  # a spec is a few KiB; refuse anything absurd before parsing
MAX_VALUES = 100_000  # after YAML aliases are expanded ("billion laughs" files stop here)
MAX_DEPTH = 64  # nested mappings and lists; a real spec is under 10 deep, and libyaml's C composer
                # overflows the stack (a segfault, not an exception) some 30,000 deep


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
        def construct_object(self, node, deep=False):
            try:
                return super().construct_object(node, deep=deep)
            except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as e:
                # explicit tags such as `!!int foo` or dates such as 2020-02-30 fail in PyYAML's own
                # constructors with plain Python errors
                tag = str(node.tag).replace("tag:yaml.org,2002:", "!!")
                what = _short(node.value) if isinstance(node, yaml.ScalarNode) else f"a {node.id}"
                reason = str(e).split(";")[0] if isinstance(e, ValueError) else ""
                raise SpecError(f"invalid YAML: cannot read {what} as {tag}" + (f" ({reason})" if reason else ""),
                                file=file, line=node.start_mark.line + 1) from None

    def expect(node, kind: type, what: str) -> None:
        if not isinstance(node, kind):
            raise yaml.constructor.ConstructorError(None, None, f"expected {what}, but found {node.id}",
                                                    node.start_mark)

    def mapping(loader, node):
        expect(node, yaml.MappingNode, "a mapping")
        out = LineDict()
        out.where = (file, node.start_mark.line + 1)
        out.key_where = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                raise SpecError(f"mapping keys must be names (got {_short(key)})", file=file, line=line)
            if key in out:
                raise SpecError(f"duplicate key {key!r} (first at line {out.key_where[key][1]})", file=file, line=line)
            out[key] = loader.construct_object(value_node, deep=True)
            out.key_where[key] = (file, line)
        return out

    def sequence(loader, node):
        expect(node, yaml.SequenceNode, "a list")
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
    data = read_capped(path, MAX_FILE_BYTES, SpecError, file, what="spec file")  # devices, FIFOs: one line
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = e.object[:e.start].count(b"\n") + 1
        raise SpecError(f"not UTF-8 text ({e.reason} at byte {e.start})", file=file, line=line) from None
    return parse_spec_text(text, file)


def parse_spec_text(text: str, file: str) -> LineDict:
    """Parse spec text into ``{model name: raw spec}``; only SpecError escapes."""
    loader = _loader_for(file)
    try:
        _check_depth(text, file, loader)
        data = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader subclass
    except SpecError:
        raise
    except yaml.reader.ReaderError as e:
        raise SpecError(f"invalid YAML: unacceptable character #x{_code(e.character):04x} ({e.reason})",
                        file=file, line=_reader_line(text, e.position)) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        context = e.context
        if context and e.context_mark and e.context_mark.line + 1 != line:
            context += f" at line {e.context_mark.line + 1},"  # where the unclosed bracket or quote opened
        what = " ".join(part for part in (context, e.problem) if part)
        raise SpecError(f"invalid YAML: {what}", file=file, line=line) from None
    except yaml.YAMLError as e:
        raise SpecError(f"invalid YAML: {e}", file=file) from None
    except UnicodeEncodeError as e:  # lone surrogates: only text that did not come from a file has them
        raise SpecError(f"not UTF-8 text ({e.reason})", file=file, line=text.count("\n", 0, e.start) + 1) from None
    except RecursionError:
        raise SpecError("invalid YAML: nested too deeply", file=file) from None
    _check_size(data, file)
    if data is None:
        raise SpecError("empty spec file: expected a mapping of model names to specs", file=file)
    if not isinstance(data, LineDict):
        raise SpecError(f"expected a mapping of model names to specs (got {_kind(data)})", file=file, line=1)
    for name, raw in list(data.items()):
        if not isinstance(raw, LineDict):
            raise SpecError(f"expected a mapping of spec fields (got {_kind(raw)})", file=file,
                            line=data.key_where[name][1], path=name)
        # a model is where its name is, not where its first field is; a copy, as YAML aliases share
        data[name] = model = LineDict(raw)
        model.where, model.key_where = data.key_where[name], raw.key_where
    return data


def _check_depth(text: str, file: str, loader) -> None:
    """Refuse deep nesting from the event stream, before libyaml's recursive composer sees it.

    PyYAML 6.0.4's libyaml scanner stops at its own nesting limit, and for flow collections it
    scans every bracket before the first event: when the fast scan fails, the pure-Python
    scanner (no limit of its own, no recursion) decides, so the message is zoo's on every PyYAML.
    """
    try:
        _scan_depth(text, file, loader)
    except yaml.YAMLError:
        if _BaseLoader is yaml.SafeLoader:
            raise
        try:
            _scan_depth(text, file, yaml.SafeLoader)
        except yaml.YAMLError:
            pass
        raise


def _scan_depth(text: str, file: str, loader) -> None:
    depth = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise SpecError(f"invalid YAML: nested more than {MAX_DEPTH} deep", file=file,
                                line=event.start_mark.line + 1)
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1


def _check_size(data: Any, file: str) -> None:
    """Count values and depth as later stages would see them, aliases expanded, and stop early."""
    budget = MAX_VALUES
    stack = [(data, 1)]
    while stack:
        item, depth = stack.pop()
        budget -= 1
        if budget < 0:
            raise SpecError(f"too many values (over {MAX_VALUES:,} once YAML aliases are expanded)", file=file)
        if isinstance(item, (dict, list, tuple)):  # tuples: `!!pairs` and `!!omap`
            if depth > MAX_DEPTH:
                raise SpecError(f"nested more than {MAX_DEPTH} deep once YAML aliases are expanded", file=file,
                                line=item.where[1] if isinstance(item, (LineDict, LineList)) else None)
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return _short(value)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _code(character: Any) -> int:
    return character if isinstance(character, int) else ord(character)


def _reader_line(text: str, position: int) -> int:
    """libyaml counts bytes of UTF-8, PyYAML's pure-Python reader counts characters."""
    if _BaseLoader is yaml.SafeLoader:
        return text.count("\n", 0, position) + 1
    return text.encode("utf-8", "surrogatepass")[:position].count(b"\n") + 1
