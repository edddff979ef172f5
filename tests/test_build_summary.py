"""`build --summary FILE`: the Markdown a pull request's job summary shows, read back as a reviewer's
browser would see it (rendered by Python-Markdown with tables, parsed as HTML)."""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import markdown as python_markdown
from click.testing import CliRunner, Result

from site_builder.build.summary import LISTED, compare, markdown, url
from site_builder.cli import main
from site_builder.problems import Problem
from tests.conftest import case_text

BUILD = ["build", "--only", "site", "--no-search", "--now", "2026-11-30", "--summary", "summary.md"]


class _Read(HTMLParser):
    """The rendered summary: its table rows, list items and code blocks, as text."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.lists: list[list[str]] = []
        self.blocks: list[str] = []
        self.tags: set[str] = set()
        self._where: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self._where.append(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.rows[-1].append("")
        elif tag == "ul":
            self.lists.append([])
        elif tag == "li":
            self.lists[-1].append("")
        elif tag == "pre":
            self.blocks.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._where:
            del self._where[len(self._where) - 1 - self._where[::-1].index(tag) :]

    def handle_data(self, data: str) -> None:
        if "pre" in self._where:
            self.blocks[-1] += data
        elif "td" in self._where or "th" in self._where:
            self.rows[-1][-1] += data
        elif "li" in self._where:
            self.lists[-1][-1] += data


def _read(path: Path) -> _Read:
    html = python_markdown.markdown(path.read_text(encoding="utf-8"), extensions=["tables", "fenced_code"])
    parser = _Read()
    parser.feed(html)
    return parser


def _build(project: Path) -> tuple[Result, _Read]:
    (project / "summary.md").unlink(missing_ok=True)
    result = CliRunner().invoke(main, BUILD, catch_exceptions=False)
    return result, _read(project / "summary.md")


def _row(summary: _Read, name: str) -> str:
    [cells] = [row for row in summary.rows if row and row[0] == name]
    return cells[1]


def test_the_summary_counts_and_lists_the_pages_changed_since_the_last_build(
    project: Path, write_case: Callable[..., Path]
) -> None:
    for i, day in enumerate(("03", "05", "07", "09")):
        write_case(f"case-{i}.md", case_text(title=f"Room {i} was gone", date=f"2026-03-{day}"))
    write_case("later.md", case_text(title="Not yet", date="2027-01-01"))
    (project / "summary.md").write_text("Before.\n", encoding="utf-8")
    result = CliRunner().invoke(main, BUILD, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    text = (project / "summary.md").read_text(encoding="utf-8")
    assert text.startswith("Before.\n### What this build publishes"), "appended, as GitHub expects"
    first = _read(project / "summary.md")
    assert _row(first, "Check of the cases") == "passed, no problems"
    assert _row(first, "Cases") == "4 published (1 draft or future-dated case not published)"
    assert _row(first, "Pages") == f"{_pages(project)}; no earlier build in the cache to compare with"
    assert first.lists == []

    result, same = _build(project)
    assert result.exit_code == 0
    assert _row(same, "Pages") == f"{_pages(project)}: 0 added, 0 changed, 0 removed since the last build in the cache"
    assert same.lists == []

    # One case's text edited, one added, one deleted: its pages, its neighbours' and the lists.
    edited = project / "cases/case-1.md"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nWe called the next day too.\n", encoding="utf-8")
    write_case("case-new.md", case_text(title="A new room was gone", date="2026-03-11"))
    (project / "cases/case-3.md").unlink()
    result, changed = _build(project)
    assert result.exit_code == 0, result.output
    added, remade, removed = changed.lists
    assert added == ["/cases/case-new/"] and removed == ["/cases/case-3/"]
    # The edited case's page (its neighbours show no text), the one whose neighbour changed, the index.
    assert {"/", "/cases/case-1/", "/cases/case-2/"} <= set(remade)
    assert "/cases/case-0/" not in remade and "/404.html" not in remade, "pages made from the same things"
    assert remade == sorted(remade)
    pages = f"{_pages(project)}: 1 added, {len(remade)} changed, 1 removed since the last build in the cache"
    assert _row(changed, "Pages") == pages


def _pages(project: Path) -> int:
    return len(list((project / "dist/site").rglob("*.html")))


def test_a_failed_check_is_summarized_with_its_problems_quoted(project: Path, write_case: Callable[..., Path]) -> None:
    write_case("good.md", case_text())
    # A field name a hostile author chose: backticks and a table's bar, and HTML.
    write_case("bad.md", case_text(extra="x```|<img src=x onerror=alert(1)>: 1\n").replace("date: 2026", "date: 20x6"))
    result, summary = _build(project)
    assert result.exit_code == 1
    assert _row(summary, "Check of the cases").startswith("failed: 2 errors in 1 file")
    assert _row(summary, "Cases") == "none built"
    assert "img" not in summary.tags, "the author's HTML stays text"
    [block] = summary.blocks
    assert "cases/bad.md:3: date:" in block and "x```|<img src=x onerror=alert(1)>: is not a known field" in block


def test_a_build_that_fails_otherwise_says_why(project: Path, write_case: Callable[..., Path]) -> None:
    write_case("good.md", case_text())
    (project / "theme-overrides/site").mkdir(parents=True)
    (project / "theme-overrides/site/case.html").write_text("{{ case.nothing_here.at_all }}", encoding="utf-8")
    result, summary = _build(project)
    assert result.exit_code == 1
    assert _row(summary, "Check of the cases") == "passed, no problems"
    assert _row(summary, "Build") == "failed, nothing was built (below)"
    [block] = summary.blocks
    assert block.startswith("Theme error: ") and "case.html" in block


def test_long_lists_are_cut() -> None:
    after = {f"cases/c{i:03}/index.html": "new" for i in range(LISTED + 7)}
    summary = markdown(problems=(), cases=LISTED + 7, before={}, after=after)
    assert summary.count("\n- `/cases/c") == LISTED and "\n- and 7 more\n" in summary


def test_compare_and_addresses() -> None:
    changes = compare(
        {"a.html": "1", "b/index.html": "2", "c.xml": "3"}, {"a.html": "1", "b/index.html": "9", "d.html": "4"}
    )
    assert (changes.added, changes.changed, changes.removed, changes.same) == (
        ("d.html",),
        ("b/index.html",),
        ("c.xml",),
        1,
    )
    assert [url(n) for n in ("index.html", "cases/x/index.html", "404.html", "da/index.html")] == [
        "/",
        "/cases/x/",
        "/404.html",
        "/da/",
    ]


def test_warnings_pass_unless_they_stopped_the_build() -> None:
    warning = Problem(Path("cases/a.md"), 4, "summary", "is long", severity="warning")
    assert "| Check of the cases | passed with 1 warning in 1 file |" in markdown(problems=(warning,), cases=1)
    refused = markdown(problems=(warning,), cases=None)  # --strict
    assert "| Check of the cases | **failed**: 1 warning in 1 file; nothing was built |" in refused
