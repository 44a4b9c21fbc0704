"""Read files the user names without trusting them: regular files only, with a byte cap.

A device (`/dev/zero`), a FIFO or a socket reports size 0 and never ends, so the cap is
enforced while reading, not from `st_size`; the file is checked on the open descriptor
(`fstat`), so a path swapped between the check and the read cannot slip through.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import IO

from zoo.errors import ZooError

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def kind_of(mode: int) -> str:
    """What a non-regular file is, in words."""
    for test, words in _KINDS:
        if test(mode):
            return words
    return "not a regular file"


def open_regular(path: str | os.PathLike, error: type[ZooError] = ZooError, file: str | None = None) -> IO[bytes]:
    """Open ``path`` for binary reading; anything but a regular file is ``error`` (one line).

    ``O_NONBLOCK`` keeps the open itself from waiting on a FIFO that has no writer.
    """
    name = file or str(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise error("no such file", file=name) from None
    except IsADirectoryError:
        raise error("is a folder, not a file", file=name) from None
    except PermissionError:
        raise error("cannot read: permission denied", file=name) from None
    except OSError as e:
        raise error(f"cannot read: {e.strerror or e}", file=name) from None
    except ValueError:  # a NUL byte in the name
        raise error("cannot read: not a valid file name", file=name) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise error(f"is {kind_of(mode)}, not a regular file", file=name)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_capped(path: str | os.PathLike, cap: int, error: type[ZooError] = ZooError, file: str | None = None,
                what: str = "file") -> bytes:
    """The whole of a regular file, refusing it once more than ``cap`` bytes have been read."""
    name = file or str(path)
    with open_regular(path, error, name) as handle:
        try:
            data = handle.read(cap + 1)
        except OSError as e:
            raise error(f"cannot read: {e.strerror or e}", file=name) from None
    if len(data) > cap:
        raise error(f"{what} is over {cap:,} bytes, the most zoo reads", file=name)
    return data


def check_regular(path: str | os.PathLike, error: type[ZooError] = ZooError, file: str | None = None) -> Path:
    """``path`` if it is a regular file (symlinks followed); else ``error``. For readers that open it later."""
    name = file or str(path)
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise error("no such file", file=name) from None
    except OSError as e:
        raise error(f"cannot read: {e.strerror or e}", file=name) from None
    except ValueError:
        raise error("cannot read: not a valid file name", file=name) from None
    if not stat.S_ISREG(mode):
        raise error(f"is {kind_of(mode)}, not a regular file", file=name)
    return path
