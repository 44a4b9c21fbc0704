"""The records' commands reach their accuracy (never timed here: the figures are in docs/records.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from zoo.bench.records import RECORDS
from zoo.training.trainer import train

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(RECORDS))
def test_record_reaches_its_accuracy(name, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # a record's spec may be a file of the repository (benchmarks/gpu/specs.yaml:vgg16_he)
    if not DATA.is_dir():
        pytest.skip(f"the real datasets are not here ({DATA})")
    record = RECORDS[name]
    result = train(record.spec, record.dataset, record.recipe, data_dir=str(DATA), out=tmp_path / "run")
    assert result.test_accuracy >= record.target
