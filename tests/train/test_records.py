"""The records' commands reach their accuracy (never timed here: the figures are in docs/records.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from zoo.bench.records import RECORDS
from zoo.training.trainer import train

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(RECORDS))
def test_record_reaches_its_accuracy(name, tmp_path):
    if not DATA.is_dir():
        pytest.skip(f"the real datasets are not here ({DATA})")
    record = RECORDS[name]
    result = train(record.spec, record.dataset, record.recipe, data_dir=str(DATA), out=tmp_path / "run")
    assert result.test_accuracy >= record.target
