"""Shared fixtures. The registry drives parametrization: a new spec file is tested with no new test code."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import zoo  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
MODELS = zoo.list_models()


@pytest.fixture
def write_spec(tmp_path):
    """Write a spec file from dedented YAML text and return its path."""
    def write(text: str, name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path
    return write


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    """Run each test in its own folder so relative file names in errors are predictable."""
    monkeypatch.chdir(tmp_path)
