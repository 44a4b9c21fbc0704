"""Fixtures shared by the generated-docs tests: the registry's families and every generated page."""

from __future__ import annotations

import pytest

from zoo.docs import generate_pages
from zoo.docs.models import collect


@pytest.fixture(scope="module")
def families():
    return collect()


@pytest.fixture(scope="module")
def pages(families):
    return generate_pages(families=families)
