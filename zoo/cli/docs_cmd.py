"""`zoo docs`: build or serve the documentation site, or write its generated pages.

The model pages and references come from `zoo.docs`; mkdocs (the `docs` extra)
turns them and docs/ into the site.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Optional

import typer

from zoo.cli.errors import reports_errors
from zoo.errors import ZooError, visible
from zoo.outpath import check_output_path

DOCS_PACKAGES = {"mkdocs": "mkdocs", "material": "mkdocs-material", "mkdocs_gen_files": "mkdocs-gen-files"}

ConfigFile = typer.Option(None, "--config-file", "-f",
                          help="mkdocs.yml to use (default: ./mkdocs.yml, else the checkout's).")


def register(app: typer.Typer) -> None:
    """Add the `docs` command group to ``app``."""
    docs = typer.Typer(no_args_is_help=True, help="Build, serve or write the documentation site.")

    @docs.command("build")
    @reports_errors
    def build_cmd(site_dir: Path = typer.Option(Path("site"), "--site-dir", "-d", help="Where to write the site."),
                  strict: bool = typer.Option(True, "--strict/--no-strict", help="Fail on any mkdocs warning."),
                  config_file: Optional[Path] = ConfigFile) -> None:
        """Build the site with mkdocs; the model pages are generated from the specs."""
        check_output_path(site_dir, "--site-dir", allow_dir=True)  # before mkdocs spends a minute
        args = ["build", "--site-dir", str(site_dir.resolve())] + (["--strict"] if strict else [])
        raise typer.Exit(run_mkdocs(args, config_file))

    @docs.command("serve")
    @reports_errors
    def serve_cmd(dev_addr: str = typer.Option("127.0.0.1:8000", "--dev-addr", "-a", help="IP:PORT to serve on."),
                  config_file: Optional[Path] = ConfigFile) -> None:
        """Serve the site with live reload while you edit docs/ or the specs."""
        raise typer.Exit(run_mkdocs(["serve", "--dev-addr", dev_addr], config_file))  # mkdocs.yml watches specs/

    @docs.command("pages")
    @reports_errors
    def pages_cmd(out: Path = typer.Option(..., "--out", "-o", help="Folder for the markdown files.")) -> None:
        """Write the generated pages (models, spec and CLI references) as markdown, without mkdocs."""
        from zoo.docs import write_pages

        check_output_path(out, "--out", allow_dir=True)
        try:
            written = write_pages(out)
        except OSError as e:  # the disk filled or a page's folder is a file: one line, not a traceback
            raise ZooError(f"cannot write --out: {e.strerror or e}", file=str(e.filename or out)) from None
        print(visible(f"wrote {len(written)} pages to {out}"))

    app.add_typer(docs, name="docs")


def _spec_dir() -> Path:
    from zoo.spec.registry import builtin_spec_dir

    return builtin_spec_dir()


def find_config(config_file: Path | None) -> Path:
    """The mkdocs.yml to build: the one given, ./mkdocs.yml, or the source checkout's."""
    if config_file is not None:
        if not config_file.is_file():
            raise ZooError("no such file", file=str(config_file))
        return config_file
    for candidate in (Path("mkdocs.yml"), _spec_dir().parent / "mkdocs.yml"):
        if candidate.is_file():
            return candidate
    raise ZooError("no mkdocs.yml here or in the zoo checkout; the site builds from a source checkout "
                   "(or pass --config-file)")


def missing_packages() -> list[str]:
    return [pip for module, pip in DOCS_PACKAGES.items() if importlib.util.find_spec(module) is None]


def run_mkdocs(args: list[str], config_file: Path | None = None) -> int:
    """Run mkdocs with this interpreter, so the page generators import this zoo; returns its exit status."""
    missing = missing_packages()
    if missing:
        raise ZooError(f"the docs need {', '.join(missing)}: pip install 'zoo[docs]'")
    config = find_config(config_file)
    env = dict(os.environ)
    env.setdefault("DISABLE_MKDOCS_2_WARNING", "true")  # banners printed by recent mkdocs plugins
    env.setdefault("NO_MKDOCS_2_WARNING", "1")
    command = [sys.executable, "-m", "mkdocs", args[0], "--config-file", str(config.resolve()), *args[1:]]
    return subprocess.run(command, env=env).returncode
