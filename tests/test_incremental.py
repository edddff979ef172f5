"""Incremental builds: unchanged files are not rewritten, damaged caches are ignored, and after any
sequence of edits the output is byte-identical to a clean build of the same input."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from site_builder.cli import main
from site_builder.digest.ledger import Ledger
from site_builder.digest.period import Period
from site_builder.website import search
from tests.conftest import ROOT, case_text
from tests.smtp_server import SmtpServer

BUILD = (
    "build",
    "--only",
    "site",
    "--only",
    "digest",
    "--now",
    "2026-04-01",
    "--since",
    "2026-03-01",
    "--until",
    "2026-03-31",
)


def build(project: Path, out: str = "dist", *extra: str) -> str:
    """Build `project` into `project/out`; the build must succeed. What it printed."""
    args = [*BUILD, "--cases", str(project / "cases"), "--out", str(project / out), "--jobs", "1", *extra]
    config = project / "site.toml"
    if config.exists():
        args += ["--config", str(config)]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def snapshot(folder: Path) -> dict[str, tuple[int, int, bytes]]:
    """Each file: inode, mtime and bytes."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            stat = path.stat()
            found[path.relative_to(folder).as_posix()] = (stat.st_ino, stat.st_mtime_ns, path.read_bytes())
    return found


def test_no_change_rebuild_rewrites_nothing(project: Path, write_case: Callable[..., Path]) -> None:
    for day in range(1, 4):
        write_case(f"c{day}.md", case_text(title=f"Case {day}", date=f"2026-03-0{day}"))
    build(project)
    before = snapshot(project / "dist")
    build(project)
    assert snapshot(project / "dist") == before  # same inodes and mtimes: nothing rewritten


def test_editing_one_case_rewrites_only_what_shows_it(project: Path, write_case: Callable[..., Path]) -> None:
    for day in range(1, 4):
        write_case(f"c{day}.md", case_text(title=f"Case {day}", date=f"2026-03-0{day}"))
    build(project)
    before = snapshot(project / "dist/site")
    path = project / "cases/c2.md"
    path.write_text(path.read_text(encoding="utf-8").replace("paid for it", "paid for it at once"), encoding="utf-8")
    build(project)
    after = snapshot(project / "dist/site")
    changed = {name for name in after if before.get(name) != after[name]}
    assert "cases/c2/index.html" in changed and "feed.xml" in changed
    assert "cases/c1/index.html" not in changed and "cases/c3/index.html" not in changed
    assert "index.html" not in changed  # the card shows the summary, which did not change
    assert "static/style.css" not in changed


def test_damaged_caches_are_ignored(project: Path, write_case: Callable[..., Path]) -> None:
    write_case("c1.md", case_text(title="Case 1", date="2026-03-01"))
    build(project)
    for path in (project / ".site-builder").rglob("*"):
        if path.is_file():
            path.write_bytes(b"\x80garbage")
    path = project / "cases/c1.md"
    path.write_text(path.read_text(encoding="utf-8").replace("Case 1", "Case One"), encoding="utf-8")
    build(project)
    assert "Case One" in (project / "dist/site/cases/c1/index.html").read_text(encoding="utf-8")


def test_output_edited_by_hand_is_replaced(project: Path, write_case: Callable[..., Path]) -> None:
    write_case("c1.md", case_text(title="Case 1", date="2026-03-01"))
    build(project)
    page = project / "dist/site/cases/c1/index.html"
    page.write_text("tampered", encoding="utf-8")
    build(project)
    assert "Case 1" in page.read_text(encoding="utf-8")


def test_unchanged_case_files_are_not_read_again(
    project: Path, write_case: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    for day in range(1, 13):
        path = write_case(f"c{day}.md", case_text(title=f"Case {day}", date=f"2026-03-{day:02}"))
        an_hour_ago = time.time() - 3600
        os.utime(path, (an_hour_ago, an_hour_ago))  # older than the two seconds a fresh mtime is distrusted
    build(project)
    reads: list[str] = []
    original = Path.read_bytes

    def counting(self: Path) -> bytes:
        if self.suffix == ".md":
            reads.append(self.name)
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", counting)
    build(project)
    assert reads == [], "same size, mtime and inode: not read"
    edited = project / "cases/c5.md"
    edited.write_text(edited.read_text(encoding="utf-8").replace("Case 5", "Case Five"), encoding="utf-8")
    build(project)
    assert set(reads) == {"c5.md"}
    assert (project / ".site-builder/cache/cases.journal").is_file(), "one changed entry is appended, not all"
    assert "Case Five" in (project / "dist/site/cases/c5/index.html").read_text(encoding="utf-8")
    journal = project / ".site-builder/cache/cases.journal"
    journal.write_bytes(journal.read_bytes()[:-20])  # cut short, as by a crash
    edited.write_text(edited.read_text(encoding="utf-8").replace("Case Five", "Case V"), encoding="utf-8")
    build(project)
    assert "Case V" in (project / "dist/site/cases/c5/index.html").read_text(encoding="utf-8")
    assert "Case V" in (project / "dist/site/index.html").read_text(encoding="utf-8")


def _spares(project: Path) -> list[Path]:
    return sorted((project / ".site-builder/cache/spare").glob("site-*"))


def test_the_previous_output_is_refreshed_not_rebuilt(project: Path, write_case: Callable[..., Path]) -> None:
    for day in range(1, 5):
        write_case(f"c{day}.md", case_text(title=f"Case {day}", date=f"2026-03-0{day}"))
    build(project)
    untouched = (project / "dist/site/cases/c1/index.html").stat().st_ino  # c1 does not link to c4
    path = project / "cases/c4.md"
    for before, after in (("Case 4", "Case Second"), ("Case Second", "Case Third")):
        path.write_text(path.read_text(encoding="utf-8").replace(before, after), encoding="utf-8")
        build(project)
        assert (project / "dist/site/cases/c1/index.html").stat().st_ino == untouched
    (project / "cases/c3.md").unlink()
    build(project)
    site = project / "dist/site"
    assert not (site / "cases/c3").exists(), "a deleted case's folder goes"
    assert "Case Third" in (site / "cases/c4/index.html").read_text(encoding="utf-8")
    # The output before the live one is kept for the next build to bring up to date.
    [spare] = _spares(project)
    assert "Case Third" in (spare / "cases/c4/index.html").read_text(encoding="utf-8")
    assert (spare / "cases/c3/index.html").exists()


def test_a_spare_left_by_a_crash_is_not_trusted(project: Path, write_case: Callable[..., Path]) -> None:
    for day in range(1, 3):
        write_case(f"c{day}.md", case_text(title=f"Case {day}", date=f"2026-03-0{day}"))
    build(project)
    path = project / "cases/c2.md"
    path.write_text(path.read_text(encoding="utf-8").replace("Case 2", "Case Two"), encoding="utf-8")
    build(project)
    # As if a build died while refreshing the spare: its list is gone, debris is in it.
    [spare] = _spares(project)
    for listing in (project / ".site-builder/cache").glob("manifest-*-spare.json"):
        listing.unlink()
    (spare / "debris.html").write_text("half-written", encoding="utf-8")
    (spare / "cases/c1/index.html").unlink()
    path.write_text(path.read_text(encoding="utf-8").replace("Case Two", "Case 2"), encoding="utf-8")
    build(project)
    clean = project / "clean"
    shutil.copytree(project, clean, ignore=shutil.ignore_patterns("dist", ".site-builder"))
    build(clean)
    assert not (project / "dist/site/debris.html").exists()
    assert {k: v[2] for k, v in snapshot(project / "dist").items() if "/pagefind/" not in k} == {
        k: v[2] for k, v in snapshot(clean / "dist").items() if "/pagefind/" not in k
    }


TEMPLATE_EDITS = ["<!-- one -->", "<!-- two -->"]


def _indexed(site: Path) -> int:
    """How many pages the search index holds."""
    entry = json.loads((site / "pagefind/pagefind-entry.json").read_text(encoding="utf-8"))
    return int(entry["languages"]["en"]["page_count"])


def apply(project: Path, step: tuple[str, int, int]) -> None:
    """One random change to the project."""
    action, a, b = step
    cases = sorted((project / "cases").glob("*.md"))
    if action == "add" or not cases:
        name = f"n{a}-{b}.md"
        (project / "cases" / name).write_text(
            case_text(title=f"New {a} {b}", date=f"2026-03-{1 + (a * 7 + b) % 28:02d}"), encoding="utf-8"
        )
    elif action == "edit":
        path = cases[a % len(cases)]
        path.write_text(path.read_text(encoding="utf-8").replace("paid for it", f"paid for it {b}"), encoding="utf-8")
    elif action == "retitle":
        path = cases[a % len(cases)]
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace('title: "', f'title: "T{b} ', 1), encoding="utf-8")
    elif action == "rename":
        path = cases[a % len(cases)]
        path.rename(path.with_name(f"r{a}-{b}.md"))
    elif action == "delete":
        cases[a % len(cases)].unlink()
    elif action == "template":
        override = project / "theme-overrides/site"
        override.mkdir(parents=True, exist_ok=True)
        base = (ROOT / "theme/site/404.html").read_text(encoding="utf-8")
        (override / "404.html").write_text(base + TEMPLATE_EDITS[b % 2], encoding="utf-8")
    elif action == "settings":
        (project / "site.toml").write_text(f'title = "Fixed things {b}"\nper_page = {2 + b % 3}\n', encoding="utf-8")
    elif action == "translate":  # a Russian or Danish version of an English case: a story in two languages
        english = [c for c in cases if "language: en" in c.read_text(encoding="utf-8")]
        if english:
            path = english[a % len(english)]
            text = path.read_text(encoding="utf-8")
            if "translation_key:" not in text:
                text = text.replace("language: en", f"translation_key: {path.stem}\nlanguage: en")
                path.write_text(text, encoding="utf-8")
            key = text.split("translation_key: ", 1)[1].split("\n", 1)[0]
            language, headings = (("ru", RU_HEADINGS), ("da", DA_HEADINGS))[b % 2]
            version = text.replace("language: en", f"language: {language}").replace(
                'title: "', f'title: "{language} ', 1
            )
            for english_heading, heading in headings.items():
                version = version.replace(english_heading, heading)
            told = [c.read_text(encoding="utf-8") for c in cases]
            if not any(f"\ntranslation_key: {key}\n" in t and f"\nlanguage: {language}\n" in t for t in told):
                (project / "cases" / f"{key}-{language}.md").write_text(version, encoding="utf-8")
    elif action == "rekey":  # a version leaves its story, or a story gets another key
        keyed = [c for c in cases if "translation_key:" in c.read_text(encoding="utf-8")]
        if keyed:
            path = keyed[a % len(keyed)]
            lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
            unkeyed = [line for line in lines if not line.startswith("translation_key:")]
            if b % 2:  # a key of its own, which no other case has
                unkeyed.insert(1, f"translation_key: own-{path.stem}\n")
            path.write_text("".join(unkeyed), encoding="utf-8")
    elif action == "send":  # a digest sent (b % 3 == 0: refused for everyone, so nobody got it)
        period = Period(dt.date(2026, 3, 1 + a), dt.date(2026, 3, 1 + a + b))
        with Ledger(project / LEDGER) as ledger:
            ledger.claim(period.key, f"p{a}{b}@example.com", f"<{a}-{b}@example.com>", period.until)
            if b % 3:
                ledger.mark_sent(period.key, f"p{a}{b}@example.com", [])
            else:
                ledger.mark(period.key, f"p{a}{b}@example.com", "failed", "550 no such user")
    elif action == "mail":  # the mail server (shown by no output) and the digest's length (shown by the digest)
        config = project / "site.toml"
        kept = config.read_text(encoding="utf-8").split("[smtp]")[0] if config.exists() else ""
        mail = f'[smtp]\nhost = "mail{a}.example"\n[digest]\nmax_cases = {1 + b % 3}\n'
        config.write_text(kept + mail, encoding="utf-8")


def steps(*actions: str) -> st.SearchStrategy[list[tuple[str, int, int]]]:
    """Short random sequences of `apply` steps drawn from `actions` (repeat one to make it likelier)."""
    return st.lists(st.tuples(st.sampled_from(actions), st.integers(0, 9), st.integers(0, 9)), min_size=1, max_size=4)


STEPS = steps(
    "add", "edit", "retitle", "rename", "delete", "template", "settings", "mail", "translate", "translate", "rekey",
    "send",
)  # fmt: skip
LEDGER = ".site-builder/sent.sqlite"
RU_HEADINGS = {"## Problem": "## Проблема", "## Cause": "## Причина", "## Fix": "## Решение", "## Thanks": "## Спасибо"}
DA_HEADINGS = {"## Cause": "## Årsag", "## Fix": "## Løsning", "## Thanks": "## Tak"}


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
def test_incremental_equals_clean_build(tmp_path_factory: object, steps: list[tuple[str, int, int]]) -> None:
    project = Path(tmp_path_factory.mktemp("prop"))  # type: ignore[attr-defined]
    (project / "cases").mkdir()
    for day in range(1, 4):
        (project / "cases" / f"c{day}.md").write_text(
            case_text(title=f"Case {day}", date=f"2026-03-0{day}"), encoding="utf-8"
        )
    cwd = os.getcwd()
    os.chdir(project)
    try:
        build(project)
        for step in steps:
            apply(project, step)
            build(project)
            shutil.rmtree(project / "clean", ignore_errors=True)
            shutil.rmtree(project / ".clean-cache", ignore_errors=True)
            clean = project / "clean-project"
            shutil.rmtree(clean, ignore_errors=True)
            shutil.copytree(project, clean, ignore=shutil.ignore_patterns("dist", "clean*", ".site-builder"))
            if (project / LEDGER).exists():  # the digests sent: input, unlike the rest of .site-builder/
                (clean / LEDGER).parent.mkdir()
                shutil.copy(project / LEDGER, clean / LEDGER)
            build(clean, "dist")
            # Pagefind names its files differently on every run, even for the same pages: its index is
            # compared by the pages it holds, everything else byte by byte.
            incremental = {k: v[2] for k, v in snapshot(project / "dist").items() if "/pagefind/" not in k}
            fresh = {k: v[2] for k, v in snapshot(clean / "dist").items() if "/pagefind/" not in k}
            assert _indexed(project / "dist/site") == _indexed(clean / "dist/site"), step
            assert incremental.keys() == fresh.keys(), step
            differing = [k for k in fresh if incremental[k] != fresh[k]]
            assert differing == [], (step, differing)
    finally:
        os.chdir(cwd)


def _index_contents(site: Path) -> list[tuple[str, str, str]]:
    """Every page the search index holds over all bundles: URL, text and filters (a page twice: twice)."""
    found = []
    for fragment in site.glob("pagefind*/fragment/*.pf_fragment"):
        data = json.loads(gzip.decompress(fragment.read_bytes())[len(b"pagefind_dcd") :])
        found.append((data["url"], data["content"], json.dumps(data["filters"], sort_keys=True)))
    return sorted(found)


def _clean_site(project: Path) -> Path:
    clean = project / "clean-project"
    shutil.rmtree(clean, ignore_errors=True)
    shutil.copytree(project, clean, ignore=shutil.ignore_patterns("dist", "clean*", ".site-builder"))
    build(clean, "dist")
    return clean / "dist/site"


def test_search_indexes_again_only_the_bundle_of_an_edited_case(
    project: Path, write_case: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "SHARD", 2)  # 8 cases: the newest 2 in a bundle, then 3 more: as 8,000 would make
    monkeypatch.setattr(search, "FRESH", 2)
    for day in range(1, 9):
        write_case(f"c{day}.md", case_text(title=f"Case {day}", date=f"2026-03-0{day}"))
    build(project)
    site = project / "dist/site"
    newest = json.loads((site / search.BUNDLES).read_text())["newest"]
    groups = search.bundles(search.case_pages(site), newest)
    assert newest and search.NEWEST in groups  # the newest cases have a bundle of their own
    assert len(groups) > 1 and sorted(json.loads((site / search.BUNDLES).read_text())["merge"]) == sorted(
        name for name in groups if name != "pagefind"
    )
    before = {name: (site / name / "pagefind-entry.json").stat().st_ino for name in groups}
    path = project / "cases/c3.md"
    path.write_text(path.read_text(encoding="utf-8").replace("paid for it", "paid for it twice"), encoding="utf-8")
    build(project)
    after = {name: (site / name / "pagefind-entry.json").stat().st_ino for name in groups}
    edited = next(name for name, pages in groups.items() if "cases/c3/index.html" in pages)
    assert [name for name in groups if after[name] != before[name]] == [edited]
    assert any("paid for it twice" in text for _, text, _ in _index_contents(site))
    assert _index_contents(site) == _index_contents(_clean_site(project))
    # Next build: its folder is the one of the build before last, with the edited bundle as it was
    # before the edit; that one must be replaced, the others are kept as they are.
    other = next(day for day in range(1, 9) if f"cases/c{day}/index.html" not in groups[edited])
    path = project / f"cases/c{other}.md"
    path.write_text(path.read_text(encoding="utf-8").replace("paid for it", "paid for it thrice"), encoding="utf-8")
    build(project)
    last = {name: (site / name / "pagefind-entry.json").stat().st_ino for name in groups}
    second = next(name for name, pages in groups.items() if f"cases/c{other}/index.html" in pages)
    assert [name for name in groups if last[name] != after[name]] == [second]
    assert _index_contents(site) == _index_contents(_clean_site(project))
    # The newest case, the one most often edited: its small bundle alone is indexed again.
    assert groups[search.NEWEST] == ["cases/c7/index.html", "cases/c8/index.html"]
    path = project / "cases/c8.md"
    path.write_text(path.read_text(encoding="utf-8").replace("paid for it", "paid for it at last"), encoding="utf-8")
    build(project)
    final = {name: (site / name / "pagefind-entry.json").stat().st_ino for name in groups}
    assert [name for name in groups if final[name] != last[name]] == [search.NEWEST]
    assert _index_contents(site) == _index_contents(_clean_site(project))


@pytest.mark.parametrize("change", ["bundle size", "delete", "add", "search off and on"])
def test_search_bundles_equal_a_clean_build(
    project: Path, write_case: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    monkeypatch.setattr(search, "SHARD", 3)
    for day in range(1, 9):
        write_case(f"c{day}.md", case_text(title=f"Case {day}", date=f"2026-03-0{day}"))
    build(project)
    path = project / "cases/c4.md"
    path.write_text(path.read_text(encoding="utf-8").replace("paid for it", "paid for it again"), encoding="utf-8")
    if change == "bundle size":  # a new version of the tool with other bundles: nothing stale, nothing twice
        monkeypatch.setattr(search, "SHARD", 2)
    elif change == "delete":
        (project / "cases/c2.md").unlink()
    elif change == "add":
        write_case("c9.md", case_text(title="Case 9", date="2026-03-09"))
    else:  # a build without search in between: its folder, reused later, must not keep old bundles
        build(project, "dist", "--no-search")
        assert not list((project / "dist/site").glob("pagefind*"))
        build(project)
        path.write_text(path.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    build(project)
    contents = _index_contents(project / "dist/site")
    assert len(contents) == len({url for url, _, _ in contents}), "a page in two bundles"
    assert contents == _index_contents(_clean_site(project))


def _tree_bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _fake_pagefind(tmp_path: Path, script: str) -> Path:
    fake = tmp_path / "fake-pagefind"
    fake.write_text(f"#!/bin/sh\n{script}\n", encoding="utf-8")
    fake.chmod(0o755)
    return fake


def test_pagefind_failing_is_named_and_nothing_changes(
    project: Path, write_case: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    write_case("room.md", case_text(title="Room"))
    build(project)
    before = _tree_bytes(project / "dist")
    write_case("room.md", case_text(title="Room, again"))
    fake = _fake_pagefind(tmp_path, 'echo "Error: cannot read the pages" >&2; exit 3')
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(fake))
    result = CliRunner().invoke(main, [*BUILD, "--jobs", "1"])
    assert result.exit_code == 1, result.output
    assert "Search index error: Pagefind could not index the pages of pagefind/: Error: cannot read the pages" in (
        result.output
    )
    assert "Traceback" not in result.output
    assert _tree_bytes(project / "dist") == before
    assert not list(project.glob("**/.pages-*")), "Pagefind's staging folder left behind"


def test_a_failure_while_pagefind_runs_stops_it(
    project: Path, write_case: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from site_builder.leaflets import compose as leaflet_module
    from site_builder.leaflets import pdf as pdf_module

    write_case("room.md", case_text(title="Room"))
    pid_file = tmp_path / "pagefind.pid"
    # Pagefind starts before the leaflets are collected; one that would take a minute must be stopped.
    fake = _fake_pagefind(tmp_path, f"echo $$ > {pid_file}; exec sleep 60")
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(fake))

    def failing(job: tuple[str, float, bool]) -> bytes:
        raise ValueError("no room for the table")

    monkeypatch.setattr(pdf_module, "pdf_from_html", failing)
    monkeypatch.setattr(leaflet_module, "pdf_from_html", failing)
    started = time.monotonic()
    result = CliRunner().invoke(main, ["build", "--jobs", "1"])
    assert result.exit_code == 1 and "Leaflet error: " in result.output, result.output
    assert time.monotonic() - started < 30
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # stopped and reaped, not left running
    # Nothing half built: only the tool's own folder, with no staging folder left in it.
    assert [p.name for p in (project / "dist").iterdir()] == [".site-builder-output"]
    assert not list((project / "dist/.site-builder-output").iterdir()), "a half-built output left"
    assert not list(project.glob("**/.pages-*"))


@pytest.mark.parametrize("how", ["not installed", "cannot start"])
def test_pagefind_missing_is_named_and_leaves_nothing(
    project: Path, write_case: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    import pagefind.service

    write_case("room.md", case_text(title="Room"))
    build(project)
    write_case("room.md", case_text(title="Room, again"))
    build(project)  # from now on each build reuses the spare folder, where Pagefind's pages are staged
    before = _tree_bytes(project / "dist")
    write_case("room.md", case_text(title="Room, once more"))
    if how == "not installed":
        monkeypatch.setattr(pagefind.service, "get_executable", lambda: None)
    else:
        monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(project / "no-such-pagefind"))
    result = CliRunner().invoke(main, [*BUILD, "--jobs", "1"])
    assert result.exit_code == 1, result.output
    expected = "Pagefind is not installed" if how == "not installed" else "Pagefind could not be started"
    assert f"Search index error: {expected}" in result.output and "Traceback" not in result.output
    assert _tree_bytes(project / "dist") == before
    assert not list(project.glob("**/.pages-*")), "Pagefind's staging folder left behind"


def test_an_interrupt_while_waiting_for_pagefind_stops_it(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import signal

    site = project / "site"
    (site / "cases/room").mkdir(parents=True)
    (site / "cases/room/index.html").write_text("<html><body data-pagefind-body>Room</body></html>")
    pid_file = tmp_path / "pagefind.pid"
    fake = _fake_pagefind(tmp_path, f"echo $$ > {pid_file}; exec sleep 60")
    indexing = search.Indexing(site, "en")
    indexing.queue("pagefind", ["cases/room/index.html"])
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(fake))
    indexing.next()
    while not pid_file.exists() or not pid_file.read_text().strip():
        time.sleep(0.05)

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.3)  # Ctrl-C, or a supervisor's SIGINT, while the build waits
    try:
        with pytest.raises(KeyboardInterrupt):
            indexing.wait()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)  # killed and reaped
    assert not list(project.glob("**/.pages-*"))


def _without_index(folder: Path) -> dict[str, bytes]:
    """Every file's bytes but Pagefind's, which it names differently on every run (its index is
    compared by content elsewhere)."""
    return {name: data for name, data in _tree_bytes(folder).items() if "pagefind" not in name}


@pytest.mark.parametrize(
    ("template", "made_again"),
    [
        ("_charts.html", {"stats.html"}),
        ("404.html", {"404.html"}),
        ("_macros.html", {"case.html", "changes.html", "index.html", "list.html"}),
        ("base.html", {"404.html", "case.html", "changes.html", "index.html", "list.html", "stats.html", "terms.html"}),
    ],
)
def test_a_template_change_makes_again_only_the_pages_made_from_it(
    project: Path, write_case: Callable[..., Path], rendered: list[str], template: str, made_again: set[str]
) -> None:
    for day in range(1, 4):
        write_case(f"c{day}.md", case_text(title=f"Case {day}", date=f"2026-03-0{day}"))
    build(project)
    rendered.clear()
    override = project / "theme-overrides/site" / template
    override.parent.mkdir(parents=True)
    override.write_text((ROOT / "theme/site" / template).read_text(encoding="utf-8") + "{# changed #}\n")
    build(project)
    assert set(rendered) == made_again
    assert _without_index(project / "dist") == _without_index(_clean_site(project).parent)


def test_a_changed_stylesheet_is_copied_and_no_page_is_made_again(
    project: Path, write_case: Callable[..., Path], rendered: list[str]
) -> None:
    write_case("room.md", case_text(title="Room"))
    build(project)
    rendered.clear()
    override = project / "theme-overrides/site/static/style.css"
    override.parent.mkdir(parents=True)
    override.write_text("body { color: teal }\n", encoding="utf-8")
    build(project)
    assert (project / "dist/site/static/style.css").read_text(encoding="utf-8") == "body { color: teal }\n"
    assert rendered == []  # pages link the stylesheet by name: none of them changes


def test_the_newest_bundle_does_not_depend_on_the_last_listing(
    project: Path, write_case: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A shortcut build takes the newest pages from the last build's note, not from its output: a
    # listing from an older version, or edited by hand, must not change how the index is split.
    monkeypatch.setattr(search, "SHARD", 2)
    monkeypatch.setattr(search, "FRESH", 2)
    for day in range(1, 9):
        write_case(f"c{day}.md", case_text(title=f"Case {day}", date=f"2025-03-0{day}"))
    build(project)
    listing_file = project / "dist/site" / search.BUNDLES
    listing = json.loads(listing_file.read_text())
    del listing["newest"]
    listing_file.write_text(json.dumps(listing))
    path = project / "cases/c1.md"  # an old case: the shortcut
    path.write_text(path.read_text(encoding="utf-8").replace("paid for it", "paid for it anew"), encoding="utf-8")
    build(project)
    after = json.loads(listing_file.read_text())
    assert after["newest"] == ["cases/c7/index.html", "cases/c8/index.html"]
    assert search.NEWEST in after["merge"]
    assert _index_contents(project / "dist/site") == _index_contents(_clean_site(project))


def test_a_theme_showing_any_field_on_cards_is_kept_up_to_date(project: Path, write_case: Callable[..., Path]) -> None:
    # The built-in cards show a title, a summary, a date...; an override may show any other field.
    override = project / "theme-overrides/site/_macros.html"
    override.parent.mkdir(parents=True)
    card = '<article class="card" lang="{{ case.language }}">'
    macros = (ROOT / "theme/site/_macros.html").read_text(encoding="utf-8")
    override.write_text(macros.replace(card, card + '<p class="given">{{ case.compensation }}</p>', 1))
    for day in range(1, 4):
        write_case(f"c{day}.md", case_text(title=f"Case {day}", date=f"2026-03-0{day}"))
    build(project)
    assert b"A free night" in (project / "dist/site/index.html").read_bytes()
    path = project / "cases/c2.md"
    path.write_text(path.read_text(encoding="utf-8").replace("A free night", "Two free nights"), encoding="utf-8")
    build(project)
    assert b"Two free nights" in (project / "dist/site/index.html").read_bytes()
    assert _without_index(project / "dist") == _without_index(_clean_site(project).parent)


def changed_files(before: dict[str, tuple[int, int, bytes]], after: dict[str, tuple[int, int, bytes]]) -> set[str]:
    """Files written again (another inode or mtime), added or removed between two snapshots."""
    return {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}


def test_a_send_adds_its_page_and_an_unchanged_ledger_rewrites_nothing(
    project: Path, write_case: Callable[..., Path], smtp: SmtpServer
) -> None:
    (project / "site.toml").write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp.port}\nsecurity = "none"\n[company]\nemail = "care@acme.example"\n',
        encoding="utf-8",
    )
    for day in (2, 9, 20):
        write_case(f"c{day}.md", case_text(title=f"Case {day}", date=f"2026-03-{day:02}"))
    (project / "people.csv").write_text("email,name\nanna@example.com,Anna\n", encoding="utf-8")
    build(project)
    site = project / "dist/site"
    assert not (site / "digests").exists()

    def send(since: str, until: str) -> None:
        args = ["send", "--recipients", "people.csv", "--since", since, "--until", until]
        result = CliRunner().invoke(main, args, catch_exceptions=False)
        assert result.exit_code == 0 and "1 sent" in result.output, result.output

    send("2026-03-01", "2026-03-15")  # really sent, through the server
    before = snapshot(site)
    build(project)
    first = snapshot(site)
    assert (site / "digests/2026-03-15/index.html").is_file()
    # The first digest adds the archive's link to every page.
    assert {"digests/2026-03-15/index.html", "digests/index.html", "sitemap.xml"} <= changed_files(before, first)
    assert {name for name in changed_files(before, first) if name.endswith(".html")} == {
        name for name in first if name.endswith(".html")
    }
    output = build(project, "dist", "-v")
    assert "Plan: from the last build: nothing changed" in output, output
    assert snapshot(site) == first, "an unchanged ledger rewrites nothing"
    send("2026-03-16", "2026-03-31")
    output = build(project, "dist", "-v")
    assert "Plan: full: what the site shows (settings, theme, options) changed" in output, output
    second = snapshot(site)
    # The search index's listing is written again whenever the site is (same bytes): search.py's way.
    assert first[search.BUNDLES][2] == second[search.BUNDLES][2]
    assert changed_files(first, second) - {search.BUNDLES} == {
        "digests/2026-03-31/index.html",
        "digests/2026-03-31/card.png",  # its social card
        "digests/index.html",
        "sitemap.xml",
    }
    assert "Case 20" in (site / "digests/2026-03-31/index.html").read_text(encoding="utf-8")
    clean = project / "clean-project"
    shutil.copytree(project, clean, ignore=shutil.ignore_patterns("dist", ".site-builder"))
    (clean / LEDGER).parent.mkdir()
    shutil.copy(project / LEDGER, clean / LEDGER)
    build(clean)
    assert _without_index(project / "dist") == _without_index(clean / "dist")
