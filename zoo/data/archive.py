"""Untrusted inputs: tar members read in memory (never extracted) and a pickle loader that runs no code."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import pickle
import tarfile
from collections.abc import Callable, Iterator

import numpy as np

from zoo.data.base import DataError, reason
from zoo.data.budget import Budget, size_text
from zoo.safefile import open_regular

TAR_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar")


def is_tar_name(path) -> bool:
    return str(path).lower().endswith(TAR_SUFFIXES)


def strip_tar_suffix(name: str) -> str:
    for suffix in TAR_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def member_parts(member: tarfile.TarInfo, archive: str) -> tuple[str, ...]:
    """The member's path as parts, or a DataError for anything filter="data" would refuse.

    Stricter than that filter: every link is refused, even one pointing inside the archive.
    """
    name = member.name.replace("\\", "/")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise DataError(f"refusing member {member.name!r}: absolute path", file=archive)
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if ".." in parts:
        raise DataError(f"refusing member {member.name!r}: '..' leaves the archive", file=archive)
    if member.issym() or member.islnk():
        raise DataError(f"refusing member {member.name!r}: links are not allowed", file=archive)
    if not (member.isfile() or member.isdir()):
        raise DataError(f"refusing member {member.name!r}: device, fifo or other special file", file=archive)
    return parts


HEADER_CAP = 1 << 20  # bytes: a GNU long name or a pax header is never near this; tarfile would read any size


class _LastBlock:
    """A read-only stream that remembers the last 512-byte block tarfile read: its header reads.

    Reads over ``cap`` are refused: tarfile reads a long-name or pax header whole, at whatever
    size its header declares, so outside a member's data the cap stays at HEADER_CAP.
    """

    def __init__(self, stream, archive: str):
        self.stream = stream
        self.archive = archive
        self.last = None
        self.cap = HEADER_CAP

    def read(self, size=-1):
        if size is None or size < 0 or size > self.cap:
            shown = "all" if size is None or size < 0 else size_text(size)
            raise DataError(f"a tar header asks to read {shown} of names or metadata at once "
                            f"(at most {size_text(self.cap)})", file=self.archive)
        data = self.stream.read(size)
        if size == tarfile.BLOCKSIZE:
            self.last = data
        return data

    def seek(self, *args):
        return self.stream.seek(*args)

    def tell(self):
        return self.stream.tell()


_COMPRESSED = ((b"\x1f\x8b", gzip.GzipFile), (b"BZh", bz2.BZ2File), (b"\xfd7zXZ\x00", lzma.LZMAFile))


def _open_stream(raw):
    head = raw.read(6)
    raw.seek(0)
    for magic, opener in _COMPRESSED:
        if head.startswith(magic):
            return opener(fileobj=raw) if opener is gzip.GzipFile else opener(raw)
    return raw


def iter_tar(archive: str, wanted: Callable[[tuple[str, ...]], bool],
             budget: Budget | None = None) -> Iterator[tuple[tuple[str, ...], bytes | None]]:
    """Every member once, in archive order: (parts, bytes) for wanted files, (parts, None) otherwise.

    One sequential pass, so a .tar.gz is decompressed once. Each wanted member's declared size is
    taken from ``budget`` before it is read. Any unsafe member, truncation or corruption raises a
    DataError naming the archive.
    """
    budget = budget or Budget.create()
    try:
        with open_regular(archive, DataError) as raw, _open_stream(raw) as stream:
            tap = _LastBlock(stream, archive)
            with tarfile.open(fileobj=tap, mode="r:") as tar:
                while (member := tar.next()) is not None:
                    tar.members.clear()  # tarfile keeps every header it read: millions of empty members add up
                    parts = member_parts(member, archive)
                    if member.isfile() and parts and wanted(parts):
                        budget.take(member.size, f"member {member.name!r}", file=archive)
                        tap.cap = max(member.size, HEADER_CAP)
                        data = tar.extractfile(member).read(member.size)
                        tap.cap = HEADER_CAP
                        if len(data) != member.size:
                            raise DataError(f"member {member.name!r} is truncated", file=archive)
                        yield parts, data
                    else:
                        yield parts, None
            # tarfile stops quietly at a missing or damaged header; a whole archive ends with a zero block
            if tap.last != bytes(tarfile.BLOCKSIZE):
                raise DataError("truncated or damaged tar archive: no end-of-archive marker after the last "
                                "member read", file=archive)
            while stream.read(1 << 20):  # to the end, so gzip/bz2/xz check their length and CRC
                pass
    except DataError:
        raise
    except Exception as error:  # tarfile, gzip, zlib, lzma and OS errors alike
        raise DataError(f"not a readable tar archive ({reason(error)})", file=archive) from error


def _plain_dtype(*args):
    dtype = np.dtype(*args)
    if dtype.hasobject:
        raise pickle.UnpicklingError("refusing an object array")
    return dtype


_EMPTY = np.empty(0, np.uint8)
# CIFAR batches are dicts of lists, bytes, ints and numpy arrays: those need only these globals
# (both numpy<2 and numpy>=2 module spellings; _frombuffer is how protocol 5 pickles arrays).
_ALLOWED_GLOBALS = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): _plain_dtype,
    ("numpy.core.multiarray", "_reconstruct"): _EMPTY.__reduce__()[0],
    ("numpy._core.multiarray", "_reconstruct"): _EMPTY.__reduce__()[0],
    ("numpy.core.numeric", "_frombuffer"): np.empty(1).__reduce_ex__(5)[0],
    ("numpy._core.numeric", "_frombuffer"): np.empty(1).__reduce_ex__(5)[0],
}


class _DataUnpickler(pickle.Unpickler):
    """Builds only plain containers and numeric numpy arrays; any other global is refused."""

    def find_class(self, module, name):
        found = _ALLOWED_GLOBALS.get((module, name))
        if found is None:
            raise pickle.UnpicklingError(f"refusing to load global {module}.{name}")
        return found

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("refusing a persistent id")


def safe_unpickle(data: bytes, file: str, member: str | None = None):
    """Unpickle Python 2 or 3 pickles of CIFAR batches; bytes keys stay bytes."""
    try:
        return _DataUnpickler(io.BytesIO(data), encoding="bytes").load()
    except Exception as error:  # UnpicklingError, EOFError, ValueError, ... from a bad or hostile file
        raise DataError(f"not a valid CIFAR pickle ({reason(error)})", file=file, path=member) from error
