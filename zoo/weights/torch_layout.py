"""PyTorch state dicts of torchvision's (and timm's) ResNets, ResNeXts, Wide ResNets and VGGs: each
zoo layer's keys, derived from the plan, and the checks that the plan computes what PyTorch's
network computes.

Equal shapes are not enough: a zoo ResNet v1 with TensorFlow's `same` padding takes every tensor
of torchvision's resnet50 and computes another function. So a plan is refused unless it is a
torchvision-layout network (the `_tv` specs): symmetric padding, stride on the 3×3 (v1.5),
PyTorch's batch-norm epsilon, and VGG's adaptive 7×7 pool before the classifier.
"""

from __future__ import annotations

import re

from zoo.errors import WeightsError
from zoo.plan.graph import Node, Plan
from zoo.weights.convert import LINEAR, OIHW, SAME, linear_from_map

_BN = ("weight", "bias", "running_mean", "running_var")  # Keras's gamma, beta, moving mean, moving variance
_BLOCK = re.compile(r"conv\d+_block\d+_(\d+)_(conv|bn)$")
_STAGE = re.compile(r"stages\[(\d+)\]\.block\[(\d+)\]$")
TORCH_EPSILON = 1e-5
RESNETS = ("resnet", "resnext", "wide_resnet")  # one module tree: ResNeXt's grouped 3×3 and WRN's wider one


def bindings(plan: Plan, path: str) -> dict[str, list[tuple[str, object]]]:
    """zoo layer name → [(state-dict key, convert)] in the order of the Keras layer's weights."""
    family = plan.meta.get("family")
    if family not in RESNETS + ("vgg",):
        raise WeightsError(f"{plan.name}: a PyTorch state dict maps onto torchvision-layout ResNets, ResNeXts, "
                           f"Wide ResNets and VGGs (the `_tv` specs, resnext*, wide_resnet*), not onto the "
                           f"{family or 'unknown'} family", file=path)
    _check_common(plan, path)
    return _resnet(plan, path) if family in RESNETS else _vgg(plan, path)


def _refuse(plan: Plan, path: str, why: str) -> WeightsError:
    from zoo.spec.registry import default_registry

    twin = f"{plan.name}_tv" if f"{plan.name}_tv" in default_registry().names() else \
        ("resnet50_tv" if plan.meta.get("family") in RESNETS else "vgg16_tv")
    return WeightsError(f"{plan.name} is not a torchvision-layout network ({why}); its outputs would differ "
                        f"from PyTorch's with every shape equal: use a `_tv` spec such as {twin}", file=path)


def _check_common(plan: Plan, path: str) -> None:
    for n in plan.nodes:
        if n.op == "conv2d":
            k, s = n.attrs["kernel"], n.attrs["stride"]
            if n.attrs["padding"] == "same" and max(s) > 1 and max(k) > 1:
                raise _refuse(plan, path, f"{n.name} pads a stride-{s[0]} {k[0]}×{k[1]} convolution as "
                                          "TensorFlow's `same` does, PyTorch pads symmetrically")
        if n.op == "batch_norm" and abs(n.attrs["epsilon"] - TORCH_EPSILON) > 1e-12:
            raise _refuse(plan, path, f"{n.name} has batch-norm epsilon {n.attrs['epsilon']:g}, PyTorch's is 1e-5")


def _weights(n: Node, prefix: str) -> list[tuple[str, object]]:
    if n.op == "conv2d":
        return [(f"{prefix}.weight", OIHW)] + ([(f"{prefix}.bias", SAME)] if n.attrs["bias"] else [])
    if n.op == "batch_norm":
        return [(f"{prefix}.{name}", SAME) for name in _BN]
    raise AssertionError(n.op)


def _resnet(plan: Plan, path: str) -> dict[str, list[tuple[str, object]]]:
    out = {}
    for n in plan.nodes:
        if n.op not in ("conv2d", "batch_norm", "dense"):
            continue
        if n.op == "conv2d" and n.attrs["kernel"] == (1, 1) and max(n.attrs["stride"]) > 1 and n.role != "shortcut":
            raise _refuse(plan, path, f"{n.name} strides its 1×1 convolution (ResNet v1); torchvision's "
                                      "bottlenecks stride the 3×3 (v1.5)")
        if n.op == "dense":
            if n is not plan.nodes[-1]:
                raise _refuse(plan, path, f"{n.name}: torchvision's ResNet has one Linear, `fc`")
            out[n.name] = [("fc.weight", LINEAR)] + ([("fc.bias", SAME)] if n.attrs["bias"] else [])
        elif n.source == "stem[0]" and n.name in ("conv1_conv", "conv1_bn"):
            out[n.name] = _weights(n, "conv1" if n.op == "conv2d" else "bn1")
        else:
            block, stage = _BLOCK.match(n.name), _STAGE.match(n.source)
            if not (block and stage) or n.role not in ("", "shortcut"):
                raise _refuse(plan, path, f"{n.name} ({n.source}) has no counterpart in torchvision's ResNet")
            index, kind = int(block.group(1)), block.group(2)
            where = f"layer{int(stage.group(1)) + 1}.{stage.group(2)}"
            module = (f"downsample.{0 if kind == 'conv' else 1}" if index == 0 else f"{kind}{index}")
            out[n.name] = _weights(n, f"{where}.{module}")
    return out


def _vgg(plan: Plan, path: str) -> dict[str, list[tuple[str, object]]]:
    """torchvision's VGG is `features` (conv, [bn], relu, …, maxpool) then `avgpool`, then `classifier`
    (linear, relu, dropout, …): each zoo node takes the index its PyTorch module has."""
    out, part, index, previous = {}, "features", 0, None
    flat_map = None
    for n in plan.nodes[1:]:
        if n.op == "adaptive_pool":
            if tuple(n.shape[:2]) != (7, 7):
                raise _refuse(plan, path, f"{n.name} pools to {n.shape[0]}×{n.shape[1]}, torchvision's to 7×7")
            part, index, flat_map = "classifier", 0, n.shape
        elif n.op == "flatten":
            if flat_map is None:
                raise _refuse(plan, path, "no adaptive 7×7 pool before the classifier, as torchvision's "
                                          "VGG has, so it only matches at one input size")
        elif n.op in ("conv2d", "batch_norm"):
            if part != "features":
                raise _refuse(plan, path, f"{n.name} comes after the classifier starts")
            out[n.name] = _weights(n, f"features.{index}")
            index += 1 + (n.op == "conv2d" and n.attrs.get("activation") not in (None, "linear"))
        elif n.op == "dense":
            convert = linear_from_map(flat_map) if previous == "flatten" else LINEAR
            out[n.name] = [(f"classifier.{index}.weight", convert)] + \
                ([(f"classifier.{index}.bias", SAME)] if n.attrs["bias"] else [])
            index += 1 + (n.attrs.get("activation") not in (None, "linear", "softmax"))
        elif n.op in ("activation", "max_pool", "dropout"):
            index += 1
        else:
            raise _refuse(plan, path, f"{n.name} ({n.op}) has no counterpart in torchvision's VGG")
        previous = n.op
    return out
