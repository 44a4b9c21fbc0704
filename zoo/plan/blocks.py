"""Residual blocks: a shortcut, a branch of convolutions, their sum.

He et al. 2016 (post-activation) and 2016b (pre-activation), with the options of
later papers, each a field of ``BlockOptions`` in zoo.spec.schema: grouped and
widened bottlenecks (ResNeXt, Wide ResNet-50-2), squeeze-and-excitation, the
average-pool shortcut of ResNet-D, PyTorch's symmetric padding, Keras's ResNetV2
names. The shortcut is traced before the branch because keras.applications
creates its layers in that order, and Keras weight files follow layer order.
"""

from __future__ import annotations

from zoo.errors import SpecError
from zoo.plan.ops import out_size
from zoo.plan.tracer import PLANNERS, Tracer
from zoo.spec import schema

Conv = tuple[int, int, int, int]  # filters, kernel side, stride, groups


@PLANNERS.register("basic", "bottleneck")
def residual(t: Tracer, block: schema.Residual, source: str, name: str) -> None:
    """shortcut, branch [→ squeeze-excite], add [→ activation]."""
    block_in = t.current
    cin = t.spatial(source, "a residual block")[-1]
    convs, cout = branch_convs(block)
    branch_in = _preact(t, f"{name}_preact", source) if block.preact else block_in
    shortcut = _shortcut(t, block, name, source, block_in, cin, cout)
    t.current = branch_in
    _branch(t, block, name, source, convs)
    if block.se is not None:
        _squeeze_excite(t, block.se, name, source)
    branch = t.current
    # (shortcut, branch) as keras.applications adds them: Keras orders layers of equal depth by
    # the graph walk, which takes an add's inputs in order, and weight files follow that order.
    t.emit(f"{name}_add", "add", {}, t.by_name(branch).shape, source, inputs=(shortcut, branch))
    if not block.preact and block.last_activation == "after_add":
        t.activation(f"{name}_out", t.defaults.activation, source)


def branch_convs(block: schema.Residual) -> tuple[list[Conv], int]:
    """The branch's convolutions and the block's output channels."""
    s = block.stride
    if block.type == "basic":
        cout = block.filters * (block.expansion or 1)
        return [(block.filters, 3, s, 1), (cout, 3, 1, 1)], cout
    cout = block.filters * (block.expansion or 4)
    width = block.filters * block.width_per_group // 64 * block.groups  # torchvision's rule
    s1, s3 = (s, 1) if block.stride_on == "1x1" else (1, s)
    return [(width, 1, s1, 1), (width, 3, s3, block.groups), (cout, 1, 1, 1)], cout


def _padding(block: schema.Residual, kernel: int):
    """A 1×1 needs none; wider kernels pad TensorFlow's way or half the kernel on every side."""
    if kernel == 1:
        return "valid"
    return "same" if block.padding == "same" else kernel // 2


def _branch(t: Tracer, block: schema.Residual, name: str, source: str, convs: list[Conv]) -> None:
    d = t.defaults
    for i, (filters, k, stride, groups) in enumerate(convs, start=1):
        last = i == len(convs)
        if block.preact and i > 1:
            _preact(t, f"{name}_{i - 1 if block.preact_names == 'keras' else i}", source)
        if i == 2 and block.dropout:
            t.emit(f"{name}_{i}_dropout", "dropout", {"rate": block.dropout}, t.shape, source)
        zero_init = last and block.zero_init
        if block.preact:
            padding = t.pad(f"{name}_{i}", _padding(block, k), source)
            t.conv(f"{name}_{i}_conv", source, filters=filters, kernel=(k, k), stride=(stride, stride),
                   padding=padding, bias=t.bias(d.batch_norm and not last), zero_init=zero_init, groups=groups)
        else:
            keep = not last or block.last_activation == "before_add"
            t.conv_unit(f"{name}_{i}", source, filters=filters, kernel=(k, k), stride=(stride, stride),
                        padding=_padding(block, k), bias=t.bias(d.batch_norm), batch_norm=d.batch_norm,
                        activation=d.activation if keep else "linear", fused=False, zero_init=zero_init,
                        groups=groups)


def _shortcut(t: Tracer, block: schema.Residual, name: str, source: str, block_in: str, cin: int,
              cout: int) -> str:
    """The identity, or where the shape changes what ``block.shortcut`` says; returns its tensor.

    Reads the current tensor: the block input, or pre-activated for ``preact``.
    """
    s = block.stride
    if s == 1 and cin == cout:
        return block_in
    d = t.defaults
    if block.shortcut == "subsample" and cin == cout:
        # keras.applications' ResNetV2: the raw input, every s-th pixel (a 1×1 max pool)
        h, w, c = t.by_name(block_in).shape
        hw = (out_size(h, 1, s, "valid"), out_size(w, 1, s, "valid"))
        return t.emit(f"{name}_0_pool", "max_pool", {"pool": (1, 1), "stride": (s, s), "padding": "valid"},
                      (*hw, c), source, inputs=(block_in,))
    if block.shortcut == "zero_pad":
        if cout < cin:
            raise SpecError(f"a zero_pad shortcut cannot shrink {cin} channels to {cout}", path=f"{t.model}.{source}")
        h, w, _ = t.shape
        shape = (-(-h // s), -(-w // s), cout)
        return t.emit(f"{name}_0_pad", "channel_pad", {"stride": s, "channels": cout - cin}, shape, source)
    if block.shortcut == "avg_down" and s > 1:
        # ResNet-D: average 2×2 windows, ceil mode without the padding (timm's), then a 1×1 at stride 1
        h, w, c = t.shape
        hw = (out_size(h, 2, s, "same"), out_size(w, 2, s, "same"))
        t.emit(f"{name}_0_pool", "avg_pool", {"pool": (2, 2), "stride": (s, s), "padding": "same"}, (*hw, c), source)
        s = 1
    if block.preact:
        return t.conv(f"{name}_0_conv", source, filters=cout, kernel=(1, 1), stride=(s, s), padding="valid",
                      bias=t.bias(False), role="shortcut")
    return t.conv_unit(f"{name}_0", source, filters=cout, kernel=(1, 1), stride=(s, s), padding="valid",
                       bias=t.bias(d.batch_norm), batch_norm=d.batch_norm, activation="linear", fused=False,
                       role="shortcut")


def _squeeze_excite(t: Tracer, se: schema.SqueezeExcite, name: str, source: str) -> None:
    """Hu et al. 2018: per-channel gates from the globally pooled branch; 1×1 convolutions with bias."""
    x = t.current
    h, w, c = t.shape
    t.emit(f"{name}_se_pool", "global_pool", {"mode": "avg", "keepdims": True}, (1, 1, c), source)
    for part, filters, activation in (("reduce", max(1, c // se.reduction), t.defaults.activation),
                                      ("expand", c, "sigmoid")):
        t.conv(f"{name}_se_{part}", source, filters=filters, kernel=(1, 1), stride=(1, 1), padding="valid",
               bias=True, activation=activation, role="se")
    t.emit(f"{name}_se_scale", "multiply", {}, (h, w, c), source, inputs=(x, t.current))


def _preact(t: Tracer, base: str, source: str) -> str:
    """batch norm → activation ahead of a convolution; returns the activated tensor."""
    if t.defaults.batch_norm:
        t.batch_norm(f"{base}_bn", source)
    t.activation(f"{base}_{t.defaults.activation}", t.defaults.activation, source)
    return t.current
