"""Check every file tensor against the model before touching it, then set them all.

Two differences are expected and said in a note rather than refused: another class count
(the classifier keeps its initialisation) and grey images for a colour network (the first
convolution's kernel is summed over the file's input channels, as timm does). Anything else is
one error naming the zoo layer, the file's key and both shapes, and the model is left untouched.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from zoo.errors import WeightsError
from zoo.weights.source import Tensor


@dataclass
class Entry:
    key: str                    # the file's name for it
    tensor: Tensor | None       # None: the file has nothing there
    convert: object             # zoo.weights.convert.Convert; None: the file has more than the layer


@dataclass
class Loaded:
    path: str
    layout: str
    layers: int = 0             # layers whose weights came from the file
    tensors: int = 0
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """What was loaded, then a ``note:`` for each thing not loaded as the file has it (for stderr)."""
        return [f"weights: {self.tensors} tensors of {self.layers} layers from {self.path} ({self.layout} layout)",
                *(f"note: {note}" for note in self.notes)]

    def as_dict(self) -> dict:
        return {"path": self.path, "layout": self.layout, "layers": self.layers, "tensors": self.tensors,
                "notes": list(self.notes)}


def assign(model, plan, bindings: dict[str, list[Entry]], unused: list[str], loaded: Loaded) -> Loaded:
    path = loaded.path
    if unused:
        more = f" (and {len(unused) - 1} more)" if len(unused) > 1 else ""
        raise WeightsError(f"the file's {unused[0]}{more} has no place in {plan.name}: is this a file of another "
                           "architecture?", file=path)
    layers = {layer.name: layer for layer in model.layers}
    nodes = {n.name: n for n in plan.nodes}
    classifier = plan.nodes[-1].name if plan.nodes[-1].op == "dense" else None
    first_conv = next((n.name for n in plan.nodes if n.op == "conv2d"), None)
    ready = []
    for name, entries in bindings.items():
        layer = layers[name]
        variables = layer.weights
        missing = [e for e in entries if e.tensor is None]
        if missing:
            if len(missing) == len(entries) and nodes[name].op == "dense":
                loaded.notes.append(f"{name}: not in the file (a file without the top?), left as initialised")
                continue
            raise WeightsError(f"{name}: the file has no {missing[0].key} for its "
                               f"{_var_name(variables[entries.index(missing[0])])}", file=path)
        if len(entries) > len(variables):
            raise WeightsError(f"{name}: the file's {entries[len(variables)].key} is one more variable than the "
                               f"layer has ({len(variables)})", file=path)
        shapes = [(e, e.convert.as_keras(e.tensor.shape), tuple(v.shape)) for e, v in zip(entries, variables)]
        bad = [(e, got, want) for e, got, want in shapes if got != want]
        if not bad:
            ready.append((layer, [e.convert.apply(e.tensor.read()) for e in entries]))
            continue
        if name == classifier and all(_only_units(got, want) for _, got, want in bad):
            units = bad[0][1][-1]
            loaded.notes.append(f"{name}: the file's classifier has {units} classes and the model "
                                f"{bad[0][2][-1]}; it is not loaded and starts from its initialisation")
            continue
        if name == first_conv and len(bad) == 1 and _summable(bad[0][1], bad[0][2]):
            entry = bad[0][0]
            arrays = [e.convert.apply(e.tensor.read()) for e in entries]
            i = entries.index(entry)
            arrays[i] = arrays[i].sum(axis=2, keepdims=True)
            loaded.notes.append(f"{name}: the file's kernel takes {bad[0][1][2]} input channels and the model "
                                "1; summed over them (timm's rule for grey images)")
            ready.append((layer, arrays))
            continue
        entry, got, want = bad[0]
        shown = str(entry.tensor.shape) + (f" ({entry.convert.words}: {got})" if entry.convert.words and got
                                           and got != entry.tensor.shape else "")
        raise WeightsError(f"{name}: the file's {entry.key} has shape {_fmt(shown)}, the model's "
                           f"{_var_name(variables[entries.index(entry)])} needs {want}", file=path)
    for layer, arrays in ready:  # nothing above touched the model: a refused file leaves it as it was
        layer.set_weights([np.asarray(a, dtype=v.dtype) for a, v in zip(arrays, layer.weights)])
        loaded.layers += 1
        loaded.tensors += len(arrays)
    return loaded


def _only_units(got, want) -> bool:
    return got is not None and len(got) == len(want) and got[:-1] == want[:-1]


def _summable(got, want) -> bool:
    return got is not None and len(got) == 4 and want[2] == 1 and got[2] > 1 and \
        (got[0], got[1], got[3]) == (want[0], want[1], want[3])


def _var_name(variable) -> str:
    return getattr(variable, "path", None) or variable.name


def _fmt(text: str) -> str:
    return text.replace(",)", ")")
