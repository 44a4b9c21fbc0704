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

from zoo.plan.graph import Plan

REFERENCE_INPUT = (224, 224, 3)
REFERENCE_CLASSES = 1000

LIBRARIES = {
    "keras.applications": "https://keras.io/api/applications/",
    "torchvision": "https://pytorch.org/vision/stable/models.html",
}

KERAS_APPLICATIONS = {"VGG16": 138_357_544, "VGG19": 143_667_240, "ResNet50": 25_636_712,
                      "ResNet101": 44_707_176, "ResNet152": 60_419_944}

TORCHVISION = {"vgg11": 132_863_336, "vgg11_bn": 132_868_840, "vgg13": 133_047_848, "vgg13_bn": 133_053_736,
               "vgg16": 138_357_544, "vgg16_bn": 138_365_992, "vgg19": 143_667_240, "vgg19_bn": 143_678_248,
               "resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032,
               "resnet101": 44_549_160, "resnet152": 60_192_808}

# Our model → the other libraries' model of the same architecture.
KERAS_NAMES = {"vgg16": "VGG16", "vgg19": "VGG19", "resnet50": "ResNet50", "resnet101": "ResNet101",
               "resnet152": "ResNet152", "resnet50_keras": "ResNet50", "resnet101_keras": "ResNet101",
               "resnet152_keras": "ResNet152"}
TORCHVISION_NAMES = {name: name for name in TORCHVISION} | {
    "resnet50_keras": "resnet50", "resnet101_keras": "resnet101", "resnet152_keras": "resnet152"}


@dataclass(frozen=True)
class Reference:
    library: str
    model: str
    params: int
    short: str     # the relation in a few symbols, for tables: "=", "− BN stats", "+ conv bias", …
    relation: str  # the same in words: how the figure follows from our plan at 224×224×3, 1000 classes

    @property
    def url(self) -> str:
        return LIBRARIES[self.library]


def references(name: str, plan: Plan) -> list[Reference]:
    """The published totals for model ``name``; ``plan`` must be at 224×224×3 with 1000 classes."""
    out = []
    for library, names, figures in (("keras.applications", KERAS_NAMES, KERAS_APPLICATIONS),
                                    ("torchvision", TORCHVISION_NAMES, TORCHVISION)):
        if name in names:
            model = names[name]
            out.append(Reference(library, model, figures[model], *relation(plan, figures[model])))
    return out


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
