"""Output paths the user names: checked before any work starts, written whole or not at all.

``check_output_path(path, what)`` refuses, as one `ZooError` line, a target that cannot be
written: a folder where a file is wanted (or the reverse), a device or FIFO, a path under an
existing file, a folder that is read-only or not ours to write. It probes by creating a
throw-away file, so the answer is the file system's own, not a guess from permission bits
(root passes every permission bit check but not a read-only mount).

``atomic_output(path, what)`` yields a temporary path in the target's folder; on success it
is renamed over the target (``os.replace``: readers see the old file or the new one, never a
half-written one), on any failure it is removed and an ``OSError`` (ENOSPC, EROFS, EACCES...)
becomes one `ZooError` line. Missing parent folders are created, as ``mkdir -p`` would.

    target = check_output_path(output, "--output")   # before building anything
    ...
    with atomic_output(target, "--output") as tmp:
        model.save(tmp)                               # tmp keeps the suffix (.keras)
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import Iterator

from zoo.errors import ZooError
from zoo.safefile import kind_of


def check_output_path(path: str | os.PathLike, what: str = "output", allow_dir: bool = False) -> Path:
    """``path`` as a `Path` if zoo can write it; else one-line `ZooError` naming ``what`` (e.g. "--output").

    With ``allow_dir`` the target is a folder zoo writes into: it may exist as a folder or not exist.
    """
    target = Path(path)
    name = str(path)
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        mode = None
    except NotADirectoryError:
        mode = None  # an ancestor is a file: found and named below
    except ValueError:
        raise ZooError(f"cannot write {what}: not a valid file name", file=name) from None
    except OSError as e:
        raise ZooError(f"cannot write {what}: {e.strerror or e}", file=name) from None
    if mode is not None:
        if stat.S_ISDIR(mode) and not allow_dir:
            raise ZooError(f"{what} is a folder; give a file name", file=name)
        if not stat.S_ISDIR(mode) and allow_dir:
            raise ZooError(f"{what} is a file; give a folder", file=name)
        if not stat.S_ISDIR(mode) and not stat.S_ISREG(mode):
            raise ZooError(f"{what} is {kind_of(mode)}; give a regular file name", file=name)
    folder = target if (allow_dir and mode is not None) else _existing_ancestor(target, what, name)
    _probe(folder, what, name)
    return target


def _existing_ancestor(target: Path, what: str, name: str) -> Path:
    """The nearest existing ancestor of ``target``, which must be a folder."""
    parent = target.absolute().parent
    while True:
        try:
            mode = parent.stat().st_mode
        except (FileNotFoundError, NotADirectoryError):
            parent = parent.parent
            continue
        except OSError as e:
            raise ZooError(f"cannot write {what}: {e.strerror or e}", file=name) from None
        if not stat.S_ISDIR(mode):
            raise ZooError(f"cannot write {what}: {parent} is {_a_file(mode)}, not a folder", file=name)
        return parent


def _a_file(mode: int) -> str:
    return "a file" if stat.S_ISREG(mode) else kind_of(mode)


def _probe(folder: Path, what: str, name: str) -> None:
    """Create and remove a file in ``folder``: the file system says whether zoo may write there."""
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".zoo-probe-")
    except OSError as e:
        raise ZooError(f"cannot write {what}: {e.strerror or e} ({folder})", file=name) from None
    os.close(fd)
    os.unlink(tmp)


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, what: str = "output") -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it into place on success, remove it on failure."""
    target = Path(path)
    name = str(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # The temporary name keeps the target's suffix: some writers (Keras) insist on it.
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}")
        os.close(fd)
    except OSError as e:
        raise ZooError(f"cannot write {what}: {e.strerror or e}", file=name) from None
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
        os.replace(tmp, target)
    except OSError as e:
        _remove(tmp)
        raise ZooError(f"cannot write {what}: {e.strerror or e}", file=name) from None
    except BaseException:
        _remove(tmp)
        raise


def _remove(tmp: Path) -> None:
    with contextlib.suppress(OSError):
        if tmp.is_dir() and not tmp.is_symlink():
            import shutil

            shutil.rmtree(tmp)
        else:
            tmp.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
