"""Weight files as lazy tensors: shapes are known before any data is read, so a file that does
not fit the model is refused without allocating its arrays.

Three layouts, told apart by the file's own structure, never by a pickle:
- ``keras``: Keras 3 ``.weights.h5`` (also inside a ``.keras`` archive): ``layers/<class>[_n]/vars/<i>``;
  Keras itself matches these by the order of the layers of each class.
- ``keras_legacy``: the HDF5 layout of keras.applications' ImageNet files (attribute ``layer_names``,
  each layer's ``weight_names``); matched by layer name.
- ``torch``: a PyTorch state dict (``.safetensors``, or ``.pth``/``.pt`` read with ``weights_only``).
"""

from __future__ import annotations

import contextlib
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from zoo.errors import WeightsError
from zoo.safefile import check_regular, open_regular

# The largest weights file zoo reads: VGG-19 in float32 is 575 MB; ten times that is no model here.
MAX_BYTES = 8 * 2**30


@dataclass(frozen=True)
class Tensor:
    key: str                          # where it sits in the file, as the file names it
    shape: tuple[int, ...]
    read: Callable[[], np.ndarray]


@dataclass
class Source:
    path: str
    layout: str                       # keras | keras_legacy | torch
    groups: dict[str, list[Tensor]]   # keras layouts: layer key → its variables, in order
    tensors: dict[str, Tensor]        # torch: state-dict key → tensor


TORCH_SUFFIXES = (".safetensors", ".pth", ".pt", ".bin")
SUFFIXES = (".weights.h5", ".keras", ".h5", ".hdf5", *TORCH_SUFFIXES)


def check_path(path) -> Path:
    """A readable regular file with a weights suffix, or one error line: checked before a long build."""
    name = str(path)
    path = check_regular(path, WeightsError)
    if not path.name.endswith(SUFFIXES):
        raise WeightsError("unknown weights format: expected .weights.h5, .keras, .h5 (keras.applications), "
                           ".safetensors or .pth/.pt (PyTorch)", file=name)
    if path.stat().st_size > MAX_BYTES:
        raise WeightsError(f"is over {MAX_BYTES:,} bytes, the most zoo reads as weights", file=name)
    return path


@contextlib.contextmanager
def open_source(path) -> Iterator[Source]:
    name = str(path)
    path = check_path(path)
    suffix = ".weights.h5" if path.name.endswith(".weights.h5") else path.suffix
    if suffix == ".safetensors":
        yield _safetensors(path, name)
    elif suffix in (".pth", ".pt", ".bin"):
        yield _torch_pickle(path, name)
    elif suffix == ".keras":
        with _keras_archive(path, name) as inner, _hdf5(inner, name) as source:
            yield source
    elif suffix in (".h5", ".hdf5", ".weights.h5"):
        with _hdf5(path, name) as source:
            yield source


def _safetensors(path: Path, name: str) -> Source:
    try:
        from safetensors import safe_open
    except ImportError:
        raise WeightsError("reading .safetensors needs the safetensors package: pip install 'zoo[weights]'",
                           file=name) from None
    try:
        handle = safe_open(str(path), framework="numpy")
        keys = list(handle.keys())
    except Exception as e:  # the library's own header checks: bad length, bad JSON, offsets past the end
        raise WeightsError(f"not a valid safetensors file ({_first_line(e)})", file=name) from None
    tensors = {}
    for key in keys:
        shape = tuple(int(v) for v in handle.get_slice(key).get_shape())
        tensors[key] = Tensor(key, shape, _reader(handle, key, name))
    return Source(name, "torch", {}, tensors)


def _reader(handle, key: str, name: str) -> Callable[[], np.ndarray]:
    def read() -> np.ndarray:
        try:
            return np.asarray(handle.get_tensor(key))
        except Exception as e:
            raise WeightsError(f"{key}: cannot read ({_first_line(e)})", file=name) from None
    return read


def _torch_pickle(path: Path, name: str) -> Source:
    try:
        import torch
    except ImportError:
        raise WeightsError("reading a PyTorch pickle (.pth/.pt) needs torch, which is not installed; "
                           "install it, or convert the file to .safetensors and pass that", file=name) from None
    try:  # weights_only: tensors and plain containers only, never arbitrary objects from the file
        data = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as e:
        raise WeightsError(f"not a PyTorch state dict that loads with weights_only=True ({_first_line(e)})",
                           file=name) from None
    for wrapper in ("state_dict", "model"):  # training checkpoints keep the weights one level down
        if isinstance(data, dict) and isinstance(data.get(wrapper), dict):
            data = data[wrapper]
    if not isinstance(data, dict):
        raise WeightsError(f"holds a {type(data).__name__}, not a state dict", file=name)
    tensors = {}
    for key, value in data.items():
        if not hasattr(value, "shape"):
            continue
        key = key.removeprefix("module.")  # saved from DataParallel / DistributedDataParallel
        tensors[key] = Tensor(key, tuple(value.shape), lambda v=value: v.detach().float().numpy()
                              if v.is_floating_point() else v.numpy())
    return Source(name, "torch", {}, tensors)


@contextlib.contextmanager
def _keras_archive(path: Path, name: str) -> Iterator[str]:
    """The archive's ``model.weights.h5``, copied out with a byte cap (a zip bomb stops at the cap)."""
    try:
        with open_regular(path, WeightsError, name) as raw, zipfile.ZipFile(raw) as archive:
            try:
                member = archive.open("model.weights.h5")
            except KeyError:
                raise WeightsError("a .keras archive without model.weights.h5", file=name) from None
            with member, tempfile.NamedTemporaryFile(suffix=".weights.h5") as tmp:
                copied = 0
                while chunk := member.read(1 << 20):
                    copied += len(chunk)
                    if copied > MAX_BYTES:
                        raise WeightsError(f"model.weights.h5 unpacks to over {MAX_BYTES:,} bytes", file=name)
                    tmp.write(chunk)
                tmp.flush()
                yield tmp.name
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as e:
        raise WeightsError(f"not a valid .keras archive ({_first_line(e)})", file=name) from None


@contextlib.contextmanager
def _hdf5(path, name: str) -> Iterator[Source]:
    import h5py

    try:
        handle = h5py.File(path, "r")
    except OSError as e:
        raise WeightsError(f"not a valid HDF5 file ({_first_line(e)})", file=name) from None
    with handle:
        root = handle["model_weights"] if "model_weights" in handle else handle  # a legacy whole-model .h5
        if "layer_names" in root.attrs or "layer_names0" in root.attrs:
            yield Source(name, "keras_legacy", _legacy_groups(root, name), {})
        elif "layers" in handle:
            yield Source(name, "keras", _keras_groups(handle["layers"], name), {})
        else:
            raise WeightsError("an HDF5 file in neither Keras layout (no `layers` group, no `layer_names`)",
                               file=name)


def _keras_groups(layers, name: str, prefix: str = "") -> dict[str, list[Tensor]]:
    """``layer key → variables``; a nested model (a run's model wraps the zoo network) adds
    ``<its key>/<layer key>`` entries, so the network inside can be matched on its own."""
    import h5py

    groups: dict[str, list[Tensor]] = {}
    for key, group in layers.items():
        if not isinstance(group, h5py.Group):
            continue
        if "vars" in group and len(group["vars"]):
            variables = group["vars"]
            order = sorted(variables.keys(), key=lambda k: int(k) if k.isdigit() else 1 << 30)
            groups[prefix + key] = [_dataset(variables[i], f"layers/{prefix}{key}/vars/{i}", name) for i in order]
        if "layers" in group:
            groups.update(_keras_groups(group["layers"], name, f"{prefix}{key}/"))
    return groups


def _legacy_groups(root, name: str) -> dict[str, list[Tensor]]:
    groups = {}
    for layer in _names(root.attrs, "layer_names"):
        group = root.get(layer)
        names = _names(group.attrs, "weight_names") if group is not None else []
        if names:
            groups[layer] = [_dataset(group[w], f"{layer}/{w}", name) for w in names]
    return groups


def _names(attrs, name: str) -> list[str]:
    """A list attribute; HDF5 caps an attribute at 64 KB, so Keras splits long ones into name0, name1, …"""
    if name in attrs:
        values = list(attrs[name])
    else:
        values, i = [], 0
        while f"{name}{i}" in attrs:
            values += list(attrs[f"{name}{i}"])
            i += 1
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def _dataset(dataset, key: str, name: str) -> Tensor:
    def read() -> np.ndarray:
        try:
            return np.asarray(dataset[()])
        except (OSError, TypeError, ValueError) as e:
            raise WeightsError(f"{key}: cannot read ({_first_line(e)})", file=name) from None
    return Tensor(key, tuple(int(v) for v in dataset.shape), read)


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else type(error).__name__


__all__ = ["MAX_BYTES", "Source", "Tensor", "open_source"]
