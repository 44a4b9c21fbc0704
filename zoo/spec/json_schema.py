"""The JSON Schema of spec files (`zoo schema`), for editors to check them as they are typed.

It follows what `zoo validate` does, not only the pydantic models: a spec with `extends` is
merged into its parent (mappings key by key, lists and scalars replaced), so in such a spec
every section mapping (`paper`, `published`, `block`, `conv`) may be partial: `paper: {row: D}`
is a whole override. A spec without `extends` must be whole. Whole-model rules (`widths` per
stage, at least one layer) and planning are left to `zoo validate`: a file the schema accepts
may still be refused there, never the other way round.
"""

from __future__ import annotations

import copy
from typing import Any

from zoo.spec import schema

# The ModelSpec fields that hold a mapping merged key by key under `extends`.
MERGED_SECTIONS = ("conv", "paper", "published", "block")


def model_schema() -> dict[str, Any]:
    """The schema of one whole model spec (no `extends`), `$defs` included."""
    return _fixed(schema.ModelSpec.model_json_schema())


def file_schema() -> dict[str, Any]:
    """The schema of a spec file: a mapping of model names to specs, whole or overriding a parent."""
    whole = model_schema()
    defs = whole.pop("$defs", {})
    override = copy.deepcopy(whole)
    override["title"] = "ModelSpecOverride"
    override["description"] = ("A spec with `extends`: its fields override the parent's; section mappings "
                               "merge key by key, so each may name only the keys it changes.")
    override["required"] = ["extends"]
    for section in MERGED_SECTIONS:
        override["properties"][section] = _partial(override["properties"][section], defs)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "zoo spec file",
        "description": ("A mapping of model names to model specs. A model name is "
                        f"{schema.MODEL_NAME_RULE}; names starting with `_` are usually abstract bases."),
        "type": "object",
        "propertyNames": {"pattern": schema.MODEL_NAME_PATTERN},
        "additionalProperties": {"if": {"type": "object", "required": ["extends"]},
                                 "then": {"$ref": "#/$defs/ModelSpecOverride"},
                                 "else": {"$ref": "#/$defs/ModelSpec"}},
        "$defs": {**defs, "ModelSpec": whole, "ModelSpecOverride": override},
    }


def _partial(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """``prop`` with every `$ref` it makes to a section replaced by a copy with nothing required."""
    out = copy.deepcopy(prop)
    for option in out.get("anyOf", [out]):
        ref = option.get("$ref")
        if ref:
            name = ref.rsplit("/", 1)[-1]
            partial = f"{name}Partial"
            if partial not in defs:
                defs[partial] = {k: v for k, v in copy.deepcopy(defs[name]).items() if k != "required"}
                defs[partial]["title"] = partial
            option["$ref"] = f"#/$defs/{partial}"
    return out


def _fixed(one: dict[str, Any]) -> dict[str, Any]:
    """Where pydantic's schema says less than the validator accepts or refuses."""
    defs = one.get("$defs", {})
    if "Repeat" in defs:  # a repeat's `layers` take the same shorthand as `features` (64, "M")
        defs["Repeat"]["properties"]["layers"]["items"] = copy.deepcopy(one["properties"]["features"]["items"])
    if "LRN" in defs:  # the window is centred on a channel: an odd size
        defs["LRN"]["properties"]["size"]["not"] = {"multipleOf": 2}
    return one
