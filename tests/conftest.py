"""Shared fixtures: tiny case folders written per test, and a CLI runner."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from playwright.sync_api import Browser, sync_playwright

from site_builder.cli import main
from tests.browser import CHROMIUM, CHROMIUM_ARGS, require
from tests.imap_server import DOVECOT, Dovecot, dovecot
from tests.smtp_server import Recorder, SmtpServer, free_port

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CASES = ROOT / "cases"

VALID = """\
---
title: "{title}"
date: {date}
received: 2026-03-01
resolved: 2026-03-03
industry: hotels
tags: [booking, apology]
costs: [time, emotional]
compensation: "A free night"
language: {language}
{extra}---

## Problem

The room was {word} gone when the guests arrived. They had driven 400 miles.

## Cause

A booking was cancelled by mistake.

## Fix

We found a room in town and paid for it.

## Thanks

Thank you to our customer for telling us.
"""


def case_text(
    title: str = "A room was gone",
    date: str = "2026-03-05",
    language: str = "en",
    extra: str = "",
    word: str = "simply",
) -> str:
    """A valid case file's text with a few fields changeable."""
    return VALID.format(title=title, date=date, language=language, extra=extra, word=word)


# The secret of the unsubscribe tokens, as the digest workflow has it: set for the whole session
# (module-scoped builds compared with a test's own must see the same), so a developer's own never
# counts; a test of its absence removes it with its own monkeypatch.
SECRET = "test-secret-4f1d9a"


@pytest.fixture(scope="session", autouse=True)
def unsubscribe_secret() -> Iterator[bytes]:
    """SITE_BUILDER_UNSUBSCRIBE_SECRET set to SECRET; the secret as bytes."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SITE_BUILDER_UNSUBSCRIBE_SECRET", SECRET)
        yield SECRET.encode("utf-8")


@pytest.fixture(scope="session")
def drawn_cards(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder of drawn social cards for the whole session (see `share_cards`)."""
    return tmp_path_factory.mktemp("drawn-cards")


def share_cards(root: Path, drawn: Path) -> None:
    """Let the project at `root` keep its drawn cards in the session's folder. A card's key holds all
    it is drawn from, so projects can share them: the sample site's 87 cards are drawn once a
    session, not by every test that builds it (4 minutes more for test_site.py alone). Tests of
    when a card is drawn remove the link first."""
    cache = root / ".site-builder/cache"
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "cards").symlink_to(drawn, target_is_directory=True)


def tool_state(root: Path) -> list[str]:
    """What the tool keeps in `root`'s .site-builder/, but the session's shared cards linked there."""
    state = root / ".site-builder"
    shared = state / "cache" / "cards"
    kept = [p for p in state.rglob("*") if p != shared and not p.is_relative_to(shared)]
    return sorted(str(p.relative_to(root)) for p in kept if not (p.is_dir() and shared.is_relative_to(p)))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, drawn_cards: Path) -> Path:
    """An empty project folder, made the working directory, sharing the session's drawn cards."""
    (tmp_path / "cases").mkdir()
    share_cards(tmp_path, drawn_cards)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def sample_project(project: Path) -> Path:
    """A project holding a copy of the repository's sample cases and site.toml."""
    shutil.rmtree(project / "cases")
    shutil.copytree(SAMPLE_CASES, project / "cases")
    shutil.copy(ROOT / "site.toml", project / "site.toml")
    return project


@pytest.fixture
def write_case(project: Path) -> Callable[..., Path]:
    """Write a case file under cases/ and return its path (relative, as the CLI shows it)."""

    def write(name: str, text: str | bytes) -> Path:
        path = Path("cases") / name
        (project / path).parent.mkdir(parents=True, exist_ok=True)
        data = text.encode("utf-8") if isinstance(text, str) else text
        (project / path).write_bytes(data)
        return path

    return write


@pytest.fixture
def cli() -> Callable[..., Result]:
    """Run the command line in-process and return the result."""
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(main, list(args), catch_exceptions=False)

    return run


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright (no browser is downloaded)."""
    require(CHROMIUM, "Debian's chromium")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on loopback for the length of one test."""
    server = SmtpServer(free_port(), Recorder())
    server.start()
    yield server
    server.recorder.release.set()
    server.stop()


@pytest.fixture(scope="session")
def imap() -> Iterator[Dovecot]:
    """A real IMAP server (Debian's Dovecot) on loopback for the whole session; each test uses a user of its own."""
    require(DOVECOT, "Debian's dovecot-imapd")
    with dovecot() as server:
        yield server


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """In CI (`CI` set, as scripts/test sets it) a skipped test fails: nothing may go untested there."""
    report = yield
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.longrepr = f"skipped, and CI allows no skips: {reason}"
    return report


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The templates of the site pages rendered from now on, one entry per page."""
    from site_builder.website.pages import SiteRenderer

    used: list[str] = []
    real = SiteRenderer._render_page

    def counting(self: SiteRenderer, name: str, *args: Any) -> bytes:
        used.append(name)
        return real(self, name, *args)

    monkeypatch.setattr(SiteRenderer, "_render_page", counting)
    return used
