"""`zoo docs`: registered on any typer app; pages without mkdocs, clear errors without the docs extra."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from zoo.cli import docs_cmd


def app_with_docs() -> typer.Typer:
    app = typer.Typer()

    @app.command()
    def other() -> None:
        """Another command, so `docs` stays a group."""

    docs_cmd.register(app)
    return app


def test_register_adds_the_docs_group():
    result = CliRunner().invoke(app_with_docs(), ["docs", "--help"])
    assert result.exit_code == 0
    for command in ("build", "serve", "pages"):
        assert command in result.output


def test_docs_pages_writes_the_generated_markdown(tmp_path):
    result = CliRunner().invoke(app_with_docs(), ["docs", "pages", "--out", str(tmp_path / "gen")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "gen" / "models" / "index.md").read_text(encoding="utf-8").startswith("# Models")
    assert (tmp_path / "gen" / "models" / "resnet20.md").is_file()
    count = len(list((tmp_path / "gen").rglob("*.md")))
    assert f"wrote {count} pages to {tmp_path / 'gen'}" in result.output


def test_docs_build_needs_the_docs_extra(monkeypatch):
    monkeypatch.setattr(docs_cmd, "missing_packages", lambda: ["mkdocs-gen-files"])
    result = CliRunner().invoke(app_with_docs(), ["docs", "build"])
    assert result.exit_code == 2
    assert "error: the docs need mkdocs-gen-files: pip install 'zoo[docs]'" in result.output


def test_docs_build_reports_a_missing_config(monkeypatch):
    monkeypatch.setattr(docs_cmd, "missing_packages", lambda: [])
    result = CliRunner().invoke(app_with_docs(), ["docs", "build", "--config-file", "nope.yml"])
    assert result.exit_code == 2
    assert "error: nope.yml: no such file" in result.output


def test_docs_build_runs_mkdocs_with_the_checkouts_config(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(docs_cmd, "missing_packages", lambda: [])
    monkeypatch.setattr(docs_cmd.subprocess, "run",
                        lambda command, env: calls.append(command) or type("R", (), {"returncode": 0})())
    result = CliRunner().invoke(app_with_docs(), ["docs", "build", "--site-dir", str(tmp_path / "site")])
    assert result.exit_code == 0, result.output
    (command,) = calls
    assert command[1:4] == ["-m", "mkdocs", "build"]
    assert command[command.index("--config-file") + 1].endswith("mkdocs.yml")
    assert command[-3:] == ["--site-dir", str((tmp_path / "site").resolve()), "--strict"]


def test_docs_output_folders_are_checked_before_work(monkeypatch, tmp_path):
    monkeypatch.setattr(docs_cmd, "missing_packages", lambda: [])
    monkeypatch.setattr(docs_cmd.subprocess, "run", lambda command, env: pytest.fail("mkdocs ran"))
    (tmp_path / "file").write_text("mine")
    runner = CliRunner()
    result = runner.invoke(app_with_docs(), ["docs", "build", "--site-dir", str(tmp_path / "file")])
    assert (result.exit_code, result.output) == (2, f"error: {tmp_path / 'file'}: --site-dir is a file; give a folder\n")
    result = runner.invoke(app_with_docs(), ["docs", "pages", "--out", str(tmp_path / "file" / "gen")])
    assert (result.exit_code, result.output) == (
        2, f"error: {tmp_path / 'file' / 'gen'}: cannot write --out: {tmp_path / 'file'} is a file, not a folder\n")
    assert (tmp_path / "file").read_text() == "mine"


def test_docs_pages_write_failures_are_one_line(tmp_path):
    (tmp_path / "gen").mkdir()
    (tmp_path / "gen" / "models").write_text("a file where a folder of pages goes")
    result = CliRunner().invoke(app_with_docs(), ["docs", "pages", "--out", str(tmp_path / "gen")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output == f"error: {tmp_path / 'gen' / 'models'}: cannot write --out: File exists\n"


def test_no_generated_page_has_an_empty_table_header():
    import re

    from zoo.docs.pages import generate_pages

    for name, text in generate_pages().items():
        lines = text.splitlines()
        for line, after in zip(lines, lines[1:]):
            assert not (re.fullmatch(r"\|(\s*\|)+", line.strip()) and after.startswith("|-")), name


def test_the_cli_reference_gives_whole_descriptions():
    from zoo.docs.cli_reference import cli_reference_page

    page = cli_reference_page()
    assert "…" not in page and not [line for line in page.splitlines() if line.rstrip().endswith("...")
                                   and not line.startswith("Usage:")]
    assert ("  list      Every model with its family, depth, parameters and GMACs at its\n"
            "            default input.\n") in page
