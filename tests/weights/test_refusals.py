"""Every way a weights file can fail to fit: one line naming the file, the zoo layer, the file's key
and both shapes; exit 2; and the model is left exactly as it was (nothing half-loaded)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from typer.testing import CliRunner

import zoo
from tests.weights.conftest import torchvision_resnet_state, write_safetensors
from zoo.cli.main import app

keras = pytest.importorskip("keras")


def _fails(args: list[str]) -> str:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def _file(tmp_path, change) -> str:
    state = torchvision_resnet_state()
    change(state)
    return str(write_safetensors(state, tmp_path / "w.safetensors"))


def test_other_shape_mismatch_names_layer_key_and_both_shapes(safetensors_lib, tmp_path):
    def wider(state):
        state["layer3.1.conv2.weight"] = np.zeros((256, 256, 5, 5), np.float32)
    path = _file(tmp_path, wider)
    assert _fails(["build", "resnet18_tv", "-w", path, "-i", "64,64,3", "--json"]) == (
        f"error: {path}: conv4_block2_2_conv: the file's layer3.1.conv2.weight has shape (256, 256, 5, 5) "
        "(as HWIO: (5, 5, 256, 256)), the model's conv4_block2_2_conv/kernel needs (3, 3, 256, 256)")


def test_a_key_the_model_has_no_place_for(safetensors_lib, tmp_path):
    path = _file(tmp_path, lambda s: s.update({"layer5.0.conv1.weight": np.zeros((1, 1, 1, 1), np.float32)}))
    assert _fails(["build", "resnet18_tv", "-w", path, "-i", "64,64,3"]) == (
        f"error: {path}: the file's layer5.0.conv1.weight has no place in resnet18_tv: is this a file of "
        "another architecture?")


def test_a_key_the_model_needs_is_missing(safetensors_lib, tmp_path):
    path = _file(tmp_path, lambda s: s.pop("layer2.0.bn1.running_var"))
    assert _fails(["build", "resnet18_tv", "-w", path, "-i", "64,64,3"]) == (
        f"error: {path}: conv3_block1_1_bn: the file has no layer2.0.bn1.running_var for its "
        "conv3_block1_1_bn/moving_variance")


@pytest.mark.parametrize("name, why", [
    ("resnet18", "conv3_block1_1_conv pads a stride-2 3×3 convolution as TensorFlow's `same` does, "
                 "PyTorch pads symmetrically"),
    ("resnet50", "conv3_block1_1_conv strides its 1×1 convolution (ResNet v1); torchvision's bottlenecks "
                 "stride the 3×3 (v1.5)"),
    ("vgg16", "no adaptive 7×7 pool before the classifier, as torchvision's VGG has, so it only matches at one "
              "input size"),
])
def test_a_spec_that_is_not_a_torchvision_twin_is_refused(resnet18_file, name, why):
    path, _ = resnet18_file
    line = _fails(["build", name, "-w", str(path), "-i", "64,64,3"])
    assert line == (f"error: {path}: {name} is not a torchvision-layout network ({why}); its outputs would "
                    f"differ from PyTorch's with every shape equal: use a `_tv` spec such as {name}_tv")


def test_resnet_v1_stride_on_the_1x1_is_refused(resnet18_file, tmp_path):
    spec = tmp_path / "v1.yaml"
    spec.write_text("v1_tv_padding:\n  extends: resnet50_tv\n  block: {stride_on: 1x1}\n")
    line = _fails(["build", f"{spec}:v1_tv_padding", "-w", str(resnet18_file[0]), "-i", "64,64,3"])
    assert "conv3_block1_1_conv strides its 1×1 convolution (ResNet v1); torchvision's bottlenecks stride " \
           "the 3×3 (v1.5)" in line


def test_keras_batch_norm_epsilon_is_refused(resnet18_file, tmp_path):
    spec = tmp_path / "eps.yaml"
    spec.write_text("eps_tv:\n  extends: resnet18_tv\n  conv: {bn_epsilon: 1.001e-5}\n")
    line = _fails(["build", f"{spec}:eps_tv", "-w", str(resnet18_file[0]), "-i", "64,64,3"])
    assert "(conv1_bn has batch-norm epsilon 1.001e-05, PyTorch's is 1e-5)" in line


def test_other_families_are_refused(resnet18_file):
    path = resnet18_file[0]
    assert _fails(["build", "resnet20", "-w", str(path)]) == (
        f"error: {path}: resnet20: a PyTorch state dict maps onto torchvision-layout ResNets, ResNeXts, Wide "
        "ResNets and VGGs (the `_tv` specs, resnext*, wide_resnet*), not onto the resnet_cifar family")


def test_a_wide_resnet_not_in_torchvisions_layout_is_refused_for_its_padding(resnet18_file):
    path = resnet18_file[0]
    assert _fails(["build", "wrn28_10", "-w", str(path)]) == (
        f"error: {path}: wrn28_10 is not a torchvision-layout network (conv3_block1_1_conv pads a stride-2 3×3 "
        "convolution as TensorFlow's `same` does, PyTorch pads symmetrically); its outputs would differ from "
        "PyTorch's with every shape equal: use a `_tv` spec such as resnet50_tv")


def test_a_refused_file_leaves_the_model_untouched(safetensors_lib, tmp_path):
    from zoo.weights import load_weights

    state = torchvision_resnet_state()
    state["fc.weight"] = np.zeros((1000, 7), np.float32)  # found last: every other layer was already read
    path = write_safetensors(state, tmp_path / "w.safetensors")
    plan = zoo.plan("resnet18_tv", (64, 64, 3), 1000)
    model = zoo.build("resnet18_tv", (64, 64, 3), 1000)
    before = [np.asarray(w).copy() for w in model.weights]
    with pytest.raises(zoo.WeightsError, match=r"fc: the file's fc.weight has shape \(1000, 7\)"):
        load_weights(model, plan, path)
    assert all(np.array_equal(a, np.asarray(b)) for a, b in zip(before, model.weights))


@pytest.mark.parametrize("name, content, message", [
    ("w.npy", b"\x93NUMPY", "unknown weights format: expected .weights.h5, .keras, .h5 (keras.applications), "
                            ".safetensors or .pth/.pt (PyTorch)"),
    ("w.safetensors", b"\xff" * 64, "not a valid safetensors file"),
    ("w.weights.h5", b"not hdf5 at all", "not a valid HDF5 file"),
    ("w.keras", b"PK\x05\x06" + b"\0" * 18, "a .keras archive without model.weights.h5"),
    ("w.keras", b"not a zip", "not a valid .keras archive"),
])
def test_damaged_files_are_one_line(safetensors_lib, tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    line = _fails(["build", "resnet18_tv", "-i", "32,32,3", "-w", str(path)])
    assert line.startswith(f"error: {path}: {message}")


def test_missing_file_and_folder(tmp_path):
    assert _fails(["build", "vgg_mini", "-w", str(tmp_path / "none.safetensors")]) == \
        f"error: {tmp_path / 'none.safetensors'}: no such file"
    folder = tmp_path / "d.safetensors"
    folder.mkdir()
    assert _fails(["build", "vgg_mini", "-w", str(folder)]) == f"error: {folder}: is a folder, not a regular file"


def test_pth_without_torch_says_to_convert(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # as on a machine without PyTorch
    path = tmp_path / "w.pth"
    path.write_bytes(b"PK")
    assert _fails(["build", "resnet18_tv", "-w", str(path), "-i", "64,64,3"]) == (
        f"error: {path}: reading a PyTorch pickle (.pth/.pt) needs torch, which is not installed; install it, "
        "or convert the file to .safetensors and pass that")


def test_pth_is_read_with_weights_only(tmp_path):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    state = {k: torch.from_numpy(v) for k, v in torchvision_resnet_state().items()}
    path = tmp_path / "w.pth"
    torch.save({"state_dict": state}, path)
    model = zoo.build("resnet18_tv", (64, 64, 3), 1000, weights=path)
    np.testing.assert_array_equal(np.asarray(model.get_layer("fc").bias), state["fc.bias"].numpy())

    class Payload:  # a pickle that would run code when unpickled without weights_only
        def __reduce__(self):
            return (print, ("ran",))
    torch.save({"x": Payload()}, tmp_path / "evil.pth")
    with pytest.raises(zoo.WeightsError, match="not a PyTorch state dict that loads with weights_only=True"):
        zoo.build("resnet18_tv", (64, 64, 3), 1000, weights=tmp_path / "evil.pth")
