"""Weight files written here, in the layouts the loaders read: no downloads, no torch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "torchvision"


def torchvision_resnet_state(blocks=(2, 2, 2, 2), classes=1000, channels=3, seed=0) -> dict[str, np.ndarray]:
    """A state dict with torchvision's key names and shapes for a basic-block ResNet (resnet18 for
    the defaults), written out from torchvision's module structure, not from zoo's mapping."""
    rng = np.random.default_rng(seed)
    state = {}

    def conv(key, out, inp, k):
        state[f"{key}.weight"] = rng.normal(0, (2 / (inp * k * k)) ** 0.5, (out, inp, k, k)).astype(np.float32)

    def bn(key, c):
        state[f"{key}.weight"] = rng.uniform(0.5, 1.5, c).astype(np.float32)
        state[f"{key}.bias"] = rng.normal(0, 0.1, c).astype(np.float32)
        state[f"{key}.running_mean"] = rng.normal(0, 0.1, c).astype(np.float32)
        state[f"{key}.running_var"] = rng.uniform(0.5, 1.5, c).astype(np.float32)
        state[f"{key}.num_batches_tracked"] = np.array(7, dtype=np.int64)

    conv("conv1", 64, channels, 7)
    bn("bn1", 64)
    inp = 64
    for stage, count in enumerate(blocks, start=1):
        width = 64 * 2 ** (stage - 1)
        for block in range(count):
            key = f"layer{stage}.{block}"
            conv(f"{key}.conv1", width, inp, 3)
            bn(f"{key}.bn1", width)
            conv(f"{key}.conv2", width, width, 3)
            bn(f"{key}.bn2", width)
            if block == 0 and inp != width:
                conv(f"{key}.downsample.0", width, inp, 1)
                bn(f"{key}.downsample.1", width)
            inp = width
    state["fc.weight"] = rng.normal(0, 0.05, (classes, inp)).astype(np.float32)
    state["fc.bias"] = rng.normal(0, 0.05, classes).astype(np.float32)
    return state


def write_safetensors(state: dict[str, np.ndarray], path: Path) -> Path:
    from safetensors.numpy import save_file

    save_file(state, str(path))
    return path


@pytest.fixture(scope="session")
def safetensors_lib():
    return pytest.importorskip("safetensors", reason="the `weights` extra (safetensors) is not installed")


@pytest.fixture
def resnet18_file(safetensors_lib, tmp_path) -> tuple[Path, dict[str, np.ndarray]]:
    state = torchvision_resnet_state()
    return write_safetensors(state, tmp_path / "resnet18.safetensors"), state


def torch_logits(model, x_nhwc) -> np.ndarray:
    """The classifier's input times its kernel, plus its bias: PyTorch's logits (zoo's head ends in softmax)."""
    import keras

    fc = model.layers[-1]
    features = keras.Model(model.inputs[0], fc.input)(x_nhwc, training=False)
    kernel, bias = (np.asarray(w) for w in fc.weights)
    return np.asarray(features) @ kernel + bias


def fixture_or_skip(name: str) -> tuple[Path, Path]:
    weights, check = FIXTURES / f"{name}.safetensors", FIXTURES / f"{name}-check.npz"
    if not (weights.is_file() and check.is_file()):
        pytest.skip(f"the torchvision fixtures are not here ({FIXTURES}); see that folder's README")
    return weights, check
