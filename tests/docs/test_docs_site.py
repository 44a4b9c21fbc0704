"""`mkdocs build --strict`, as CI builds the site: generated pages included, no warning allowed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import zoo
from tests.conftest import MODELS

ROOT = Path(__file__).resolve().parents[2]

for module in ("mkdocs", "material", "mkdocs_gen_files"):
    pytest.importorskip(module, reason="the docs extra: pip install -e '.[docs]'")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {k: v for k, v in os.environ.items() if k != "ZOO_SPECS"}
    env.update(DISABLE_MKDOCS_2_WARNING="true", NO_MKDOCS_2_WARNING="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])))
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
                             str(ROOT / "mkdocs.yml"), "--site-dir", str(out)],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def test_strict_build_writes_every_page(site):
    for page in ("index.html", "getting-started/index.html", "tutorial/index.html", "models/index.html",
                 "reference/spec/index.html", "reference/cli/index.html"):
        assert (site / page).is_file(), page
    for name in MODELS:
        assert (site / "models" / name / "index.html").is_file(), name


def test_generated_pages_carry_the_planners_counts(site):
    html = (site / "models" / "resnet20" / "index.html").read_text(encoding="utf-8")
    assert f"{zoo.count('resnet20')['params']:,}" in html  # 271,098
    overview = (site / "models" / "index.html").read_text(encoding="utf-8")
    assert "36,497,146" in overview and "138,365,992" in overview


def test_nav_lists_the_model_pages(site):
    home = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="models/wrn28_10/"' in home
    assert ("Benchmarks" in home) == (ROOT / "docs" / "benchmarks.md").is_file()


def test_the_generator_script_is_not_published(site):
    assert not (site / "gen_pages.py").exists()
