"""Other libraries' published parameter totals, and how each differs from ours.

All figures are for 224×224×3 inputs and 1000 classes.

keras.applications: ``keras.applications.<Name>(weights=None).count_params()``
(Keras 3), the totals printed in its model summaries: every weight, batch-norm
moving mean and variance included; its ResNets put a bias on every convolution.
https://keras.io/api/applications/

torchvision: the ``num_params`` of each model's ImageNet weights
(``torchvision.models.<Name>_Weights.IMAGENET1K_V1.meta["num_params"]``), i.e.
``sum(p.numel() for p in model.parameters())``: trainable parameters only, the
batch-norm running statistics are buffers and not counted; no convolution bias
before batch norm in its ResNets, a bias on every convolution in its VGGs.
https://pytorch.org/vision/stable/models.html
"""

from __future__ import annotations

from dataclasses import dataclass

from zoo.docs.layouts import BASIC, PLAIN, V1, V1_5, V2_LAST, Layout, differences, layout_of, words
from zoo.plan.graph import Plan
from zoo.spec.schema import ModelSpec

REFERENCE_INPUT = (224, 224, 3)
REFERENCE_CLASSES = 1000

LIBRARIES = {
    "keras.applications": "https://keras.io/api/applications/",
    "torchvision": "https://pytorch.org/vision/stable/models.html",
}

KERAS_APPLICATIONS = {"VGG16": 138_357_544, "VGG19": 143_667_240, "ResNet50": 25_636_712,
                      "ResNet101": 44_707_176, "ResNet152": 60_419_944, "ResNet50V2": 25_613_800,
                      "ResNet101V2": 44_675_560, "ResNet152V2": 60_380_648}

TORCHVISION = {"vgg11": 132_863_336, "vgg11_bn": 132_868_840, "vgg13": 133_047_848, "vgg13_bn": 133_053_736,
               "vgg16": 138_357_544, "vgg16_bn": 138_365_992, "vgg19": 143_667_240, "vgg19_bn": 143_678_248,
               "resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032,
               "resnet101": 44_549_160, "resnet152": 60_192_808, "resnext50_32x4d": 25_028_904,
               "resnext101_32x8d": 88_791_336, "wide_resnet50_2": 68_883_240, "wide_resnet101_2": 126_886_696}

# What each library model computes beyond its shapes: models with equal counts can still differ here.
_KERAS_BN = {"bn_epsilon": 1.001e-5, "bn_momentum": 0.99}  # keras.applications' batch norm
_TORCH_BN = {"bn_epsilon": 1e-5, "bn_momentum": 0.9}       # PyTorch's defaults (momentum 0.1, its convention)
LAYOUTS = {
    **{("keras.applications", f"ResNet{d}"): Layout(V1, "same", True, **_KERAS_BN) for d in (50, 101, 152)},
    **{("keras.applications", f"ResNet{d}V2"): Layout(V2_LAST, "symmetric", "auto", **_KERAS_BN)
       for d in (50, 101, 152)},
    **{("keras.applications", f"VGG{d}"): Layout() for d in (16, 19)},
    **{("torchvision", f"resnet{d}"): Layout(BASIC, "symmetric", False, **_TORCH_BN) for d in (18, 34)},
    **{("torchvision", name): Layout(V1_5, "symmetric", False, **_TORCH_BN)
       for name in ("resnet50", "resnet101", "resnet152", "resnext50_32x4d", "resnext101_32x8d",
                    "wide_resnet50_2", "wide_resnet101_2")},
    **{("torchvision", name): Layout(dropout=True, adaptive_pool=True,
                                     **(_TORCH_BN if name.endswith("_bn") else {}))
       for name in TORCHVISION if name.startswith("vgg")},
}

# Our model → the other libraries' model it is compared with (the same paper configuration).
KERAS_NAMES = {"vgg16": "VGG16", "vgg19": "VGG19", "resnet50": "ResNet50", "resnet101": "ResNet101",
               "resnet152": "ResNet152"}
KERAS_NAMES |= {f"{name}_keras": model for name, model in KERAS_NAMES.items()}
# resnet*v2 (no bias at all) is left out: Keras's biases on some convolutions do not follow from our count
KERAS_NAMES |= {f"resnet{d}v2_keras": f"ResNet{d}V2" for d in (50, 101, 152)}
TORCHVISION_NAMES = {name: name for name in TORCHVISION} | {
    "resnet50_keras": "resnet50", "resnet101_keras": "resnet101", "resnet152_keras": "resnet152"}
TORCHVISION_NAMES |= {f"{name}_tv": name for name in TORCHVISION if name.startswith(("resnet", "vgg"))}

# The pairs that compute the same function: the other library's weights load and give its outputs
# (tests/keras/test_twins.py takes its keras.applications constructors from KERAS_NAMES; tests/weights
# with ../shared/fixtures/torchvision). tests/docs/test_docs_twins.py checks their layouts agree.
TWINS = {(name, "keras.applications") for name in KERAS_NAMES if name.endswith("_keras")} | {
    (name, "torchvision") for name in TORCHVISION_NAMES
    if name.endswith("_tv") or name.startswith(("resnext", "wide_resnet"))}


@dataclass(frozen=True)
class Reference:
    library: str
    model: str
    params: int
    short: str     # the relation in a few symbols, for tables: "=", "− BN stats", "+ conv bias", …
    relation: str  # the same in words: how the figure follows from our plan, and whether it is our network
    variant: str = ""   # what theirs does otherwise than ours, e.g. "ResNet v1.5 (stride on the 3×3), …"
    twin: str | None = None  # our spec that computes what it computes (None: no such spec)

    @property
    def url(self) -> str:
        return LIBRARIES[self.library]


def twin_of(library: str, model: str) -> str | None:
    """Our spec that is ``model`` of ``library`` (weights load, outputs equal), if there is one."""
    names = KERAS_NAMES if library == "keras.applications" else TORCHVISION_NAMES
    return next((ours for ours, theirs in names.items() if theirs == model and (ours, library) in TWINS), None)


def references(name: str, plan: Plan, spec: ModelSpec | None = None) -> list[Reference]:
    """The published totals for model ``name``; ``plan`` must be at 224×224×3 with 1000 classes.

    Each says whether the library's model is ours (a twin) or, if not, what it does otherwise and
    which of our specs is it. ``spec``: the validated spec of ``name`` (read from the registry if None).
    """
    out = []
    for library, names, figures in (("keras.applications", KERAS_NAMES, KERAS_APPLICATIONS),
                                    ("torchvision", TORCHVISION_NAMES, TORCHVISION)):
        if name in names:
            model = names[name]
            if spec is None:
                from zoo.spec.registry import default_registry
                spec = default_registry().spec(name)
            short, text = relation(plan, figures[model])
            twin = twin_of(library, model)
            otherwise = differences(layout_of(spec), LAYOUTS[(library, model)])
            if twin == name:
                text += "; the same network: its weights load into ours and give its outputs"
            else:
                text += f"; not the same network (theirs: {otherwise or 'other layer names'})"
                text += f"; `{twin}` is theirs" if twin else ""
            out.append(Reference(library, model, figures[model], short, text, otherwise, twin))
    return out


def variant(spec: ModelSpec) -> str:
    """Our residual layout in the words the libraries' variants use, "" for plain networks."""
    layout = layout_of(spec)
    return "" if layout.blocks == PLAIN else f"{words(layout, 'blocks')}, {words(layout, 'padding')}"


def conv_bias(plan: Plan, present: bool) -> int:
    """Convolution biases the plan has (``present``), or would add: one per filter."""
    return sum(n.attrs["filters"] for n in plan.nodes if n.op == "conv2d" and n.attrs["bias"] is present)


def relation(plan: Plan, figure: int) -> tuple[str, str]:
    """Explain ``figure`` as our count with convolution biases and batch-norm statistics counted or not.

    Returns (short, long): ``("+ conv bias", "ours plus 26,560 convolution biases")``.
    """
    moving, missing, present = plan.non_trainable_params, conv_bias(plan, False), conv_bias(plan, True)
    without = f"without the {moving:,} batch-norm moving statistics"
    candidates = [
        (plan.params, "=", "equal to ours"),
        (plan.trainable_params, "− BN stats", f"ours {without}"),
        (plan.params + missing, "+ conv bias", f"ours plus {missing:,} convolution biases"),
        (plan.trainable_params + missing, "+ conv bias − BN stats",
         f"ours plus {missing:,} convolution biases, {without}"),
        (plan.params - present, "− conv bias", f"ours without the {present:,} convolution biases"),
        (plan.trainable_params - present, "− conv bias − BN stats",
         f"ours without the {present:,} convolution biases, {without}"),
    ]
    for value, short, text in candidates:
        if value == figure:
            return short, text
    diff = figure - plan.params
    return f"{diff:+,}", f"differs from ours by {diff:+,}"
