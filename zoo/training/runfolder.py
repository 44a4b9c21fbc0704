"""Which folder a run may write into, and one writer at a time.

zoo writes only into a folder that is new, empty, or marked as a zoo run by the marker file it
wrote when the run began: a folder holding the user's own ``config.json`` or ``model.keras`` is
refused, not overwritten. A lock file held with ``flock`` for the run's duration refuses a second
``zoo train`` into the same folder (the kernel drops the lock when the holder exits, even on
SIGKILL). A run that stops before its first checkpoint takes back what it wrote.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from datetime import datetime
from pathlib import Path
from typing import Iterator

from zoo.errors import ZooError
from zoo.outpath import check_output_path

MARKER = ".zoo-run"
LOCK = ".zoo-lock"
# Everything a run writes: what is taken back when it stops before its first checkpoint.
WRITTEN = (MARKER, LOCK, "config.json", "history.csv", "metrics.json", "curves.png", "model.keras",
           "checkpoints", "tensorboard")


class RunFolderError(ZooError):
    """The run folder cannot be used: not zoo's, in use, or already holding a run."""


def is_run(folder: Path) -> bool:
    return (folder / MARKER).is_file()


def started(folder: Path) -> bool:
    """A checkpoint or the final metrics exist: starting again would replace a run."""
    return (folder / "checkpoints" / "state.json").exists() or (folder / "metrics.json").exists()


def check(folder: Path, resume: bool) -> None:
    """Refuse, before any work, a folder this run may not write into."""
    check_output_path(folder, "--out", allow_dir=True)
    if not folder.exists():
        if resume:
            raise RunFolderError("nothing to resume: no such folder", file=str(folder))
        return
    entries = sorted(p.name for p in folder.iterdir() if p.name != LOCK)  # the lock alone: taken by claim
    if entries and not is_run(folder):
        shown = ", ".join(entries[:4]) + (", …" if len(entries) > 4 else "")
        raise RunFolderError(f"not a zoo run folder and not empty (holds {shown}); zoo writes only into a new, "
                             f"empty or zoo run folder: choose another --out", file=str(folder))
    if resume and not started(folder):
        raise RunFolderError("nothing to resume: no checkpoints/state.json", file=str(folder))
    if not resume and started(folder):
        raise RunFolderError("run folder already holds a run; use --resume to continue it or another --out",
                             file=str(folder))


@contextlib.contextmanager
def claim(folder: Path, resume: bool) -> Iterator[Path]:
    """Hold ``folder`` for one run: checked, locked, marked; taken back if no checkpoint was written."""
    check(folder, resume)
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    handle = _lock(folder)
    try:
        check(folder, resume)  # again, now that no other zoo can change it
        _mark(folder)
        yield folder
    except BaseException:
        if not resume and not started(folder):
            discard(folder, created)
        raise
    finally:
        handle.close()  # releases the lock; the file stays (removing it would race a waiting opener)


def _lock(folder: Path):
    path = folder / LOCK
    try:
        handle = open(path, "a+", encoding="utf-8")
    except OSError as e:
        raise RunFolderError(f"cannot open the lock file: {e.strerror or e}", file=str(path)) from None
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read(32).strip() or "unknown"
        handle.close()
        raise RunFolderError(f"run folder is in use by another zoo process (PID {holder}); wait for it to "
                             f"finish or choose another --out", file=str(folder)) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def _mark(folder: Path) -> None:
    if is_run(folder):
        return
    from zoo import __version__
    from zoo.training.rundir import write_atomic

    write_atomic(folder / MARKER, json.dumps({"zoo": __version__, "pid": os.getpid(),
                                              "created": datetime.now().isoformat(timespec="seconds")}) + "\n")


def discard(folder: Path, created: bool) -> None:
    """Remove what a run wrote before its first checkpoint; the folder too if this run created it."""
    for name in WRITTEN:
        path = folder / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    if created:
        with contextlib.suppress(OSError):
            folder.rmdir()  # only when empty: never anything zoo did not write
