"""``.npz`` archives read without trust: each array's header is read first and its declared size
checked against the memory budget before a byte of data is inflated; nothing is unpickled.
"""

from __future__ import annotations

import os
import zipfile
from math import prod

import numpy as np

from zoo.data.base import DataError, reason
from zoo.data.budget import Budget
from zoo.safefile import open_regular

NPY_MAGIC = b"\x93NUMPY"
_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def _declared(zf: zipfile.ZipFile, member: str) -> tuple[tuple[int, ...], np.dtype]:
    """The shape and dtype an ``.npy`` member's header declares (its data is not read)."""
    with zf.open(member) as stream:
        version = np.lib.format.read_magic(stream)
        read_header = _HEADER_READERS.get(version)
        if read_header is None:
            raise ValueError(f"unsupported .npy format version {version[0]}.{version[1]}")
        shape, _, dtype = read_header(stream)
    return tuple(int(d) for d in shape), dtype


def read_npz(path: str | os.PathLike, keys: tuple[str, ...], budget: Budget, file: str | None = None
             ) -> dict[str, np.ndarray]:
    """The arrays ``keys`` of an ``.npz``, each checked against ``budget`` from its header first."""
    name = file or str(path)
    with open_regular(path, DataError, name) as handle:
        try:
            if handle.read(len(NPY_MAGIC)) == NPY_MAGIC:
                raise DataError("is a single .npy array, expected an .npz archive with " + ", ".join(keys), file=name)
            handle.seek(0)
            with zipfile.ZipFile(handle) as zf:
                members = {n[:-4] if n.endswith(".npy") else n: n for n in zf.namelist()}
                missing = [key for key in keys if key not in members]
                if missing:
                    raise DataError(f"has no {', '.join(missing)} (found: {', '.join(members) or 'nothing'})",
                                    file=name)
                for key in keys:  # every size first: refuse before inflating any of them
                    shape, dtype = _declared(zf, members[key])
                    dims = "x".join(map(str, shape)) or "scalar"
                    budget.take(prod(shape) * dtype.itemsize, f"{key} ({dims} {dtype})", file=name)
                arrays = {}
                for key in keys:
                    with zf.open(members[key]) as stream:
                        arrays[key] = np.lib.format.read_array(stream, allow_pickle=False)
                return arrays
        except DataError:
            raise
        except Exception as error:  # BadZipFile, zlib.error, ValueError (pickled data, bad header), OSError, EOFError
            raise DataError(f"not a readable .npz file ({reason(error)})", file=name) from error
