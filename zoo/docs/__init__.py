"""Documentation pages generated from the registry, the spec schema and the CLI.

`generate_pages()` returns every generated page as ``{path under docs/: markdown}``;
``docs/gen_pages.py`` hands them to mkdocs-gen-files and ``zoo docs pages`` writes them out.
"""

from zoo.docs.pages import generate_pages, write_pages

__all__ = ["generate_pages", "write_pages"]
