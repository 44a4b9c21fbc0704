"""The spec schema: a fixed set of layer and block kinds behind a ``type:`` tag.

A model is ``stem`` → ``features`` → residual ``stages`` → ``head``; every
section is optional. Validation happens once, here; the planner trusts it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

# Upper bounds refuse absurd specs before anything is allocated.
MAX_CHANNELS = 65_536
MAX_KERNEL = 256
MAX_STRIDE = 64
MAX_REPEATS = 10_000
MAX_UNITS = 1_048_576
MAX_SIDE = 32_768  # input height or width, pixels

Name = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$")]
# Model (and recipe) names: they become file names and URLs in the docs, so no `/`, spaces or
# control characters. `_vgg`: abstract bases start with `_`.
MODEL_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$"
MODEL_NAME_RULE = ("a letter or `_`, then letters, digits, `_`, `-` or `.`, "
                   "64 characters at most")
ModelName = Annotated[str, Field(pattern=MODEL_NAME_PATTERN)]
Channels = Annotated[int, Field(ge=1, le=MAX_CHANNELS)]
Activation = Literal["relu", "relu6", "gelu", "silu", "swish", "elu", "selu",
                     "tanh", "sigmoid", "softmax", "linear"]


def _odd(value: int) -> int:
    if value % 2 == 0:
        raise ValueError(f"must be odd (got {value})")
    return value


def _pair(value: Any) -> Any:
    """Accept ``3`` for ``[3, 3]``: kernels, strides and pools are (height, width)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return [value, value]
    return value


def _pair_type(low: int, high: int):
    side = Annotated[int, Field(ge=low, le=high)]
    two = Annotated[list[side], Field(min_length=2, max_length=2)]
    return Annotated[two, BeforeValidator(_pair, json_schema_input_type=Union[side, two])]


Kernel = _pair_type(1, MAX_KERNEL)
Stride = _pair_type(1, MAX_STRIDE)
Padding = Union[Literal["same", "valid"], Annotated[int, Field(ge=0, le=MAX_KERNEL)]]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False)  # `.inf`, `.nan`


class Conv(_Strict):
    """Convolution, optionally followed by batch norm, then its activation."""
    type: Literal["conv"]
    filters: Channels = Field(description="Output channels.")
    kernel: Kernel | None = Field(None, description="Kernel size, `3` or `[3, 3]`; default from `conv.kernel`.")
    stride: Stride = Field([1, 1], description="Stride, `2` or `[2, 2]`.")
    padding: Padding | None = Field(None, description="`same`, `valid`, or explicit zero padding in pixels; default from `conv.padding`.")
    activation: Activation | None = Field(None, description="Default from `conv.activation`.")
    bias: bool | None = Field(None, description="Convolution bias; default from `conv.bias`.")
    batch_norm: bool | None = Field(None, description="Batch norm after the convolution; default from `conv.batch_norm`.")
    name: Name | None = Field(None, description="Layer name; derived from the position when omitted.")


class Pool(_Strict):
    """Max or average pooling over a window."""
    type: Literal["maxpool", "avgpool"]
    pool: Kernel = Field([2, 2], description="Window size.")
    stride: Stride | None = Field(None, description="Stride; defaults to the window size.")
    padding: Padding = Field("valid", description="`valid`, `same`, or explicit zero padding in pixels.")
    name: Name | None = Field(None, description="Layer name; derived from the position when omitted.")


class LRN(_Strict):
    """Local response normalisation across channels (Krizhevsky et al. 2012)."""
    type: Literal["lrn"]
    size: Annotated[int, Field(ge=1, le=255), AfterValidator(_odd)] = Field(5, description="Channels in the window (odd).")
    alpha: Annotated[float, Field(ge=0)] = Field(1e-4, description="Scale of the sum of squares.")
    beta: Annotated[float, Field(ge=0)] = Field(0.75, description="Exponent.")
    bias: Annotated[float, Field(gt=0)] = Field(2.0, description="The constant k.")
    name: Name | None = Field(None, description="Layer name; derived from the position when omitted.")


class Dense(_Strict):
    """Fully connected layer."""
    type: Literal["dense"]
    units: Annotated[int, Field(ge=1, le=MAX_UNITS)] = Field(description="Output features.")
    activation: Activation = Field("relu", description="Applied to the output.")
    bias: bool = Field(True, description="Add a learned bias.")
    name: Name | None = Field(None, description="Layer name; `fc1`, `fc2`, … when omitted.")


class Classifier(_Strict):
    """The final dense layer, one unit per class."""
    type: Literal["classifier"]
    activation: Activation = Field("softmax", description="`softmax` gives class probabilities.")
    bias: bool = Field(True, description="Add a learned bias.")
    name: Name | None = Field(None, description="Layer name; `predictions` when omitted.")


class Dropout(_Strict):
    """Zero a fraction of activations while training."""
    type: Literal["dropout"]
    rate: Annotated[float, Field(ge=0, lt=1)] = Field(0.5, description="Fraction dropped, from 0 up to 1.")
    name: Name | None = Field(None, description="Layer name; derived from the position when omitted.")


class Flatten(_Strict):
    """Feature map → vector, as VGG's head needs before its dense layers."""
    type: Literal["flatten"]
    name: Name | None = Field(None, description="Layer name; derived from the position when omitted.")


class GlobalPool(_Strict):
    """Average or maximum over all positions: one value per channel, for any input size."""
    type: Literal["global_pool"]
    mode: Literal["avg", "max"] = Field("avg", description="`avg` or `max`.")
    name: Name | None = Field(None, description="Layer name; derived from the position when omitted.")


class AdaptivePool(_Strict):
    """Average or maximum over a fixed grid of windows: the same output size for any input (PyTorch's adaptive pooling)."""
    type: Literal["adaptive_pool"]
    output: Kernel = Field([7, 7], description="Output height and width, `7` or `[7, 7]`; window i spans rows ⌊i·H/out⌋ up to ⌈(i+1)·H/out⌉.")
    mode: Literal["avg", "max"] = Field("avg", description="`avg` or `max`.")
    name: Name | None = Field(None, description="Layer name; derived from the position when omitted.")


class BatchNorm(_Strict):
    """Batch normalisation with the spec's `conv.bn_epsilon` and `conv.bn_momentum`."""
    type: Literal["batch_norm"]
    name: Name | None = Field(None, description="Layer name; derived from the position when omitted.")


class Act(_Strict):
    """An activation on its own, e.g. after a final batch norm."""
    type: Literal["activation"]
    activation: Activation = Field("relu", description="Which function.")
    name: Name | None = Field(None, description="Layer name; derived from the position when omitted.")


class SqueezeExcite(_Strict):
    """Global average pool → 1×1 reduce + ReLU → 1×1 expand + sigmoid → scale the branch's channels."""
    reduction: Annotated[int, Field(ge=1, le=MAX_CHANNELS)] = Field(16, description="The reduce convolution has `channels / reduction` filters (at least 1).")


class BlockOptions(_Strict):
    """How a residual block is wired; `stages` repeat it with `widths` and `strides`."""
    type: Literal["basic", "bottleneck"] = Field(description="`basic`: two 3×3 convolutions; `bottleneck`: 1×1, 3×3, 1×1.")
    expansion: Annotated[int, Field(ge=1, le=64)] | None = Field(None, description="Output channels per width: 1 for basic, 4 for bottleneck.")
    stride_on: Literal["1x1", "3x3"] = Field("1x1", description="Bottleneck only: which convolution strides (the paper: the first 1×1; ResNet v1.5: the 3×3).")
    shortcut: Literal["projection", "zero_pad", "avg_down", "subsample"] = Field("projection", description="Where the shape changes: a 1×1 convolution (option B); subsampling and zero channels (option A); `avg_down`, a 2×2 average pool with the stride, then a 1×1 convolution (ResNet-D); `subsample`, a 1×1 convolution where the channels change, else the input subsampled by a 1×1 max pool (keras.applications' ResNetV2).")
    padding: Literal["same", "symmetric"] = Field("same", description="Block convolutions wider than 1×1: `same` (TensorFlow's: a stride-2 convolution on an even map pads 0 before, 1 after) or `symmetric` (PyTorch's: an explicit zero padding of half the kernel on every side, then a valid convolution).")
    groups: Annotated[int, Field(ge=1, le=MAX_CHANNELS)] = Field(1, description="Bottleneck only: groups of the 3×3 convolution (ResNeXt's cardinality).")
    width_per_group: Annotated[int, Field(ge=1, le=MAX_CHANNELS)] = Field(64, description="Bottleneck only: the 3×3 convolution has `width × width_per_group / 64 × groups` channels (torchvision's rule: 4 with 32 groups is ResNeXt 32x4d, 128 doubles the width as in Wide ResNet-50-2).")
    se: SqueezeExcite | None = Field(None, description="Squeeze-and-excitation on the residual branch, before the sum (Hu et al. 2018).")
    stride_block: Literal["first", "last"] = Field("first", description="Stages only: which block of a stage carries its stride; `last` as keras.applications' ResNetV2.")
    preact_names: Literal["zoo", "keras"] = Field("zoo", description="Pre-activation only: name each inner batch norm and activation after the convolution that reads it (`zoo`: `_2_bn` before `_2_conv`) or the one it follows (`keras`: `_1_bn` after `_1_conv`, as keras.applications' ResNetV2).")
    last_activation: Literal["after_add", "before_add"] = Field("after_add", description="Post-activation only: the activation after the sum, or on the branch's last convolution with nothing after the sum (the ResNet-9 of DAWNBench).")
    preact: bool = Field(False, description="Pre-activation order (He et al. 2016b, Wide ResNets): batch norm and activation before each convolution, nothing after the sum.")
    dropout: Annotated[float, Field(ge=0, lt=1)] = Field(0.0, description="Dropout between the block's convolutions (Wide ResNets use 0.3).")
    zero_init: bool = Field(False, description="Start each block as the identity: the residual branch's last batch-norm scale (or, pre-activation, its last convolution) starts at zero (Goyal et al. 2017). Keeps very deep nets finite at initialisation.")


class Residual(BlockOptions):
    """One residual block placed by hand in `features`."""
    filters: Channels = Field(description="Block width; the output has `filters × expansion` channels.")
    stride: Annotated[int, Field(ge=1, le=MAX_STRIDE)] = Field(1, description="Stride of the block's downsampling convolution.")
    name: Name | None = Field(None, description="Layer name; derived from the position when omitted.")


def _shorthand(items: Any) -> Any:
    """`64` is a 64-filter convolution with the spec's defaults; `M` is 2×2 max pooling."""
    if not isinstance(items, list):
        return items
    out = []
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool):
            out.append({"type": "conv", "filters": item})
        elif item == "M":
            out.append({"type": "maxpool"})
        else:
            out.append(item)
    return out


class Repeat(_Strict):
    """Its `layers`, `times` times over."""
    type: Literal["repeat"]
    times: Annotated[int, Field(ge=1, le=MAX_REPEATS)] = Field(description="How many copies.")
    name: Name | None = Field(None, description="Prefix of the copies' layer names.")
    layers: Annotated[list["Layer"], Field(min_length=1), BeforeValidator(_shorthand)] = Field(
        description="Layers to repeat; the same shorthand as `features`.")


Layer = Annotated[
    Union[Conv, Pool, LRN, Dense, Classifier, Dropout, Flatten, GlobalPool, AdaptivePool, BatchNorm, Act, Residual,
          Repeat],
    Field(discriminator="type"),
]
Shorthand = Union[Annotated[int, Field(ge=1, le=MAX_CHANNELS)], Literal["M"], Layer]
Layers = Annotated[list[Layer], BeforeValidator(_shorthand, json_schema_input_type=list[Shorthand])]
Repeat.model_rebuild()

LAYER_TYPES = ("conv", "maxpool", "avgpool", "lrn", "dense", "classifier", "dropout", "flatten",
               "global_pool", "adaptive_pool", "batch_norm", "activation", "basic", "bottleneck", "repeat")


class ConvDefaults(_Strict):
    """Defaults for every convolution in the model, blocks included."""
    kernel: Kernel = Field([3, 3], description="Kernel size of a convolution that gives none.")
    padding: Padding = Field("same", description="`same`, `valid`, or zero padding in pixels.")
    activation: Activation = Field("relu", description="Activation after each convolution (after its batch norm).")
    bias: bool | Literal["auto"] = Field(True, description="The papers' ResNets use no bias before batch norm; `auto`: a bias only where no batch norm directly follows (keras.applications' ResNetV2).")
    batch_norm: bool = Field(False, description="Batch norm after every convolution.")
    bn_epsilon: Annotated[float, Field(gt=0, lt=1)] = Field(1e-5, description="Added to the variance.")
    bn_momentum: Annotated[float, Field(ge=0, lt=1)] = Field(0.9, description="Keras convention: weight of the old moving average.")
    initializer: Literal["glorot_uniform", "glorot_normal", "he_normal", "he_uniform", "lecun_normal"] = Field(
        "glorot_uniform", description="Kernel initialiser; the ResNet papers use `he_normal`.")


class Paper(_Strict):
    """Where the architecture is published."""
    title: str = Field(description="The paper's title.")
    authors: str = Field(description="Its authors, as cited.")
    year: Annotated[int, Field(ge=1950, le=2100)] = Field(description="Year of publication.")
    url: str | None = Field(None, description="Where to read it.")
    table: str = Field(description="The table that defines it, e.g. `Table 1`.")
    row: str = Field(description="Its row or column in that table, e.g. `D` or `50-layer`.")


class Published(_Strict):
    """The paper's own figures, to check ours against."""
    params_millions: Annotated[float, Field(gt=0)] | None = Field(None, description="Parameters ×10⁶, as printed.")
    gflops: Annotated[float, Field(gt=0)] | None = Field(None, description="Multiply-adds ×10⁹, as the ResNet paper counts FLOPs.")
    source: str = Field(description="Where the figures are printed, e.g. `Table 2`.")


class ModelSpec(_Strict):
    """One architecture. Sections run in order: stem, features, stages, head."""
    extends: ModelName | None = Field(None, description="A spec to start from; this one overrides its fields (mappings merge, lists replace).")
    abstract: bool = Field(False, description="A base for other specs only; not listed or built.")
    family: str = Field("custom", description="Groups models in `zoo list` and the docs, e.g. `vgg`, `resnet`.")
    description: str = Field("", description="One or two sentences for people.")
    paper: Paper | None = Field(None, description="Where the architecture is published.")
    published: Published | None = Field(None, description="The paper's own figures.")
    input_shape: Annotated[list[Annotated[int, Field(ge=1, le=MAX_SIDE)]], Field(min_length=3, max_length=3)] = Field(
        [224, 224, 3], description="Default input, `[height, width, channels]`.")
    classes: Annotated[int, Field(ge=1, le=MAX_UNITS)] = Field(1000, description="Default number of classes (the classifier's units).")
    conv: ConvDefaults = Field(ConvDefaults(), description="Defaults for every convolution, blocks included.")
    stem: Layers = Field([], description="Layers before the body.")
    features: Layers = Field([], description="A plain sequence: integers are 3×3 convolutions, `M` is max pooling.")
    block: BlockOptions | None = Field(None, description="The residual block that `stages` repeat.")
    stages: list[Annotated[int, Field(ge=1, le=MAX_REPEATS)]] = Field([], description="Blocks per stage, e.g. `[3, 4, 6, 3]`.")
    widths: list[Channels] = Field([], description="Block width per stage.")
    strides: list[Annotated[int, Field(ge=1, le=MAX_STRIDE)]] | None = Field(
        None, description="Stride of each stage's first block; default 1, then 2.")
    head: Layers = Field([], description="Layers after the body, usually pooling and the classifier.")


def consistency_problems(spec: ModelSpec) -> list[tuple[tuple, str]]:
    """Cross-field rules the field types cannot say, as (location, message)."""
    problems = []
    if spec.stages:
        if spec.block is None:
            problems.append((("block",), "required when `stages` is given"))
        if len(spec.widths) != len(spec.stages):
            problems.append((("widths",), f"must have one entry per stage ({len(spec.stages)} stages, got {len(spec.widths)})"))
        if spec.strides is not None and len(spec.strides) != len(spec.stages):
            problems.append((("strides",), f"must have one entry per stage ({len(spec.stages)} stages, got {len(spec.strides)})"))
    elif spec.widths:
        problems.append((("widths",), "given without `stages`"))
    if spec.block is not None and spec.block.type == "basic":
        for field, default in (("groups", 1), ("width_per_group", 64)):
            if getattr(spec.block, field) != default:
                problems.append((("block", field), "applies to bottleneck blocks only"))
    if not (spec.stem or spec.features or spec.stages or spec.head):
        problems.append(((), "has no layers: give at least one of stem, features, stages, head"))
    return problems
