"""The model pages: an overview with one table per family, and one page per model.

Everything comes from the registry and the planner, so a new or edited spec
file changes these pages with no other edit.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from zoo.docs.markdown import details, fence, table
from zoo.plan.ops import shape_text
from zoo.docs.references import REFERENCE_CLASSES, REFERENCE_INPUT, Reference, references, variant
from zoo.errors import ZooError
from zoo.plan.graph import Node, Plan
from zoo.plan.planner import plan_model
from zoo.spec import schema
from zoo.spec.registry import Entry, Registry, builtin_spec_dir, default_registry

# The inputs every model page traces: ImageNet, CIFAR and MNIST sizes.
SHAPES = ((224, 224, 3), (32, 32, 3), (28, 28, 1))
OVERVIEW_MACS = ((224, 224, 3), (32, 32, 3))
FAMILY_TITLES = {"vgg": "VGG", "resnet": "ResNet", "resnet_cifar": "CIFAR-10 ResNet", "resnet_v2": "ResNet V2",
                 "resnext": "ResNeXt", "wide_resnet": "Wide ResNet", "custom": "Other models"}
OVERVIEW = "models/index.md"


@dataclass
class ModelDoc:
    name: str
    entry: Entry
    spec: schema.ModelSpec
    chain: list[Entry]            # the model's own entry, then each spec it extends
    plan: Plan                    # at the spec's default input and classes
    at: dict[tuple, Plan | None]  # at each of SHAPES, default classes; None where it does not plan
    refs: list[Reference]
    errors: dict[tuple, str] = field(default_factory=dict)  # why a shape does not plan

    @property
    def page(self) -> str:
        return model_page(self.name)


@dataclass
class Family:
    name: str
    models: list[ModelDoc] = field(default_factory=list)

    @property
    def title(self) -> str:
        return FAMILY_TITLES.get(self.name, self.name.replace("_", " "))

    @property
    def anchor(self) -> str:
        return slug(self.name)

    @property
    def papers(self) -> list[schema.Paper]:
        seen: dict[tuple, schema.Paper] = {}
        for m in self.models:
            if m.spec.paper is not None:
                seen.setdefault((m.spec.paper.title, m.spec.paper.year), m.spec.paper)
        return list(seen.values())


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def model_page(name: str) -> str:
    """``models/<name>.md``; the overview owns ``models/index.md``."""
    stem = f"{name}_model" if name.lower() in ("index", "readme") else name
    return f"models/{stem}.md"


def reload_registry() -> Registry:
    """The default registry read afresh: `mkdocs serve` rebuilds in one process after a spec edit."""
    return default_registry(reload=True)


def collect(registry: Registry | None = None) -> list[Family]:
    """Every concrete model, planned at its default input and at SHAPES, grouped by family."""
    registry = registry or default_registry()
    families: dict[str, Family] = {}
    for name in registry.names():
        spec = registry.spec(name)
        chain = [registry.entry(name)]
        while chain[-1].raw.get("extends"):
            chain.append(registry.entry(chain[-1].raw["extends"]))
        at, errors = {}, {}
        for shape in SHAPES:
            try:
                at[shape] = plan_model(name, spec, shape)
            except ZooError as e:  # e.g. a 32×32 design whose dense head would be too large at 224×224
                at[shape], errors[shape] = None, e.message
        try:
            refs = references(name, plan_model(name, spec, REFERENCE_INPUT, REFERENCE_CLASSES), spec)
        except ZooError:
            refs = []
        doc = ModelDoc(name, chain[0], spec, chain, plan_model(name, spec), at, refs, errors)
        families.setdefault(spec.family, Family(spec.family)).models.append(doc)
    return sorted(families.values(), key=_family_order)


def _family_order(family: Family) -> tuple:
    years = [p.year for p in family.papers] or [9999]
    return (min(years), family.name)


# -- the overview ----------------------------------------------------------------------------

CONVENTIONS = """\
All counts come from the planner (`zoo.count`), exactly, at each model's default
input. **Parameters** is every value Keras stores, what `model.count_params()`
reports, batch-norm moving mean and variance included; **trainable** leaves those
out, as the papers and PyTorch do. Two conventions make libraries disagree on the
same architecture:

- *Convolution bias before batch norm.* The ResNet paper, torchvision and our
  `resnet*` specs have none; keras.applications' ResNets put a bias on every
  convolution (our `resnet*_keras` specs do the same). VGG convolutions always have one.
- *Batch-norm moving statistics.* Keras counts the moving mean and variance
  (2 values per channel, non-trainable); torchvision counts only `parameters()`,
  where they are buffers.

The keras.applications and torchvision columns give those libraries' published totals
at 224×224×3 with 1000 classes and how they follow from ours: **=** equal,
**− BN stats** ours without the moving statistics, **+ conv bias** ours plus one
bias per convolution filter, **− conv bias** ours without the biases. The paper
column is the paper's own figure, in millions of parameters or in GFLOPs
(multiply-adds ×10⁹, as He et al. count them). MACs are the multiply-accumulates
of convolutions and dense layers, in millions.

Equal counts are not equal networks: torchvision's `resnet50` has every weight
shape of our `resnet50` and computes another function (ResNet v1.5, stride on
the 3×3, with PyTorch's symmetric padding, where ours is v1 with TensorFlow's
`same` padding). **same network** marks the library model whose weights load into
ours and give its outputs; each model's page names the variant of every library
model and which of our specs is its twin.
"""


def overview_page(families: list[Family]) -> str:
    count = sum(len(f.models) for f in families)
    out = ["# Models\n",
           f"The zoo holds {count} models in {len(families)} families, each defined by a spec file "
           "in `specs/`. These pages are generated from those files when the site is built.\n",
           CONVENTIONS]
    out += [family_section(family) for family in families]
    return "\n".join(out)


def family_section(family: Family) -> str:
    lines = [f"## {family.title} {{#{family.anchor}}}\n"]
    for paper in family.papers:
        lines.append(f"{citation(paper)}\n")
    with_keras = any(r.library == "keras.applications" for m in family.models for r in m.refs)
    with_torch = any(r.library == "torchvision" for m in family.models for r in m.refs)
    header = ["Model", "Paper configuration", "Depth", "Input", "Parameters", "Trainable", "Paper"]
    align = "llrlrrl"
    if with_keras:
        header.append("keras.applications")
        align += "l"
    if with_torch:
        header.append("torchvision")
        align += "l"
    header += [f"MACs at {shape_text(s)} (M)" for s in OVERVIEW_MACS]
    align += "r" * len(OVERVIEW_MACS)
    rows = []
    for m in family.models:
        p = m.plan
        row = [f"[{m.name}]({Path(m.page).name})", paper_row(m.spec), p.depth,
               f"{shape_text(p.input_shape)}, {p.classes} classes", f"{p.params:,}", f"{p.trainable_params:,}",
               published_text(m.spec.published)]
        for library, wanted in (("keras.applications", with_keras), ("torchvision", with_torch)):
            if wanted:
                ref = next((r for r in m.refs if r.library == library), None)
                same = "; same network" if ref and ref.twin == m.name else ""
                row.append(f"{ref.model}: {ref.params:,} ({ref.short}{same})" if ref else "")
        row += [f"{m.at[s].macs / 1e6:,.1f}" if m.at[s] else "—" for s in OVERVIEW_MACS]
        rows.append(row)
    lines.append(table(header, rows, align))
    return "\n".join(lines)


def citation(paper: schema.Paper) -> str:
    title = f"[{paper.title}]({paper.url})" if paper.url else paper.title
    return f"{paper.authors} ({paper.year}). *{title}*."


def paper_row(spec: schema.ModelSpec) -> str:
    return f"{spec.paper.table}, {spec.paper.row}" if spec.paper else ""


def published_text(published: schema.Published | None) -> str:
    if published is None:
        return ""
    figures = []
    if published.params_millions:
        figures.append(f"{published.params_millions:g} M params")
    if published.gflops:
        figures.append(f"{published.gflops:g} GFLOPs")
    return ", ".join(figures)


# -- one page per model ----------------------------------------------------------------------

def model_page_text(m: ModelDoc, family: Family) -> str:
    p = m.plan
    out = [f"# {m.name}\n"]
    if m.spec.description:
        out.append(f"{m.spec.description}\n")
    facts = [("Family", f"[{family.title}](index.md#{family.anchor})")]
    if m.spec.paper:
        facts.append(("Paper", f"{citation(m.spec.paper)} {paper_row(m.spec)}"))
    if m.spec.published:
        facts.append(("Paper's figures", f"{published_text(m.spec.published)} ({m.spec.published.source})"))
    if variant(m.spec):
        facts.append(("Variant", variant(m.spec)))
    if twins_text(m):
        facts.append(("Twins", twins_text(m)))
    facts += [("Default input", f"{shape_text(p.input_shape)}, {p.classes} classes"),
              ("Parameters", f"{p.params:,} ({p.trainable_params:,} trainable, "
                             f"{p.non_trainable_params:,} non-trainable)"),
              ("Depth", f"{p.depth} weight layers on the main path"),
              ("MACs", f"{p.macs:,} at {shape_text(p.input_shape)}")]
    out.append(table(["", ""], facts))
    if m.refs:
        out.append("## Other libraries\n")
        out.append(f"At {shape_text(REFERENCE_INPUT)} with {REFERENCE_CLASSES} classes. "
                   "See [the counting conventions](index.md).\n")
        out.append(table(["Library", "Model", "Parameters", "Compared with ours"],
                         [(f"[{r.library}]({r.url})", f"`{r.model}`", f"{r.params:,}", r.relation)
                          for r in m.refs], "llrl"))
    out.append(spec_section(m))
    out.append(stages_section(m))
    out.append(plan_section(m))
    return "\n".join(out)


def twins_text(m: ModelDoc) -> str:
    """Which other library's model this one is, or which of our specs is theirs and what that one
    does otherwise than this one."""
    out = []
    for r in m.refs:
        if r.twin == m.name:
            out.append(f"this is {r.library} `{r.model}`: its weights load and give its outputs")
        elif r.twin:
            out.append(f"[{r.twin}]({Path(model_page(r.twin)).name}) is {r.library} `{r.model}`, "
                       f"with {r.variant or 'other layer names'}")
    return "; ".join(out)


def spec_section(m: ModelDoc) -> str:
    out = ["## Spec\n"]
    file, text = source_text(m.entry)
    label = f"`{Path(file).name}`" if file else "its spec file"
    out.append(f"As written in {label}:\n")
    out.append(fence(text, "yaml"))
    if len(m.chain) > 1:
        links = " → ".join([f"`{m.name}`"] + [_entry_link(e) for e in m.chain[1:]])
        out.append(f"Extends: {links}. Each spec overrides the one it extends: mappings merge, "
                   "lists replace.\n")
        for parent in m.chain[1:]:
            pfile, ptext = source_text(parent)
            where = f" in `{Path(pfile).name}`" if pfile else ""
            out.append(details(f"{parent.name}{where}", fence(ptext, "yaml")))
        out.append(details("Resolved: the spec with its `extends` chain merged in",
                           fence(resolved_yaml(m), "yaml")))
    return "\n".join(out)


def _entry_link(entry: Entry) -> str:
    if entry.raw.get("abstract") is True:
        return f"`{entry.name}`"
    return f"[`{entry.name}`]({Path(model_page(entry.name)).name})"


def resolved_yaml(m: ModelDoc) -> str:
    """The model's raw spec with its `extends` chain merged in, as YAML."""
    merged = _plain(m.entry.raw)
    for parent in m.chain[1:]:
        merged = _merge(_plain(parent.raw), merged)
    merged.pop("extends", None)
    merged.pop("abstract", None)
    return dump_yaml(merged)


class _Dumper(yaml.SafeDumper):
    """Short mappings and lists of plain values on one line, as the spec files write them."""


def _flat(value) -> bool:
    return not isinstance(value, (dict, list)) or (isinstance(value, list) and all(map(_flat_scalar, value)))


def _flat_scalar(value) -> bool:
    return not isinstance(value, (dict, list))


def _represent_dict(dumper, data):
    short = all(map(_flat, data.values())) and len(str(data)) < 100
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=short)


def _represent_list(dumper, data):
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=all(map(_flat_scalar, data)))


_Dumper.add_representer(dict, _represent_dict)
_Dumper.add_representer(list, _represent_list)


def dump_yaml(data) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def source_text(entry: Entry) -> tuple[str | None, str]:
    """(file, the model's lines as written); YAML dumped from the parsed spec when the file is gone."""
    path = _find_file(entry.file)
    if path is not None:
        lines = path.read_text(encoding="utf-8").splitlines()
        key = re.compile(rf"^['\"]?{re.escape(entry.name)}['\"]?\s*:")
        start = next((i for i, line in enumerate(lines) if key.match(line)), None)
        if start is not None:
            end = start + 1
            while end < len(lines) and not (lines[end][:1].strip() and not lines[end].startswith("#")):
                end += 1
            block = lines[start:end]
            while block and (not block[-1].strip() or block[-1].startswith("#")):
                block.pop()
            return str(path), "\n".join(block)
    return None, dump_yaml({entry.name: _plain(entry.raw)})


def _find_file(file: str) -> Path | None:
    """Registry entries keep the file name as shown to the user, relative to the folder it was loaded from."""
    path = Path(file)
    if path.is_file():
        return path
    roots = [builtin_spec_dir(), *(Path(p) for p in os.environ.get("ZOO_SPECS", "").split(os.pathsep) if p)]
    for root in roots:
        candidate = root / path.name if root.is_dir() else root
        if candidate.name == path.name and candidate.is_file():
            return candidate
    return None


# -- parameters per stage --------------------------------------------------------------------

@dataclass
class Part:
    key: str
    label: str
    spec: str
    nodes: list[Node] = field(default_factory=list)

    @property
    def params(self) -> int:
        return sum(n.params + n.frozen for n in self.nodes)

    @property
    def trainable(self) -> int:
        return sum(n.params for n in self.nodes)

    @property
    def macs(self) -> int:
        return sum(n.macs for n in self.nodes)


def parts(spec: schema.ModelSpec, plan: Plan) -> list[Part]:
    """The plan's nodes grouped by where they come from: stem, features block k, stages[i], head."""
    feature_block = _feature_blocks(spec)
    strides = spec.strides or [1] + [2] * (len(spec.stages) - 1)
    out: dict[str, Part] = {}
    for node in plan.nodes[1:]:
        section = node.source.split("[", 1)[0]
        index = int(node.source.split("[", 2)[1].split("]", 1)[0]) if "[" in node.source else 0
        if section == "features":
            block, items = feature_block[index]
            key = f"features block {block}"
            label = f"features block {block}" if len(set(b for b, _ in feature_block)) > 1 else "features"
            first, last = items[0], items[-1]
            where = f"features[{first}]" if first == last else f"features[{first}–{last}]"
            text = f"{where}: {_labels([spec.features[i] for i in items], spec)}"
        elif section == "stages":
            key = label = f"stages[{index}]"
            block = spec.block
            extra = "".join([", pre-activation" if block.preact else "",
                             f", dropout {block.dropout:g}" if block.dropout else ""])
            text = (f"{spec.stages[index]} × {block.type} block, width {spec.widths[index]}, "
                    f"stride {strides[index]}{extra}")
        elif section in ("stem", "head"):
            key = label = section
            text = _labels(getattr(spec, section), spec)
        else:
            key = label = section
            text = ""
        out.setdefault(key, Part(key, label, text)).nodes.append(node)
    return list(out.values())


def _feature_blocks(spec: schema.ModelSpec) -> list[tuple[int, list[int]]]:
    """For each top-level `features` item: (block number, the items of that block); a pool closes a block."""
    blocks: list[list[int]] = [[]]
    for i, layer in enumerate(spec.features):
        blocks[-1].append(i)
        if isinstance(layer, schema.Pool) and i != len(spec.features) - 1:
            blocks.append([])
    out = []
    for b, items in enumerate(blocks, start=1):
        out += [(b, items) for _ in items]
    return out


def _labels(layers, spec: schema.ModelSpec) -> str:
    """`2 × conv3-64, maxpool 2×2`: the paper's notation, consecutive repeats folded."""
    labels = [_label(layer, spec) for layer in layers]
    out: list[list] = []
    for label in labels:
        if out and out[-1][0] == label:
            out[-1][1] += 1
        else:
            out.append([label, 1])
    return ", ".join(label if n == 1 else f"{n} × {label}" for label, n in out)


def _label(layer, spec: schema.ModelSpec) -> str:
    if isinstance(layer, schema.Conv):
        kernel = layer.kernel or spec.conv.kernel
        k = str(kernel[0]) if kernel[0] == kernel[1] else "×".join(map(str, kernel))
        stride = f"/{layer.stride[0]}" if layer.stride != [1, 1] else ""
        return f"conv{k}-{layer.filters}{stride}"
    if isinstance(layer, schema.Pool):
        stride = layer.stride or layer.pool
        return f"{layer.type} {shape_text(layer.pool)}" + (f"/{stride[0]}" if stride != layer.pool else "")
    if isinstance(layer, schema.Dense):
        return f"dense {layer.units}"
    if isinstance(layer, schema.Residual):
        return f"{layer.type} block {layer.filters}" + (f"/{layer.stride}" if layer.stride != 1 else "")
    if isinstance(layer, schema.Repeat):
        return f"{layer.times} × ({_labels(layer.layers, spec)})"
    if isinstance(layer, schema.GlobalPool):
        return f"global {layer.mode} pool"
    if isinstance(layer, schema.AdaptivePool):
        return f"adaptive {layer.mode} pool to {shape_text(layer.output)}"
    if isinstance(layer, schema.Dropout):
        return f"dropout {layer.rate:g}"
    return layer.type.replace("_", " ")


def stages_section(m: ModelDoc) -> str:
    p = m.plan
    rows = []
    for part in parts(m.spec, p):
        share = part.params / p.params if p.params else 0.0
        rows.append([part.label, part.spec, shape_text(part.nodes[-1].shape), f"{part.params:,}",
                     f"{part.trainable:,}", f"{share:.1%}" if share >= 0.001 else "< 0.1%", f"{part.macs / 1e6:,.1f}"])
    rows.append(["**total**", "", shape_text(p.output_shape), f"**{p.params:,}**", f"**{p.trainable_params:,}**",
                 "100%", f"**{p.macs / 1e6:,.1f}**"])
    return "\n".join([
        "## Parameters per stage\n",
        f"At {shape_text(p.input_shape)} with {p.classes} classes; output is the part's last tensor.\n",
        table(["Part", "From spec", "Output", "Parameters", "Trainable", "Share", "MACs (M)"], rows, "lllrrrr"),
    ])


# -- the layer plan ----------------------------------------------------------------------------

FOLD_AFTER = 2  # a stage's blocks past the second are folded into one row when there are 2 or more of them


def plan_section(m: ModelDoc) -> str:
    """Every layer with its output at each of SHAPES; adapted layers are marked and explained.

    Deep stages repeat one block: past its second block, a stage's blocks fold into
    one row (the last block's output, the folded blocks' parameters).
    """
    p = m.plan
    default = tuple(p.input_shape)
    planned = {s: m.at[s] for s in SHAPES if m.at[s] is not None}
    by_name = {s: {n.name: n for n in planned[s].nodes} if s in planned else {} for s in SHAPES}
    adapted = {n.name for plan in planned.values() for n in plan.adapted}
    header = ["#", "Layer", "Op"] + [shape_text(s) for s in SHAPES] + [
        f"Parameters at {shape_text(default)}", "From spec"]
    rows = []
    for i, item in _plan_rows(p, adapted):
        if isinstance(item, Node):
            node = item
            outputs = [_output(by_name[s].get(node.name)) for s in SHAPES]
            params = node.params + node.frozen
            rows.append([i, f"`{node.name}`", node.op, *outputs, f"{params:,}" if params else "", node.source])
        else:
            first, last, count, nodes = item
            outputs = [_output(by_name[s].get(nodes[-1].name)) for s in SHAPES]
            params = sum(n.params + n.frozen for n in nodes)
            rows.append([f"{i}–{i + len(nodes) - 1}", f"`{nodes[0].name}` … `{nodes[-1].name}`",
                         f"{count} blocks like the one above", *outputs, f"{params:,}", f"{first} … {last}"])
    notes = []
    for s, plan in planned.items():
        for node in plan.adapted:
            notes.append(f"- at {shape_text(s)}: `{node.name}` ({node.source}): {node.note}")
    failed = "".join(f"At {shape_text(s)} the model cannot be planned: {message}\n\n"
                     for s, message in m.errors.items())
    adapted_text = ("Layers marked † are adapted to fit the input (policy `adapt`; "
                    "`--strict` refuses them instead):\n\n" + "\n".join(notes) + "\n") if notes else (
                    "No layer needs adapting at these inputs.\n")
    return "\n".join([
        "## Layer plan\n",
        f"Output shapes at three inputs, {p.classes} classes; `zoo show {m.name} --input-shape H,W,C` "
        "prints the same plan, every block in full.\n",
        failed + adapted_text,
        table(header, rows, "rll" + "l" * len(SHAPES) + "rl"),
    ])


def _output(node: Node | None) -> str:
    if node is None:
        return "—"
    return f"**{shape_text(node.shape)}** †" if node.note else shape_text(node.shape)


_BLOCK = re.compile(r"^(stages\[\d+\])\.block\[(\d+)\]$")


def _plan_rows(plan: Plan, adapted: set[str]):
    """(index, node) per layer, or (index, (first source, last source, blocks, nodes)) for a folded run."""
    blocks: dict[str, int] = {}
    for node in plan.nodes:
        match = _BLOCK.match(node.source)
        if match:
            blocks[match[1]] = max(blocks.get(match[1], 0), int(match[2]) + 1)
    run: list[Node] = []
    run_start = 0

    def flush():
        if not run:
            return []
        first, last = run[0].source, run[-1].source
        count = int(_BLOCK.match(last)[2]) - int(_BLOCK.match(first)[2]) + 1
        out = [(run_start, (first, last, count, list(run)))] if count >= 2 else list(
            enumerate(run, start=run_start))
        run.clear()
        return out

    for i, node in enumerate(plan.nodes):
        match = _BLOCK.match(node.source)
        foldable = (match is not None and int(match[2]) >= FOLD_AFTER and blocks[match[1]] >= FOLD_AFTER + 2
                    and node.name not in adapted)
        if foldable and run and _BLOCK.match(run[-1].source)[1] != match[1]:
            yield from flush()
        if foldable:
            if not run:
                run_start = i
            run.append(node)
            continue
        yield from flush()
        yield i, node
    yield from flush()
