"""How much a dataset load may allocate, and how many pixels one image may have.

Every reader checks the sizes a file *declares* (an ``.npz`` array header, IDX dimensions, a
tar member's size, an image's width and height) against these limits before it allocates, so
a few megabytes of deflated zeros cannot ask for gigabytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from zoo.data.base import DataError

# 64 megapixels: a 9000x7000 photo passes; CIFAR (32x32) and ImageNet-sized (~0.2 MP) images
# are far below. Pillow's own warning starts at ~89 MP and its error at ~179 MP.
DEFAULT_MAX_PIXELS = 64 * 1000 * 1000
MEMORY_SHARE = 0.5  # the default budget: half of the memory available when the load starts
_FALLBACK_AVAILABLE = 4 << 30  # when the system does not say (no /proc): assume 4 GiB
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?)\s*([KMGT]?)(?:I?B)?\s*$", re.IGNORECASE)

Progress = Callable[[str], None]


class OverBudget(DataError):
    """A file declares more than the memory budget allows."""


def size_text(nbytes: int) -> str:
    """Bytes for people: ``3.0 GiB``, ``184 MiB``, ``512 bytes``."""
    for unit, scale in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if nbytes >= scale:
            value = nbytes / scale
            return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"
    return f"{nbytes} bytes"


def parse_size(text: str | int) -> int:
    """``4G``, ``512M``, ``1.5GiB``, ``1073741824`` -> bytes (units are powers of 1024)."""
    if isinstance(text, int) and not isinstance(text, bool):
        value = text
    else:
        match = _SIZE.match(str(text))
        if not match:
            raise DataError(f"expected a size such as 4G, 512M or a number of bytes (got {text!r})",
                            path="max_memory")
        value = int(float(match.group(1)) * _UNITS[match.group(2).upper()])
    if value < 1:
        raise DataError(f"must be at least 1 byte (got {text!r})", path="max_memory")
    return value


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024  # reported in kB
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_room() -> int | None:
    """What a container's memory limit still allows (cgroup v2, then v1); None when unlimited."""
    for limit_file, usage_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                    "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            with open(limit_file, encoding="ascii") as handle:
                limit = handle.read().strip()
            with open(usage_file, encoding="ascii") as handle:
                usage = int(handle.read().strip())
        except (OSError, ValueError):
            continue
        if limit.isdigit() and int(limit) < 1 << 60:  # v1 says "unlimited" with a huge number
            return max(int(limit) - usage, 0)
    return None


def _address_space_room() -> int | None:
    """What ``ulimit -v`` (RLIMIT_AS) still allows this process; None when unlimited."""
    try:
        import resource

        limit = resource.getrlimit(resource.RLIMIT_AS)[0]
        if limit == resource.RLIM_INFINITY:
            return None
        with open("/proc/self/status", encoding="ascii") as handle:
            size = next(int(line.split()[1]) * 1024 for line in handle if line.startswith("VmSize:"))
        return max(limit - size, 0)
    except (ImportError, OSError, ValueError, StopIteration):
        return None


def available_memory() -> int:
    """Bytes this process could still allocate: MemAvailable, lowered by a cgroup limit or ``ulimit -v``."""
    found = [v for v in (_meminfo_available(), _cgroup_room(), _address_space_room()) if v is not None]
    return min(found) if found else _FALLBACK_AVAILABLE


@dataclass
class Budget:
    """Bytes one dataset load may still allocate; readers ``take`` what a file declares before allocating."""

    limit: int
    how: str  # how the limit was set, for the error message
    used: int = field(default=0)

    @classmethod
    def create(cls, max_memory: str | int | None = None) -> Budget:
        if max_memory is not None:
            return cls(parse_size(max_memory), f"max_memory {max_memory}")
        return cls(int(available_memory() * MEMORY_SHARE), "half the available memory; --max-memory changes it")

    def take(self, nbytes: int, what: str, file: str | None = None, path: str | None = None) -> None:
        """Count ``nbytes`` against the budget, or refuse ``what`` (one DataError line) if it would not fit."""
        if self.used + nbytes > self.limit:
            before = f" on top of {size_text(self.used)} already read" if self.used else ""
            raise OverBudget(f"{what} needs {size_text(nbytes)} in memory{before}, over the memory budget of "
                            f"{size_text(self.limit)} ({self.how})", file=file, path=path)
        self.used += nbytes

    def give_back(self, nbytes: int) -> None:
        """A transient buffer was freed."""
        self.used = max(self.used - nbytes, 0)


@dataclass
class Limits:
    """What one ``load_dataset`` call may spend, and where it says what it is doing."""

    budget: Budget
    max_pixels: int = DEFAULT_MAX_PIXELS
    progress: Progress | None = None

    def say(self, text: str) -> None:
        if self.progress is not None:
            self.progress(text)
