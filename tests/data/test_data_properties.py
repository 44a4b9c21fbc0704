"""Property tests: random and damaged bytes in every format end as a Dataset or one DataError line, never a
traceback of another type; labels of any integer dtype and value are either in range or named with their index.
"""

from __future__ import annotations

import gzip
import io
import re
import tarfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from zoo.data import DataError, Dataset, load_dataset

from .conftest import Synth, idx_bytes

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
FILES = ("x.npz", "x.tar.gz", "x.tar")


def outcome(*args, **kwargs):
    """A Dataset, or the DataError's one line; any other exception fails the test with its traceback."""
    try:
        return load_dataset(*args, max_memory="64M", **kwargs)
    except DataError as error:
        assert "\n" not in str(error)
        return str(error)


def valid_files(tmp_path) -> dict[str, bytes]:
    """One small valid file per format, as bytes, to damage."""
    synth = Synth(tmp_path)
    synth.npz(tmp_path / "v", name="x.npz")
    synth.image_tar(tmp_path / "v" / "x.tar.gz", per_class=(1, 1), size=(3, 2))
    plain = io.BytesIO()
    with tarfile.open(tmp_path / "v" / "x.tar.gz") as tar, tarfile.open(fileobj=plain, mode="w:") as out:
        for member in tar:
            out.addfile(member, tar.extractfile(member))
    files = {name: (tmp_path / "v" / name).read_bytes() for name in ("x.npz", "x.tar.gz")}
    return {**files, "x.tar": plain.getvalue()}


@SETTINGS
@given(name=st.sampled_from(FILES), data=st.binary(max_size=2048))
def test_random_bytes_in_any_format(name, data):
    with open(name, "wb") as handle:
        handle.write(data)
    assert isinstance(outcome(name), (Dataset, str))


_VALID: dict[str, bytes] = {}


def _valid(tmp_path) -> dict[str, bytes]:
    """Built once per session: hypothesis calls the test many times with the same tmp_path."""
    if not _VALID:
        _VALID.update(valid_files(tmp_path))
    return _VALID


@SETTINGS
@given(name=st.sampled_from(FILES), cut=st.integers(0, 1 << 16),
       flips=st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(1, 255)), max_size=4))
def test_damaged_valid_files(tmp_path, name, cut, flips):
    data = bytearray(_valid(tmp_path)[name])
    for where, value in flips:
        data[where % len(data)] ^= value
    with open(name, "wb") as handle:
        handle.write(bytes(data[: len(data) - cut % len(data)] if cut % 3 == 0 else data))
    assert isinstance(outcome(name), (Dataset, str))


@SETTINGS
@given(dims=st.lists(st.integers(0, 0xFFFFFFFF), min_size=1, max_size=3), body=st.binary(max_size=256),
       magic=st.sampled_from([0x801, 0x803, 0x0D03, 0x803 | 1 << 24]))
def test_idx_headers_of_any_dimensions(dims, body, magic):
    synth = Synth(None)
    synth.idx("data")
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims)
    with open("data/train-images-idx3-ubyte.gz", "wb") as handle:
        handle.write(gzip.compress(header + body))
    result = outcome("mnist", "data", download=False)
    assert isinstance(result, str) and result.startswith("data/train-images-idx3-ubyte.gz: ")


LABEL_DTYPES = st.sampled_from([np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64])


@SETTINGS
@given(labels=LABEL_DTYPES.flatmap(lambda dtype: hnp.arrays(dtype, st.integers(2, 6))), known=st.booleans())
def test_labels_of_any_integer_dtype_and_value(labels, known):
    n = len(labels)
    arrays = {"x_train": np.zeros((n, 28, 28), np.uint8), "y_train": labels,
              "x_test": np.zeros((1, 28, 28), np.uint8), "y_test": np.ones(1, np.uint8)}
    np.savez("mnist.npz" if known else "x.npz", **arrays)
    classes = 10 if known else 100_000
    result = outcome("mnist" if known else "x.npz", ".", download=False)
    values = [int(v) for v in labels]
    bad = [i for i, v in enumerate(values) if not 0 <= v < classes]
    if bad:
        assert re.search(rf": y_train\[{bad[0]}\] is {values[bad[0]]}, expected a label from 0 to {classes - 1}",
                         result)
    elif len(set(values)) < 2:
        assert "a classifier needs" in result
    else:
        assert isinstance(result, Dataset) and result.y_train.tolist() == values


def test_idx_bytes_helper_is_the_real_format():
    # the helper the properties build on writes what the reader reads
    raw = idx_bytes(np.arange(6, dtype=np.uint8).reshape(2, 3))
    assert raw[:4] == b"\x00\x00\x08\x02" and raw[4:12] == b"\x00\x00\x00\x02\x00\x00\x00\x03"


pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # an unwritable cache only warns
