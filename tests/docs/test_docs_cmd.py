"""`zoo docs`: registered on any typer app; pages without mkdocs, clear errors without the docs extra."""

from __future__ import annotations

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
