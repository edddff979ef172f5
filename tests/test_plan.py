"""One build path: the plan (from the last build's note, or in full) and its reason, as `build -v`
prints them; settings an output does not show do not make it again; a fourth output is one class."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from site_builder.build import outputs, pipeline
from site_builder.build.artifacts import Artifact, Finish, OutputTree
from site_builder.build.request import BuildRequest
from site_builder.cases.model import Case
from site_builder.cli import main
from site_builder.digest.period import Period
from site_builder.leaflets.workers import LayoutWorkers
from site_builder.settings.config import load_settings
from tests.conftest import ROOT, case_text

BUILD = ["build", "-v", "--now", "2026-04-01", "--since", "2026-03-01", "--until", "2026-03-31", "--jobs", "1"]


def _plan(*extra: str) -> tuple[str, str]:
    """Build; the plan line and the whole output."""
    result = CliRunner().invoke(main, [*BUILD, "--no-search", *extra], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    [plan] = [line for line in result.output.splitlines() if line.startswith("Plan: ")]
    return plan.removeprefix("Plan: "), result.output


@pytest.fixture
def built(project: Path, write_case: Callable[..., Path]) -> Path:
    for day in range(1, 4):
        path = write_case(f"c{day}.md", case_text(title=f"Case {day}", date=f"2025-12-0{day}"))
        an_hour_ago = time.time() - 3600
        os.utime(path, (an_hour_ago, an_hour_ago))  # older than the two seconds a fresh mtime is distrusted
    (project / "site.toml").write_text('title = "Proof"\n', encoding="utf-8")
    assert _plan()[0] == "full: no note from the last build of this output folder"
    return project


def test_the_plan_says_why(built: Path) -> None:
    assert _plan()[0] == "from the last build: nothing changed"
    case = built / "cases/c2.md"
    case.write_text(case.read_text(encoding="utf-8").replace("paid for it", "paid for it at once"), encoding="utf-8")
    assert _plan()[0] == "from the last build: only the text of 1 case changed"
    case.write_text(case.read_text(encoding="utf-8").replace("Case 2", "Case two"), encoding="utf-8")
    assert _plan()[0] == "full: cases/c2.md: more than its text changed (a field other pages show)"
    (built / "cases/c4.md").write_text(case_text(title="Case 4", date="2025-12-04"), encoding="utf-8")
    assert _plan()[0] == "full: case files were added, removed or renamed"
    (built / "site.toml").write_text('title = "Proof we fix"\n', encoding="utf-8")
    plan = _plan()[0]
    assert plan.startswith("full: what the site shows (settings, theme, options)") and plan.endswith("changed")
    assert "what the leaflets shows" in plan  # the title is on the leaflets too
    override = built / "theme-overrides/site"
    override.mkdir(parents=True)
    (override / "404.html").write_text('{% extends "base.html" %}{% block main %}Gone{% endblock %}', encoding="utf-8")
    assert _plan()[0] == "full: what the site shows (settings, theme, options) changed"
    assert _plan("--now", "2026-04-02")[0] == "full: today's date changed"


def test_settings_no_output_shows_make_nothing_again(built: Path, rendered: list[str]) -> None:
    (built / "site.toml").write_text('title = "Proof"\n[smtp]\nhost = "mail.example"\nport = 2525\n', encoding="utf-8")
    assert _plan()[0] == "from the last build: nothing changed"
    # A full build for another reason (a new day) with another mail server: no page is made again.
    (built / "site.toml").write_text('title = "Proof"\n[smtp]\nhost = "other.example"\n', encoding="utf-8")
    assert _plan("--now", "2026-04-02")[0] == "full: today's date changed"
    assert rendered == []
    # The digest's options are not the site's either; the site's own are.
    (built / "site.toml").write_text('title = "Proof"\n[digest]\nmax_cases = 5\n', encoding="utf-8")
    _plan("--now", "2026-04-03")
    assert rendered == []
    (built / "site.toml").write_text('title = "Proof"\nper_page = 2\n', encoding="utf-8")
    _plan("--now", "2026-04-03")
    assert "index.html" in rendered


class Titles:
    """A fourth output, as a newcomer would add one: OUT/titles/titles.txt, one title a line."""

    name = "titles"
    carried = None

    def shows(self, request: BuildRequest) -> str:
        return "titles 1"

    def render(self, cases: tuple[Case, ...], request: BuildRequest, workers: LayoutWorkers | None) -> list[Artifact]:
        text = "".join(f"{case.title}\n" for case in cases)
        return [Artifact("titles.txt", text.encode(), text)]

    def shown_whole(self, cases: tuple[Case, ...], request: BuildRequest) -> tuple[Case, ...]:
        return ()

    def remade(self, edited: outputs.Edited, request: BuildRequest, workers: LayoutWorkers | None) -> list[Artifact]:
        return []  # it shows no text: an edit of a case's text changes nothing here

    def remember(self, cases: tuple[Case, ...], request: BuildRequest) -> tuple[str, ...]:
        return ()

    def finish(self, request: BuildRequest, remembered: tuple[str, ...]) -> Finish | None:
        return None

    def written(self, tree: OutputTree, changed: int, request: BuildRequest) -> None:
        pass


@pytest.fixture
def with_titles(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    registry = (*outputs.OUTPUTS, Titles())
    monkeypatch.setattr(outputs, "OUTPUTS", registry)
    monkeypatch.setattr(outputs, "NAMES", tuple(o.name for o in registry))
    monkeypatch.setattr(outputs, "BY_NAME", {o.name: o for o in registry})
    yield


def test_a_fourth_output_is_one_class(project: Path, write_case: Callable[..., Path], with_titles: None) -> None:
    for day in range(1, 3):
        write_case(f"c{day}.md", case_text(title=f"Case {day}", date=f"2025-12-0{day}"))
    now = dt.date(2026, 4, 1)
    request = BuildRequest(Path("cases"), Path("dist"), load_settings(None), Period(now, now), now, ("site", "titles"))
    report = pipeline.build(request)
    assert report.plan.startswith("full: ")
    assert (project / "dist/titles/titles.txt").read_text() == "Case 2\nCase 1\n"
    case = project / "cases/c1.md"
    case.write_text(case.read_text(encoding="utf-8").replace("paid for it", "paid for it at once"), encoding="utf-8")
    report = pipeline.build(request)
    assert report.plan == "from the last build: only the text of 1 case changed"
    assert {r.name: r.changed for r in report.outputs} == {"site": 3, "titles": 0}  # its page, both feeds
    (project / "cases/c2.md").unlink()
    report = pipeline.build(request)
    assert (project / "dist/titles/titles.txt").read_text() == "Case 1\n"


def test_a_card_that_reaches_for_a_case_text_is_a_theme_error(project: Path, write_case: Callable[..., Path]) -> None:
    """A list page is keyed by its cards' fields, so a card may not show a case's text (it would go stale)."""
    write_case("c1.md", case_text(title="Case 1", date="2025-12-01"))
    override = project / "theme-overrides/site"
    override.mkdir(parents=True)
    macros = (ROOT / "theme/site/_macros.html").read_text(encoding="utf-8")
    card = macros.replace('<p class="summary">{{ case.summary }}</p>', "{{ case.sections[0].html }}")
    assert card != macros
    (override / "_macros.html").write_text(card, encoding="utf-8")
    result = CliRunner().invoke(main, [*BUILD, "--only", "site", "--no-search"])
    assert result.exit_code == 1
    assert "Theme error: " in result.output and "has no attribute 'sections'" in result.output
    assert "Traceback" not in result.output and not (project / "dist/site").exists()
