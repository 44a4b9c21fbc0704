"""Every generated page, and the Models section of the site's navigation."""

from __future__ import annotations

from pathlib import Path

from zoo.docs.cli_reference import PAGE as CLI_PAGE, cli_reference_page
from zoo.docs.models import OVERVIEW, Family, collect, model_page_text, overview_page
from zoo.docs.records import PAGE as RECORDS_PAGE, records_page
from zoo.docs.spec_reference import PAGE as SPEC_PAGE, spec_reference_page
from zoo.spec.registry import Registry


def generate_pages(registry: Registry | None = None, families: list[Family] | None = None) -> dict[str, str]:
    """``{path under docs/: markdown}`` for the models overview, each model, and the two references."""
    families = families if families is not None else collect(registry)
    pages = {OVERVIEW: overview_page(families)}
    for family in families:
        for m in family.models:
            pages[m.page] = model_page_text(m, family)
    pages[SPEC_PAGE] = spec_reference_page()
    pages[CLI_PAGE] = cli_reference_page()
    pages[RECORDS_PAGE] = records_page()
    return pages


def models_nav(families: list[Family]) -> list:
    """The Models section for mkdocs' `nav`: the overview, then each family's model pages."""
    nav: list = [{"Overview": OVERVIEW}]
    for family in families:
        nav.append({family.title: [{m.name: m.page} for m in family.models]})
    return nav


def site_nav(nav: list, families: list[Family], docs_dir: str | Path, generated: set[str]) -> list:
    """mkdocs.yml's nav with its ``models/index.md`` entry grown into the Models section.

    Entries for pages that are neither in docs/ nor generated are dropped, so a page
    still being written (benchmarks.md) does not break ``mkdocs build --strict``.
    """
    out = []
    for item in nav:
        if isinstance(item, dict):
            (title, value), = item.items()
            if value == OVERVIEW:
                out.append({title: models_nav(families)})
            elif isinstance(value, list):
                out.append({title: site_nav(value, families, docs_dir, generated)})
            elif _exists(value, docs_dir, generated):
                out.append(item)
        elif _exists(item, docs_dir, generated):
            out.append(item)
    return out


def _exists(page: str, docs_dir: str | Path, generated: set[str]) -> bool:
    return "://" in page or page in generated or (Path(docs_dir) / page).is_file()


def write_pages(out: str | Path, registry: Registry | None = None) -> list[Path]:
    """Write the generated pages as markdown files under ``out``; returns their paths."""
    written = []
    for rel, text in generate_pages(registry).items():
        path = Path(out) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
