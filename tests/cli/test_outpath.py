"""zoo.outpath: output paths are checked before work, written whole or not at all."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from zoo.errors import ZooError
from zoo.outpath import atomic_output, check_output_path


def message(call) -> str:
    with pytest.raises(ZooError) as info:
        call()
    return info.value.line_text()


def test_a_new_file_in_a_folder_is_fine(tmp_path):
    assert check_output_path(tmp_path / "m.keras", "--output") == tmp_path / "m.keras"
    assert list(tmp_path.iterdir()) == []  # the probe leaves nothing behind


def test_missing_parents_are_allowed_and_created_on_write(tmp_path):
    target = check_output_path(tmp_path / "a" / "b" / "m.txt", "--output")
    assert not (tmp_path / "a").exists()  # the check creates nothing
    with atomic_output(target, "--output") as tmp:
        tmp.write_text("x")
    assert target.read_text() == "x"


def test_a_folder_is_refused_where_a_file_is_wanted(tmp_path):
    (tmp_path / "d").mkdir()
    assert message(lambda: check_output_path(tmp_path / "d", "--output")) == \
        f"{tmp_path / 'd'}: --output is a folder; give a file name"


def test_a_file_is_refused_where_a_folder_is_wanted(tmp_path):
    (tmp_path / "f").write_text("")
    assert message(lambda: check_output_path(tmp_path / "f", "--out", allow_dir=True)) == \
        f"{tmp_path / 'f'}: --out is a file; give a folder"
    assert check_output_path(tmp_path, "--out", allow_dir=True) == tmp_path


def test_a_path_under_an_existing_file_is_refused(tmp_path):
    (tmp_path / "f").write_text("")
    assert message(lambda: check_output_path(tmp_path / "f" / "x" / "m.keras", "--output")) == \
        f"{tmp_path / 'f' / 'x' / 'm.keras'}: cannot write --output: {tmp_path / 'f'} is a file, not a folder"


def test_a_device_is_refused():
    assert message(lambda: check_output_path("/dev/full", "--output")) == \
        "/dev/full: --output is a character device; give a regular file name"


def test_an_unwritable_folder_is_refused():
    # sysfs refuses new files even to root
    if not os.path.isdir("/sys/kernel"):
        pytest.skip("no /sys here")
    assert message(lambda: check_output_path("/sys/m.keras", "--output")) == \
        "/sys/m.keras: cannot write --output: Permission denied (/sys)"


def test_enospc_while_writing_is_one_line_and_leaves_nothing(tmp_path):
    target = tmp_path / "m.bin"
    target.write_bytes(b"old")

    def write():
        with atomic_output(target, "--output") as tmp:
            tmp.write_bytes(b"partial")
            with open("/dev/full", "wb") as full:  # a real ENOSPC from the kernel
                full.write(b"x" * 4096)
                full.flush()

    assert message(write) == f"{target}: cannot write --output: No space left on device"
    assert target.read_bytes() == b"old"  # the user's file is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.bin"]  # no temporary left


def test_any_failure_removes_the_temporary(tmp_path):
    with pytest.raises(RuntimeError):
        with atomic_output(tmp_path / "m.keras") as tmp:
            assert tmp.parent == tmp_path and tmp.name.endswith(".keras")
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def small_tmpfs(tmp_path):
    """A 64 KiB tmpfs, when this machine lets us mount one (root in a container often may)."""
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
                                           capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here (needs root and mount rights)")
    yield mount
    subprocess.run(["umount", str(mount)], capture_output=True)


def test_a_full_file_system_is_one_line(small_tmpfs):
    target = small_tmpfs / "big.bin"

    def write():
        with atomic_output(target, "--output") as tmp:
            tmp.write_bytes(b"\0" * (1 << 20))

    assert message(write) == f"{target}: cannot write --output: No space left on device"
    assert list(small_tmpfs.iterdir()) == []


def test_a_read_only_file_system_is_refused_before_work(small_tmpfs):
    subprocess.run(["mount", "-o", "remount,ro", str(small_tmpfs)], check=True)
    assert message(lambda: check_output_path(small_tmpfs / "m.keras", "--output")) == \
        f"{small_tmpfs / 'm.keras'}: cannot write --output: Read-only file system ({small_tmpfs})"


def test_the_written_file_gets_the_usual_mode(tmp_path):
    with atomic_output(tmp_path / "m.txt") as tmp:
        tmp.write_text("x")
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "m.txt").stat().st_mode & 0o777 == 0o666 & ~mask
    assert isinstance(tmp, Path)
