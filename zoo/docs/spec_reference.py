"""The spec reference, generated from the pydantic schema: every class, field, type, default and description."""

from __future__ import annotations

import inspect
import json
import typing
from typing import Any

from pydantic import BaseModel

from zoo.docs.markdown import table
from zoo.spec import schema

PAGE = "reference/spec.md"
SECTIONS = {"conv": "ConvDefaults", "block": "BlockOptions", "paper": "Paper", "published": "Published"}

INTRO = f"""\
# Spec reference

A spec file maps model names to model specs, in YAML (or JSON). A model name is
{schema.MODEL_NAME_RULE} (names become file names and links in these docs, so no
`/`, spaces or other characters); a name starting with `_` is usually an abstract
base. This page is generated from the schema in `zoo/spec/schema.py`; `zoo schema`
prints the same schema as JSON Schema, for editors that validate YAML. In a spec
with `extends`, a section mapping such as `paper:` or `block:` may give only the
keys it changes; numbers must be finite (`.inf` and `.nan` are refused).

```yaml
my_model:                 # a model name
  extends: resnet20       # optional: start from another spec
  stages: [2, 2, 2]       # then override its fields
```

A spec is validated once, when it is loaded; errors name the file, the line, the
field path and the value received. Unknown fields are errors.
"""


def layer_classes() -> list[type[BaseModel]]:
    """The layer kinds, in the order of the `type:` union."""
    union = typing.get_args(schema.Layer)[0]
    return list(typing.get_args(union))


def documented_classes() -> list[type[BaseModel]]:
    """ModelSpec, its sections, the layer kinds, then anything else the JSON Schema defines."""
    ordered = [schema.ModelSpec, *(getattr(schema, n) for n in SECTIONS.values()), *layer_classes()]
    defs = schema.ModelSpec.model_json_schema().get("$defs", {})
    ordered += [getattr(schema, name) for name in sorted(defs) if getattr(schema, name) not in ordered]
    return ordered


def anchor(cls: type) -> str:
    return cls.__name__.lower()


def tags(cls: type[BaseModel]) -> list[str]:
    """The `type:` values a layer class accepts."""
    annotation = cls.model_fields["type"].annotation if "type" in cls.model_fields else None
    return list(typing.get_args(annotation)) if annotation is not None else []


def type_text(prop: dict[str, Any]) -> str:
    """A JSON Schema property in words: `integer 1–65536`, `list of [Conv](#conv)`, …"""
    if "$ref" in prop:
        name = prop["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    if "const" in prop:
        return f"`{json.dumps(prop['const'])}`"
    if "enum" in prop:
        return "one of " + ", ".join(f"`{v}`" for v in prop["enum"])
    if "oneOf" in prop:
        return "a [layer](#layer-kinds)" if "discriminator" in prop else " or ".join(map(type_text, prop["oneOf"]))
    if "anyOf" in prop:
        options = [p for p in prop["anyOf"] if p.get("type") != "null"]
        return " or ".join(type_text(p) for p in options)
    kind = prop.get("type")
    if kind == "array":
        inner = type_text(prop.get("items", {}))
        low, high = prop.get("minItems"), prop.get("maxItems")
        size = ""
        if low is not None and low == high:
            size = f"{low} × "
        elif low:
            size = f"at least {low} × "
        return f"list of {size}{inner}" if " or " not in inner else f"list of {size}({inner})"
    if kind in ("integer", "number"):
        return kind + _bounds(prop)
    if kind == "string":
        return f"text matching `{prop['pattern']}`" if "pattern" in prop else "text"
    return kind or "any"


def _bounds(prop: dict) -> str:
    low = prop.get("minimum", prop.get("exclusiveMinimum"))
    high = prop.get("maximum", prop.get("exclusiveMaximum"))
    if low is None and high is None:
        return ""
    if "minimum" in prop and "maximum" in prop:
        return f" {low}–{high}"
    parts = []
    if low is not None:
        parts.append(f"{'≥' if 'minimum' in prop else '>'} {low}")
    if high is not None:
        parts.append(f"{'≤' if 'maximum' in prop else '<'} {high}")
    return " " + ", ".join(parts)


def default_text(info) -> str:
    if info.is_required():
        return "required"
    value = info.get_default(call_default_factory=True)
    if value is None:
        return "—"
    if isinstance(value, BaseModel):
        return "the defaults below" if type(value) is not schema.ModelSpec else "—"
    return f"`{json.dumps(value, ensure_ascii=False)}`"


def class_section(cls: type[BaseModel], level: int = 3, heading: bool = True) -> str:
    props = cls.model_json_schema().get("properties", {})
    rows = []
    for name, info in cls.model_fields.items():
        rows.append([f"`{name}`", type_text(props.get(name, {})), default_text(info), info.description or ""])
    kinds = tags(cls)
    title = ", ".join(f"`{t}`" for t in kinds) if kinds else cls.__name__
    doc = inspect.getdoc(cls) if cls.__doc__ else ""
    lines = [f"{'#' * level} {title} {{#{anchor(cls)}}}\n"] if heading else []
    if kinds:
        lines.append(f"Class `{cls.__name__}`. {doc}\n" if doc else f"Class `{cls.__name__}`.\n")
    elif doc:
        lines.append(f"{doc}\n")
    lines.append(table(["Field", "Type", "Default", "Description"], rows))
    return "\n".join(lines)


def spec_reference_page() -> str:
    parts = [INTRO, "## Model {#modelspec}\n",
             "The fields of one model. Each section is optional, but a model needs at least one layer.\n",
             class_section(schema.ModelSpec, heading=False)]
    parts.append("## Sections\n")
    for key, name in SECTIONS.items():
        cls = getattr(schema, name)
        parts.append(f"### `{key}` {{#{anchor(cls)}}}\n")
        parts.append(class_section(cls, heading=False))
    parts.append("## Layer kinds {#layer-kinds}\n")
    parts.append("`stem`, `features`, `head` and `repeat.layers` are lists of layers, each a mapping "
                 "with a `type:`. In these lists an integer `n` is shorthand for `{type: conv, filters: n}` "
                 "and `M` for `{type: maxpool}` (2×2, stride 2).\n")
    listed = {schema.ModelSpec, *(getattr(schema, n) for n in SECTIONS.values())}
    parts.append(table(["`type:`", "Class", "What it is"],
                       [(", ".join(f"`{t}`" for t in tags(c)), f"[{c.__name__}](#{anchor(c)})",
                         (inspect.getdoc(c) if c.__doc__ else "").split("\n")[0]) for c in layer_classes()]))
    for cls in documented_classes():
        if cls not in listed:
            parts.append(class_section(cls))
    return "\n".join(parts)
