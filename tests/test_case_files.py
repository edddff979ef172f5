"""Which files are cases: .md and .markdown in any case; a file that looks like a case but is
not read by its name gets a warning naming it, so a folder of them never passes as "0 cases"."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from site_builder.cli import main
from tests.conftest import case_text

BUILD = ["build", "--only", "site", "--no-search", "--now", "2026-04-01", "--jobs", "1"]


def test_markdown_and_upper_case_suffixes_are_cases(project: Path, write_case: Callable[..., Path]) -> None:
    write_case("one.markdown", case_text(title="One"))
    write_case("two.MD", case_text(title="Two"))
    write_case("three.Markdown", case_text(title="Three"))
    result = CliRunner().invoke(main, BUILD)
    assert result.exit_code == 0, result.output
    assert "Built 3 cases in" in result.output
    for slug in ("one", "two", "three"):
        assert (project / f"dist/site/cases/{slug}/index.html").is_file()


def test_files_that_look_like_cases_are_named(project: Path, write_case: Callable[..., Path]) -> None:
    write_case("notepad.md.txt", case_text(title="Saved by Notepad"))
    write_case("sub/plain.txt", case_text(title="A text file with front matter"))
    write_case("README.txt", "Notes for the team: cases go in this folder.\n")  # not a case: no warning
    write_case("real.md", case_text(title="Real"))
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 0, result.output  # warnings: published anyway
    out = result.output
    expected = "file: looks like a case but is not read: only .md and .markdown files are cases"
    assert f"cases/notepad.md.txt: warning: {expected} (rename it to notepad.md)" in out
    assert f"cases/sub/plain.txt: warning: {expected} (rename it to plain.md)" in out
    assert "README.txt" not in out
    strict = CliRunner().invoke(main, ["check", "--strict"])
    assert strict.exit_code == 1


def test_a_folder_of_only_look_alikes_is_not_silently_empty(project: Path, write_case: Callable[..., Path]) -> None:
    write_case("a.md.txt", case_text(title="A"))
    write_case("b.md.txt", case_text(title="B"))
    result = CliRunner().invoke(main, ["check"])
    assert result.output.count("looks like a case but is not read") == 2, result.output
