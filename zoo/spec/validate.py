"""Raw spec (with line numbers) → frozen ModelSpec, or SpecErrors naming file, line and field."""

from __future__ import annotations

import difflib
import functools
import re
from typing import Any

from pydantic import BaseModel, ValidationError

from zoo.errors import SpecError
from zoo.spec import schema
from zoo.spec.yamlfile import LineDict, LineList, Where

_TAGS = {
    "conv": schema.Conv, "maxpool": schema.Pool, "avgpool": schema.Pool, "lrn": schema.LRN,
    "dense": schema.Dense, "classifier": schema.Classifier, "dropout": schema.Dropout,
    "flatten": schema.Flatten, "global_pool": schema.GlobalPool, "adaptive_pool": schema.AdaptivePool,
    "batch_norm": schema.BatchNorm,
    "activation": schema.Act, "basic": schema.Residual, "bottleneck": schema.Residual,
    "repeat": schema.Repeat,
}
_SECTIONS = {"conv": schema.ConvDefaults, "paper": schema.Paper, "published": schema.Published,
             "block": schema.BlockOptions}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MEANT = re.compile(r"^unknown field \(did you mean '(.+)'\?\)$")
MAX_LAYERS = 10_000  # once repeats and stages are unrolled; nested repeats multiply, and the planner
                     # traces every layer (ResNet-1202, the deepest in the papers, has 601 blocks)


def validate_model(name: str, raw: LineDict, complete: bool = True) -> schema.ModelSpec:
    """``complete=False`` (abstract bases) checks fields but not the whole-model rules."""
    try:
        spec = schema.ModelSpec.model_validate(dict(raw))
    except ValidationError as e:
        errors = _dedupe(_drop_misspelt([(err["loc"], _translate(name, raw, err)) for err in e.errors()]))
        errors.sort(key=lambda err: (err.file or "", err.line or 0))  # as the file reads, not as pydantic checks
        raise _combine(errors) from None
    layers = _layer_count(spec)
    if layers > MAX_LAYERS:
        raise SpecError(f"{_count_text(layers)} layers once repeats and stages are unrolled; the limit is "
                        f"{MAX_LAYERS:,}", file=raw.where[0], line=raw.where[1], path=name)
    if not complete:
        return spec
    problems = [_user_located(name, raw, loc, msg) for loc, msg in schema.consistency_problems(spec)]
    if problems:
        raise _combine(problems)
    return spec


def _combine(errors: list[SpecError]) -> SpecError:
    first, rest = errors[0], tuple(errors[1:])
    return SpecError(first.message, file=first.file, line=first.line, path=first.path, more=rest)


def _drop_misspelt(located: list[tuple[tuple, SpecError]]) -> list[SpecError]:
    """`filtres: 64` is one problem, not two: drop "filters is missing" when a sibling suggests it."""
    meant = set()
    for loc, err in located:
        match = _MEANT.match(err.message)
        if match:
            meant.add((*loc[:-1], match.group(1)))
    return [err for loc, err in located if not (err.message == "required field is missing" and loc in meant)]


def _layer_count(spec: schema.ModelSpec) -> int:
    def count(layers) -> int:
        return sum(layer.times * count(layer.layers) if isinstance(layer, schema.Repeat) else 1 for layer in layers)
    return count(spec.stem) + count(spec.features) + sum(spec.stages) + count(spec.head)


def _count_text(n: int) -> str:
    return f"{n:,}" if n < 10**15 else f"about 10^{len(str(n)) - 1}"


def _dedupe(errors: list[SpecError]) -> list[SpecError]:
    seen, out = set(), []
    for err in errors:
        key = (err.path, err.line)
        if key not in seen:
            seen.add(key)
            out.append(err)
    return out


def _walk(raw: Any, loc: tuple) -> tuple[list[str | int], Where, Any, Any]:
    """Follow a pydantic location through the raw data: (clean path, where, parent, node)."""
    path: list[str | int] = []
    where: Where = raw.where
    parent, node = None, raw
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
            where = node.item_where[part]
            path.append(part)
            parent, node = node, node[part]
        elif isinstance(node, LineDict) and part in node:
            where = node.key_where[part]
            path.append(part)
            parent, node = node, node[part]
        elif isinstance(node, dict) and node.get("type") == part:
            continue  # pydantic names the union member it tried; the user never wrote it
        elif last and isinstance(part, str) and _IDENT.match(part):
            path.append(part)  # a missing field: point at its mapping
            parent, node = node, None
        # anything else is a pydantic-internal step (union branch, validator name)
    return path, where, parent, node


def _path_text(name: str, path: list[str | int]) -> str:
    text = name
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _located(name: str, raw: LineDict, loc: tuple, message: str) -> SpecError:
    path, where, _, _ = _walk(raw, loc)
    return SpecError(message, file=where[0], line=where[1], path=_path_text(name, path))


# For a whole-model rule broken by an inherited field: the fields whose values it weighs against it.
_RELATED = {"widths": ("stages", "strides"), "strides": ("stages", "widths"), "block": ("stages",)}


def _user_located(name: str, raw: LineDict, loc: tuple, message: str) -> SpecError:
    """A whole-model rule, at the line that broke it: when the field at fault was inherited from
    another file (a zoo spec), the error names the user's line that set the value it conflicts with."""
    error = _located(name, raw, loc, message)
    own = raw.where[0]
    if error.file == own or not loc:
        return error
    for other in _RELATED.get(str(loc[0]), ()):
        where = raw.key_where.get(other)
        if where and where[0] == own:
            return SpecError(f"conflicts with the inherited `{loc[0]}` ({error.file}:{error.line}): "
                             f"`{loc[0]}` {message}", file=where[0], line=where[1], path=f"{name}.{other}")
    return error


def validate_fields(cls: type[BaseModel], name: str, raw: LineDict, skip: tuple[str, ...] = ("extends",)):
    """Any strict pydantic model (recipes, for one) with the same one-line errors as model specs."""
    try:
        return cls.model_validate({k: v for k, v in raw.items() if k not in skip})
    except ValidationError as e:
        fields_at = functools.partial(_model_fields_at, cls)
        errors = _dedupe([_translate(name, raw, err, fields_at) for err in e.errors()])
        errors.sort(key=lambda err: (err.file or "", err.line or 0))
        raise _combine(errors) from None


def _model_fields_at(cls: type[BaseModel], raw: LineDict, path: list[str | int]) -> list[str]:
    """Field names of the nested model at ``path``, following the annotations of ``cls``."""
    for part in path:
        field = cls.model_fields.get(part) if isinstance(part, str) else None
        annotation = field.annotation if field else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        cls = annotation
    return list(cls.model_fields)


def _translate(name: str, raw: LineDict, err: dict, fields_at=None) -> SpecError:
    path, where, parent, node = _walk(raw, err["loc"])
    kind, ctx, got = err["type"], err.get("ctx", {}), err.get("input")
    if kind == "extra_forbidden":
        allowed = (fields_at or _fields_at)(raw, path[:-1])
        message = "unknown field" + _suggest(str(path[-1]) if path else "", allowed)
    elif kind == "missing":
        message = "required field is missing"
    elif kind in ("union_tag_invalid", "union_tag_not_found"):
        message = _tag_message(kind, ctx, got)
        if kind == "union_tag_invalid":
            path.append("type")
            if isinstance(node, LineDict) and "type" in node:
                where = node.key_where["type"]
    elif kind == "model_attributes_type" and _in_layer_list(err["loc"]):
        message = _tag_message("union_tag_not_found", ctx, got)  # 64.5 or 'flatten' where a layer belongs
    else:
        message = _value_message(kind, ctx, got, err["msg"])
    return SpecError(message, file=where[0], line=where[1], path=_path_text(name, path))


def _in_layer_list(loc: tuple) -> bool:
    return len(loc) >= 2 and isinstance(loc[-1], int) and loc[-2] in ("stem", "features", "head", "layers")


def _value_message(kind: str, ctx: dict, got: Any, default: str) -> str:
    bounds = {"greater_than_equal": (">=", "ge"), "greater_than": (">", "gt"),
              "less_than_equal": ("<=", "le"), "less_than": ("<", "lt")}
    types = {"int_type": "an integer", "int_parsing": "an integer", "float_type": "a number",
             "bool_type": "true or false", "string_type": "text", "list_type": "a list",
             "model_type": "a mapping", "dict_type": "a mapping", "model_attributes_type": "a mapping"}
    if kind in bounds:
        op, key = bounds[kind]
        bound = ctx[key]
        if isinstance(bound, float) and bound.is_integer():
            bound = int(bound)  # pydantic reports `gt=0` on a float field as 0.0
        return f"must be {op} {bound} (got {_show(got)})"
    if kind in types:
        return f"must be {types[kind]} (got {_show(got)})"
    if kind == "too_short":
        return f"must have at least {ctx['min_length']} items (got {ctx['actual_length']})"
    if kind == "too_long":
        return f"must have at most {ctx['max_length']} items (got {ctx['actual_length']})"
    if kind == "literal_error":
        return f"must be one of {ctx['expected']} (got {_show(got)})"
    if kind == "string_pattern_mismatch" and ctx.get("pattern") == schema.MODEL_NAME_PATTERN:
        return f"must be a model name: {schema.MODEL_NAME_RULE} (got {_show(got)})"
    if kind == "finite_number":
        return f"must be a finite number (got {_show(got)})"
    if kind == "string_pattern_mismatch":
        return f"must be a name of letters, digits and underscores starting with a letter (got {_show(got)})"
    if kind == "value_error":
        return str(ctx.get("error", default)).removeprefix("Value error, ")
    return f"{default} (got {_show(got)})"


def _tag_message(kind: str, ctx: dict, got: Any) -> str:
    expected = ", ".join(schema.LAYER_TYPES)
    if kind == "union_tag_invalid":
        tag = str(ctx.get("tag", ""))
        return f"unknown type {tag!r}{_suggest(tag, schema.LAYER_TYPES)} (expected one of: {expected})"
    if isinstance(got, dict):
        return f"layer has no `type:` (expected one of: {expected})"
    return (f"must be a layer mapping with a `type:`, an integer (a 3×3 convolution's filters) "
            f"or 'M' (2×2 max pooling) (got {_show(got)})")


def _fields_at(raw: LineDict, path: list[str | int]) -> list[str]:
    """The field names allowed in the mapping at ``path``."""
    node: Any = raw
    for part in path:
        node = node[part]
    if not path:
        return list(schema.ModelSpec.model_fields)
    if isinstance(node, dict) and isinstance(node.get("type"), str) and node["type"] in _TAGS:
        return list(_TAGS[node["type"]].model_fields)
    key = path[-1]
    if isinstance(key, str) and key in _SECTIONS:
        return list(_SECTIONS[key].model_fields)
    return sorted({f for cls in _TAGS.values() for f in cls.model_fields})


def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
