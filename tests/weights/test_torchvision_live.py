"""Every zoo spec that claims torchvision's layout, against torchvision itself: the torchvision
model is built with random weights and randomised batch-norm statistics, saved with `torch.save`
(the `.pth` path, read back with weights_only), loaded into the zoo spec, and both compute logits
for the same input, at an odd input size and at 224×224.

torchvision runs in a child process, as it would on the machine that wrote the file: in one process
with TensorFlow, torchvision's import of triton aborts on a clash of the two libraries' LLVM
options. Needs torch and torchvision (not an extra: the CPU wheels are large); skipped without
them. The real-weights fixtures in ../shared are checked by test_torchvision.py."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import numpy as np
import pytest

import zoo
from tests.weights.conftest import torch_logits

for _module in ("torch", "torchvision"):
    if importlib.util.find_spec(_module) is None:
        pytest.skip(f"{_module} is not installed (these tests compare against torchvision)", allow_module_level=True)

slow = pytest.mark.slow
TWINS = ["resnet18_tv", "vgg11_bn_tv", "resnext50_32x4d", "wide_resnet50_2",
         *(pytest.param(n, marks=slow) for n in ("resnet34_tv", "resnet50_tv", "resnet101_tv", "resnet152_tv",
                                                 "vgg11_tv", "vgg13_tv", "vgg16_tv", "vgg19_tv", "vgg13_bn_tv",
                                                 "vgg16_bn_tv", "vgg19_bn_tv", "resnext101_32x8d",
                                                 "wide_resnet101_2"))]
SIDES = (71, 224)  # 71: odd, so every stride-2 layer rounds; VGG's adaptive pool then upsamples 2×2 to 7×7

# The child: torchvision's model with batch-norm statistics far from 0 and 1 (a misplaced mean or
# variance shows), its state dict saved with torch.save, and its logits for each input.
REFERENCE = """
import sys, numpy as np, torch, torchvision.models as models
name, classes, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
torch.manual_seed(0)
net = getattr(models, name)(num_classes=classes).eval()
with torch.no_grad():
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.weight.uniform_(0.5, 1.5); m.bias.normal_(0, 0.1)
            m.running_mean.normal_(0, 0.1); m.running_var.uniform_(0.5, 1.5)
torch.save(net.state_dict(), out + ".pth")
rng, arrays = np.random.default_rng(1), {}
for side in map(int, sys.argv[4:]):
    x = rng.standard_normal((2, 3, side, side)).astype(np.float32)
    with torch.no_grad():
        arrays[f"x{side}"], arrays[f"y{side}"] = x, net(torch.from_numpy(x)).numpy()
np.savez(out + ".npz", **arrays)
"""


def _reference(name: str, classes: int, where, sides=SIDES):
    """torchvision's `.pth` file and its logits for each side, written by a child process."""
    out = str(where / name)
    child = subprocess.run([sys.executable, "-c", REFERENCE, name.removesuffix("_tv"), str(classes), out,
                            *map(str, sides)], capture_output=True, text=True)
    assert child.returncode == 0, child.stderr
    return where / f"{name}.pth", np.load(out + ".npz")


@pytest.mark.parametrize("name", TWINS)
def test_zoo_spec_computes_what_torchvision_computes(name, tmp_path):
    path, reference = _reference(name, 10, tmp_path)
    for side in SIDES:
        model = zoo.build(name, (side, side, 3), 10, weights=path)
        got, want = torch_logits(model, reference[f"x{side}"].transpose(0, 2, 3, 1)), reference[f"y{side}"]
        assert np.abs(got - want).max() <= 1e-4 * np.abs(want).max(), (name, side)


def test_a_resnext_state_dict_is_refused_by_a_plain_resnet_with_the_key_and_shapes(tmp_path):
    path, _ = _reference("resnext50_32x4d", 10, tmp_path, sides=())
    with pytest.raises(zoo.WeightsError, match=r"conv2_block1_1_conv: the file's layer1\.0\.conv1\.weight "
                                               r"has shape \(128, 64, 1, 1\)"):
        zoo.build("resnet50_tv", (64, 64, 3), 10, weights=path)
