"""Rebuilds that load only the changed case files: taken when they may be, equal to a clean build."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

from site_builder.build import pipeline, shortcut
from site_builder.cases import load as cases_module
from site_builder.cli import main
from site_builder.settings.config import load_settings
from tests.conftest import case_text
from tests.test_incremental import BUILD, apply, snapshot, steps

FEED = 50  # cases in the feed: shown whole there, so an edit of one of them needs a full build


def _dated(i: int) -> str:
    """Case i's date: case 0 is the oldest, all before the digest's period (March 2026)."""
    return f"2025-{1 + i // 28:02d}-{1 + i % 28:02d}"


@pytest.fixture
def full_builds(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Counts the builds that loaded every case (the others took the shortcut)."""
    counted: list[int] = []
    real = cases_module.check_cases

    def counting(*args: Any, **kwargs: Any) -> Any:
        counted.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "check_cases", counting)
    yield counted


def _build(project: Path, *extra: str) -> str:
    result = CliRunner().invoke(main, [*BUILD, "--no-search", "--jobs", "1", *extra], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _clean_copy(project: Path, *extra: str) -> dict[str, bytes]:
    """The output of a clean build of the same input, file by file."""
    clean = project / "clean"
    shutil.rmtree(clean, ignore_errors=True)
    shutil.copytree(project, clean, ignore=shutil.ignore_patterns("dist", "clean", ".site-builder"))
    cwd = os.getcwd()
    os.chdir(clean)
    try:
        _build(clean, *extra)
    finally:
        os.chdir(cwd)
    return {k: v[2] for k, v in snapshot(clean / "dist").items()}


def _settled(folder: Path) -> None:
    """Date the case files a minute back: a file changed within two seconds of a build is read
    again by the next one whatever its signature says (git's rule for racy files)."""
    past = os.stat(folder).st_mtime - 60
    for path in folder.glob("*.md"):
        os.utime(path, (past, past))


def _many(write_case: Callable[..., Path], count: int = FEED + 3) -> None:
    for i in range(count):
        path = write_case(f"c{i:02d}.md", case_text(title=f"Case {i}", date=_dated(i)))
    _settled(path.parent)


def _edit_text(project: Path, name: str, words: str) -> None:
    path = project / "cases" / name
    path.write_text(path.read_text(encoding="utf-8").replace("paid for it", f"paid for it {words}"), encoding="utf-8")


def test_a_text_edit_loads_only_that_case_and_equals_a_clean_build(
    project: Path, write_case: Callable[..., Path], full_builds: list[int]
) -> None:
    _many(write_case)
    _build(project)
    before = snapshot(project / "dist")
    # 82 pages and files (feed.json and the feeds of two tags and an industry; the changes page,
    # stats.json and the badge: issue 18), and 61 social cards: 53 cases, the home page, two tags and
    # an industry, their indexes, the stats and changes pages
    assert "143 files, 0 new or changed" in _build(project) and len(full_builds) == 1  # no change: no loading
    _edit_text(project, "c01.md", "at once")  # an old case: on no list but its own page
    output = _build(project)
    assert len(full_builds) == 1, "the edit should not have loaded every case"
    assert "files, 1 new or changed" in output  # the page only (no leaflets in this build)
    after = snapshot(project / "dist")
    changed = sorted(k for k in after if after[k][1] != before[k][1])
    assert changed == ["site/cases/c01/index.html"]
    assert b"paid for it at once" in after["site/cases/c01/index.html"][2]
    assert {k: v[2] for k, v in after.items()} == _clean_copy(project)


@pytest.mark.parametrize(
    "change",
    [
        "retitle",
        "add",
        "delete",
        "settings",
        "hand-edited output",
        "damaged note",
        "newest, too many kept whole",
        "newest, kept cases damaged",
    ],
)
def test_anything_else_builds_in_full(
    project: Path, write_case: Callable[..., Path], full_builds: list[int], change: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _many(write_case)
    if change == "newest, too many kept whole":  # the note keeps no cases shown whole when there are too many
        monkeypatch.setattr(shortcut, "KEEP_WHOLE", FEED - 1)
    _build(project)
    if change == "newest, kept cases damaged":
        settings = load_settings(project / "site.toml")
        last = shortcut.load(settings, project / "dist")
        assert last is not None and last.whole
        shortcut.save(settings, project / "dist", dataclasses.replace(last, whole=last.whole[:-40]))
    if change == "retitle":
        path = project / "cases/c01.md"
        path.write_text(path.read_text(encoding="utf-8").replace('title: "', 'title: "New ', 1), encoding="utf-8")
    elif change == "add":
        write_case("extra.md", case_text(title="Extra", date=_dated(0)))
    elif change == "delete":
        (project / "cases/c02.md").unlink()
    elif change == "settings":
        (project / "site.toml").write_text('title = "Fixed"\n', encoding="utf-8")
    elif change == "hand-edited output":
        _edit_text(project, "c01.md", "by hand")
        (project / "dist/site/cases/c02/index.html").write_text("broken", encoding="utf-8")
    elif change.startswith("newest"):
        _edit_text(project, f"c{FEED + 2}.md", "later")
    elif change == "damaged note":
        _edit_text(project, "c01.md", "again")
        for note in (project / ".site-builder/cache").glob("shortcut-*.pickle"):
            note.write_bytes(note.read_bytes()[:100])
    _build(project)
    assert len(full_builds) == 2
    fresh = _clean_copy(project)
    assert {k: v[2] for k, v in snapshot(project / "dist").items()} == fresh


def test_a_title_changed_and_changed_back_is_seen(
    project: Path, write_case: Callable[..., Path], full_builds: list[int]
) -> None:
    # A full build keeps the last note's face of every file it finds unchanged: never of one it finds changed.
    _many(write_case)
    _build(project)
    path = project / "cases/c01.md"
    original = path.read_text(encoding="utf-8")
    path.write_text(original.replace('title: "', 'title: "New ', 1), encoding="utf-8")
    _settled(path.parent)
    _build(project)
    assert len(full_builds) == 2
    path.write_text(original.replace("paid for it", "paid for it after all"), encoding="utf-8")
    _settled(path.parent)
    _build(project)
    assert len(full_builds) == 3, "the old title is back: the list pages must be built again"
    assert {k: v[2] for k, v in snapshot(project / "dist").items()} == _clean_copy(project)


def test_leaflets_of_a_text_edit(project: Path, write_case: Callable[..., Path], full_builds: list[int]) -> None:
    # Leaflets only, and a booklet of the cases since March 3: the others are shown whole nowhere else.
    for day in range(1, 5):
        write_case(f"l{day}.md", case_text(title=f"Leaflet {day}", date=f"2026-03-0{day}"))
    _settled(project / "cases")
    command = ["leaflets", "--since", "2026-03-03", "--jobs", "2"]
    assert CliRunner().invoke(main, command, catch_exceptions=False).exit_code == 0
    before = snapshot(project / "dist/leaflets")
    _edit_text(project, "l1.md", "the same day")
    result = CliRunner().invoke(main, command, catch_exceptions=False)
    assert result.exit_code == 0 and "5 files, 1 new or changed" in result.output
    assert len(full_builds) == 1
    after = snapshot(project / "dist/leaflets")
    assert sorted(k for k in after if after[k][1] != before[k][1]) == ["l1.pdf"]
    shutil.rmtree(project / ".site-builder")
    shutil.rmtree(project / "dist")
    assert CliRunner().invoke(main, command, catch_exceptions=False).exit_code == 0
    assert {k: v[2] for k, v in snapshot(project / "dist/leaflets").items()} == {k: v[2] for k, v in after.items()}


def test_an_edit_of_a_case_shown_whole_remakes_feed_digest_and_booklet(
    project: Path, write_case: Callable[..., Path], full_builds: list[int]
) -> None:
    # Every output: the newest cases are in the feed, the digest (from February 20) and the booklet.
    for i in range(6):
        write_case(f"w{i}.md", case_text(title=f"Whole {i}", date=f"2025-02-{18 + i:02d}"))
    _settled(project / "cases")
    command = ["build", "--now", "2026-04-01", "--since", "2025-02-20", "--until", "2025-03-31", "--no-search"]
    assert CliRunner().invoke(main, [*command, "--jobs", "2"], catch_exceptions=False).exit_code == 0
    before = snapshot(project / "dist")
    _edit_text(project, "w5.md", "and more")  # the newest: in the feed, the digest and the booklet
    _edit_text(project, "w0.md", "long ago")  # in the feed only: no leaflet of it in the booklet
    result = CliRunner().invoke(main, [*command, "--jobs", "2"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert len(full_builds) == 1, "an edit of text shown whole should not load every case"
    after = snapshot(project / "dist")
    changed = {k for k in after if after[k][1] != before[k][1]}
    for name in ("site/feed.xml", "site/cases/w5/index.html", "site/cases/w0/index.html", "leaflets/all.pdf"):
        assert name in changed, name
    assert {"leaflets/w5.pdf", "leaflets/w0.pdf", "site/leaflets/all.pdf"} <= changed
    assert not any(k.startswith("digest/") for k in changed)  # made again, but it shows no case text
    assert b"paid for it and more" in after["site/feed.xml"][2]
    clean = project / "clean"
    shutil.copytree(project, clean, ignore=shutil.ignore_patterns("dist", "clean", ".site-builder"))
    cwd = os.getcwd()
    os.chdir(clean)
    try:
        assert CliRunner().invoke(main, [*command, "--jobs", "1"], catch_exceptions=False).exit_code == 0
    finally:
        os.chdir(cwd)
    fresh = {k: v[2] for k, v in snapshot(clean / "dist").items()}
    assert [k for k, v in after.items() if fresh.get(k) != v[2]] == [] and after.keys() == fresh.keys()


STEPS = steps("edit", "edit", "edit", "retitle", "add", "delete", "template", "mail")


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
def test_shortcut_or_not_equals_clean_build(tmp_path_factory: Any, steps: list[tuple[str, int, int]]) -> None:
    # Enough cases that the oldest are in no feed and no digest: their text edits take the shortcut.
    project = Path(tmp_path_factory.mktemp("short"))
    (project / "cases").mkdir()
    for i in range(FEED + 3):
        (project / "cases" / f"c{i:02d}.md").write_text(case_text(title=f"Case {i}", date=_dated(i)), encoding="utf-8")
    _settled(project / "cases")
    cwd = os.getcwd()
    os.chdir(project)
    period = ("--since", "2025-02-20", "--until", "2026-03-31")  # the newest cases in the digest too
    try:
        _build(project, *period)
        for step in steps:
            # Among the three oldest cases (shown whole nowhere else) or the three newest (in the feed).
            apply(project, (step[0], step[1] % 3 if step[1] < 6 else -1 - step[1] % 3, step[2]))
            _build(project, *period)
            fresh = _clean_copy(project, *period)
            incremental = {k: v[2] for k, v in snapshot(project / "dist").items()}
            assert incremental.keys() == fresh.keys(), step
            assert [k for k in fresh if incremental[k] != fresh[k]] == [], step
    finally:
        os.chdir(cwd)


def test_a_cases_folder_gone_is_reported_not_a_crash(project: Path, write_case: Callable[..., Path]) -> None:
    _many(write_case, 3)
    _build(project)
    (project / "cases").rename(project / "old-cases")
    result = CliRunner().invoke(main, [*BUILD, "--no-search", "--jobs", "1"])
    assert (
        result.exit_code == 1
        and "old-cases" not in result.output
        and "cases: no such folder" in result.output
        and "Traceback" not in result.output
    )


def test_a_new_weasyprint_lays_the_leaflets_out_again(
    project: Path, write_case: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from site_builder.build import shortcut
    from site_builder.build.outputs import chosen
    from site_builder.build.request import BuildRequest
    from site_builder.digest.period import Period
    from site_builder.leaflets import compose as leaflet
    from site_builder.settings.config import load_settings

    day = dt.date(2026, 3, 1)
    request = BuildRequest(
        project / "cases", project / "dist", load_settings(None), Period(day, day), day, ("leaflets",)
    )
    before = shortcut.context(request, chosen(request.outputs))
    monkeypatch.setattr(leaflet, "version", lambda name: "999.0")
    assert shortcut.context(request, chosen(request.outputs)) != before
