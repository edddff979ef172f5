"""The archive of the digests sent: a page for each digest in each language a reader had cases in,
the list of them, a link from every page, sitemap entries; read from the send ledger without
changing it, and a ledger that cannot be read never fails nor holds up a build."""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urljoin

import pytest
from click.testing import Result
from lxml import etree, html

from site_builder.digest.ledger import Ledger
from site_builder.digest.ledger_read import sent_periods
from site_builder.digest.period import Period
from site_builder.settings.config import load_settings
from site_builder.settings.i18n import translator
from tests.conftest import ROOT, case_text
from tests.smtp_server import SmtpServer
from tests.test_digest import parts
from tests.test_send import SEND, mail_project
from tests.test_site import HOSTILE_TITLE

__all__ = ["mail_project"]  # a fixture, used by name

BASE = "https://proof.example.com/"
SITE = ("build", "--only", "site", "--no-search", "--now", "2026-11-30")
LEDGER = ".site-builder/sent.sqlite"
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
HOMES = (("en", ""), ("ru", "ru/"), ("da", "da/"))


def record(ledger: Path, *digests: tuple[str, str, str], email: str = "anna@example.com") -> None:
    """Record each (since, until, status) digest for one person, as `send` does: "sent", "failed",
    or "sending" (claimed, never sent)."""
    with Ledger(ledger) as store:
        for since, until, status in digests:
            period = Period(dt.date.fromisoformat(since), dt.date.fromisoformat(until))
            store.claim(period.key, email, f"<{period.key}@example.com>", period.until)
            if status == "sent":
                store.mark_sent(period.key, email, [])
            elif status != "sending":
                store.mark(period.key, email, status, "550 no such user")


def page(site: Path, path: str) -> html.HtmlElement:
    """A built page, parsed."""
    return html.fromstring((site / path / "index.html" if not path.endswith(".html") else site / path).read_bytes())


def cards(doc: html.HtmlElement) -> list[tuple[str, str, str]]:
    """Each card on a page: its language, its link, and its language badge ("" when none)."""
    return [
        (
            card.get("lang"),
            card.xpath(".//a")[0].get("href"),
            " ".join(badge.text_content() for badge in card.xpath(".//span[@class='language']")),
        )
        for card in doc.xpath("//article[@class='card']")
    ]


def resolves(site: Path, at: str, href: str) -> bool:
    """Whether a link on the page at site path `at` leads to a page of the site."""
    target = urljoin(BASE + at, href).removeprefix(BASE)
    return (site / target / "index.html").is_file() if target.endswith("/") or not target else (site / target).is_file()


def archive_pages(site: Path) -> list[Path]:
    """Every page of the archive, in every language."""
    return sorted(p for p in site.rglob("index.html") if "digests" in p.relative_to(site).parts)


@pytest.fixture
def archived(sample_project: Path, cli: Callable[..., Result]) -> Path:
    """The sample site built with a ledger of four digests: two sent (July; October to 5 November),
    one that failed for everyone and one only claimed, never sent."""
    record(
        sample_project / LEDGER,
        ("2026-10-01", "2026-11-05", "sent"),
        ("2026-07-01", "2026-07-31", "sent"),
        ("2026-08-01", "2026-09-30", "failed"),
        ("2026-06-01", "2026-06-30", "sending"),
    )
    result = cli(*SITE)
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output
    return sample_project / "dist/site"


def test_each_digest_sent_has_a_page_in_each_language(archived: Path) -> None:
    settings = load_settings(ROOT / "site.toml")
    for language, home in HOMES:
        t = translator(language, settings)
        for until in ("2026-11-05", "2026-07-31"):
            doc = page(archived, f"{home}digests/{until}/")
            assert doc.get("lang") == language
            assert doc.xpath("//link[@rel='canonical']")[0].get("href") == f"{BASE}{home}digests/{until}/"
            day = dt.date.fromisoformat(until)
            assert doc.xpath("//h1")[0].text_content() == t("digest_subject", date=t.date(day))
            assert doc.xpath("//title")[0].text_content().startswith(t("digest_subject", date=t.date(day)))
            assert doc.xpath("//p[@class='lead']")[0].text_content() == t("digest_intro")
            for _, href, _ in cards(doc):
                assert resolves(archived, f"{home}digests/{until}/", href), href
        # Nobody got the digest that failed, nor the one only claimed: no page, in no language.
        assert not (archived / home / "digests/2026-09-30").exists()
        assert not (archived / home / "digests/2026-06-30").exists()
    ru = page(archived, "ru/digests/2026-11-05/")
    assert ru.xpath("//p[@class='period']")[0].text_content() == "1 октября 2026\u202fг. – 5 ноября 2026\u202fг."


def test_a_digest_page_shows_each_story_once_as_the_reader_got_it(archived: Path) -> None:
    # October to 5 November: the car seat story (English and Russian) and the taxi story (Russian only).
    assert cards(page(archived, "digests/2026-11-05/")) == [
        ("en", "../../cases/car-seat-in-stock/", ""),
        ("ru", "../../ru/cases/taksi-otchet-posle-nizkoy-otsenki/", "Russian"),
    ]
    assert cards(page(archived, "ru/digests/2026-11-05/")) == [
        ("ru", "../../../ru/cases/internet-magazin-net-v-nalichii/", ""),
        ("ru", "../../../ru/cases/taksi-otchet-posle-nizkoy-otsenki/", ""),
    ]
    # No Danish version: the site's language first (the digest's fallbacks), marked in Danish.
    assert cards(page(archived, "da/digests/2026-11-05/")) == [
        ("en", "../../../cases/car-seat-in-stock/", "engelsk"),
        ("ru", "../../../ru/cases/taksi-otchet-posle-nizkoy-otsenki/", "russisk"),
    ]
    # July: the wedding story, told in all three.
    for language, home in HOMES:
        [(lang, _, badge)] = cards(page(archived, f"{home}digests/2026-07-31/"))
        assert (lang, badge) == (language, "")


def test_the_list_of_digests_newest_first_with_period_and_cases(archived: Path) -> None:
    expected = {
        "en": [("October 1, 2026 – November 5, 2026", "2"), ("July 1, 2026 – July 31, 2026", "1")],
        "ru": [
            ("1 октября 2026\u202fг. – 5 ноября 2026\u202fг.", "2"),
            ("1 июля 2026\u202fг. – 31 июля 2026\u202fг.", "1"),
        ],
        "da": [("1. oktober 2026 – 5. november 2026", "2"), ("1. juli 2026 – 31. juli 2026", "1")],
    }
    for language, home in HOMES:
        doc = page(archived, f"{home}digests/")
        assert doc.get("lang") == language
        rows = doc.xpath("//table[@class='digests']/tbody/tr")
        assert [(row.xpath("th")[0].text_content(), row.xpath("td")[0].text_content()) for row in rows] == expected[
            language
        ]
        links = [row.xpath("th/a")[0].get("href") for row in rows]
        assert [urljoin(BASE + home + "digests/", href) for href in links] == [
            f"{BASE}{home}digests/2026-11-05/",
            f"{BASE}{home}digests/2026-07-31/",
        ]
        assert all(resolves(archived, f"{home}digests/", href) for href in links)


def test_every_page_links_the_list_of_its_language(archived: Path) -> None:
    settings = load_settings(ROOT / "site.toml")
    seen = 0
    for path in sorted(archived.rglob("*.html")):
        at = path.relative_to(archived).as_posix().removesuffix("index.html")
        doc = html.fromstring(path.read_bytes())
        language = doc.get("lang")
        home = "" if language == "en" else f"{language}/"
        [link] = doc.xpath("//footer//a[not(starts-with(@href, 'mailto:'))]")
        assert link.text_content() == translator(language, settings)("digests"), path
        assert urljoin(BASE + at, link.get("href")) == f"{BASE}{home}digests/", path
        seen += 1
    assert seen > 50


def test_the_sitemap_lists_the_archive_with_its_languages(archived: Path, cli: Callable[..., Result]) -> None:
    sitemap = etree.fromstring((archived / "sitemap.xml").read_bytes())
    listed = {
        url.xpath("s:loc", namespaces=NS)[0].text: {
            link.get("hreflang"): link.get("href") for link in url.xpath("x:link", namespaces=NS)
        }
        for url in sitemap.xpath("//s:url", namespaces=NS)
    }
    pages = archive_pages(archived)
    assert len(pages) == 9  # two digests and the list, in three languages
    for path in pages:
        loc = BASE + path.relative_to(archived).as_posix().removesuffix("index.html")
        doc = html.fromstring(path.read_bytes())
        own = {link.get("hreflang"): link.get("href") for link in doc.xpath("//head/link[@hreflang]")}
        assert listed[loc] == own and own[doc.get("lang")] == loc, loc
        assert set(own) == {"en", "ru", "da", "x-default"} and own["x-default"] == loc.replace("/ru/", "/").replace(
            "/da/", "/"
        )
        switcher = {a.get("hreflang"): a.get("href") for a in doc.xpath("//nav[@class='languages']//a")}
        assert all(resolves(archived, loc.removeprefix(BASE), href) for href in switcher.values())
    assert not any("2026-09-30" in loc or "2026-06-30" in loc for loc in listed)
    assert cli("check", "--links").exit_code == 0


def test_a_digest_only_in_other_languages_is_not_on_a_readers_page(
    sample_project: Path, cli: Callable[..., Result]
) -> None:
    # [digest] untranslated = "hide": a reader got only stories told in their language, and so does
    # the web copy; the site's own lists still show every story (their setting is the site's).
    config = sample_project / "site.toml"
    config.write_text(config.read_text().replace("max_cases = 20", 'max_cases = 20\nuntranslated = "hide"'))
    record(sample_project / LEDGER, ("2026-10-01", "2026-11-05", "sent"))
    assert cli(*SITE).exit_code == 0
    site = sample_project / "dist/site"
    assert cards(page(site, "digests/2026-11-05/")) == [("en", "../../cases/car-seat-in-stock/", "")]
    assert len(cards(page(site, "ru/digests/2026-11-05/"))) == 2
    assert not (site / "da/digests/2026-11-05").exists()  # no Danish reader had anything in it
    danish = page(site, "da/digests/")
    assert not danish.xpath("//table") and "Der er endnu ikke sendt nyhedsbreve" in danish.text_content()
    own = {link.get("hreflang") for link in page(site, "digests/2026-11-05/").xpath("//head/link[@hreflang]")}
    assert own == {"en", "ru", "x-default"}
    assert any(badge for _, _, badge in cards(page(site, "da/")))  # the Danish home still shows them
    assert cli("check", "--links").exit_code == 0


def test_no_ledger_no_archive(sample_project: Path, cli: Callable[..., Result]) -> None:
    assert cli(*SITE).exit_code == 0
    site = sample_project / "dist/site"
    assert not archive_pages(site) and b"digests/" not in (site / "sitemap.xml").read_bytes()
    assert not any(b"digests/" in p.read_bytes() for p in site.rglob("*.html"))
    assert not (sample_project / LEDGER).exists(), "looked at, never created"
    # A ledger in which nobody got anything is the same.
    record(sample_project / LEDGER, ("2026-10-01", "2026-11-05", "failed"))
    before = (sample_project / LEDGER).read_bytes()
    assert cli(*SITE).exit_code == 0
    assert not archive_pages(site) and not any(b"digests/" in p.read_bytes() for p in site.rglob("*.html"))
    assert (sample_project / LEDGER).read_bytes() == before


def test_two_digests_ending_on_one_day_share_its_page(sample_project: Path, cli: Callable[..., Result]) -> None:
    # A second send with another --since, ending on the same day: both emails link the same page,
    # which shows the cases of both.
    record(sample_project / LEDGER, ("2026-11-01", "2026-11-05", "sent"))
    record(sample_project / LEDGER, ("2026-10-01", "2026-11-05", "sent"), email="boris@example.com")
    assert cli(*SITE).exit_code == 0
    site = sample_project / "dist/site"
    doc = page(site, "digests/2026-11-05/")
    assert doc.xpath("//p[@class='period']")[0].text_content() == "October 1, 2026 – November 5, 2026"
    assert len(cards(doc)) == 2 and len(page(site, "digests/").xpath("//tbody/tr")) == 1


def test_untrusted_text_stays_text_and_no_customer_is_named_without_consent(
    project: Path, write_case: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    write_case("evil.md", case_text(title=HOSTILE_TITLE.replace('"', '\\"'), date="2026-03-04"))
    write_case("secret.md", case_text(title="Secret", date="2026-03-05", extra='customer: "Sven Secretson"\n'))
    write_case("named.md", case_text(title="Named", date="2026-03-06", extra='customer: "Olga Named"\nconsent: true\n'))
    record(project / LEDGER, ("2026-03-01", "2026-03-31", "sent"))
    assert cli("build", "--only", "site", "--no-search", "--now", "2026-04-01").exit_code == 0
    site = project / "dist/site"
    doc = page(site, "digests/2026-03-31/")
    assert HOSTILE_TITLE in [a.text_content() for a in doc.xpath("//h2[@class='card-title']/a")]
    for path in archive_pages(site):
        doc = html.fromstring(path.read_bytes())
        assert not doc.xpath("//script[not(@type='application/ld+json')][not(@src)]"), path
        assert not [name for element in doc.iter() for name in element.attrib if name.startswith("on")], path
        assert b"Sven Secretson" not in path.read_bytes() and b"Secretson" not in path.read_bytes()


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """site-builder in a process of its own, as a user runs it (the ledger's lock is another
    process's); a hang fails the test."""
    return subprocess.run(
        [sys.executable, "-m", "site_builder", *args], capture_output=True, text=True, timeout=120, check=False
    )


def warned(result: subprocess.CompletedProcess[str], *naming: str) -> str:
    """The build succeeded with one warning line naming the ledger and saying each of `naming`."""
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Traceback" not in output
    [line] = [line for line in output.splitlines() if LEDGER in line]
    assert line.startswith("warning: ") and all(text in line for text in naming), line
    return line


@contextmanager
def locked(ledger: Path) -> Iterator[None]:
    """The ledger held by another program so that nobody can even read it (an exclusive lock kept)."""
    other = sqlite3.connect(ledger, isolation_level=None)
    other.execute("PRAGMA locking_mode=EXCLUSIVE")
    other.execute("BEGIN EXCLUSIVE")
    other.execute("INSERT OR REPLACE INTO meta VALUES ('held', 'by another program')")
    other.execute("COMMIT")  # the lock stays: exclusive locking mode
    try:
        yield
    finally:
        other.close()


def snapshot(folder: Path) -> dict[str, tuple[int, int, bytes]]:
    """Each file: inode, mtime and bytes."""
    return {
        p.relative_to(folder).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns, p.read_bytes())
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_a_locked_or_damaged_ledger_keeps_the_archive_as_last_built(archived: Path, sample_project: Path) -> None:
    ledger = sample_project / LEDGER
    assert run(*SITE).returncode == 0  # in a process of its own from here on: nothing to do
    before = snapshot(archived)
    with locked(ledger):
        started = time.monotonic()
        result = run(*SITE)
        elapsed = time.monotonic() - started
    warned(result, "is locked", "the archive of sent digests is as the last build read it")
    assert elapsed < 10, "a build waits a second for the ledger, then goes on"
    assert snapshot(archived) == before, "nothing rewritten"
    good = ledger.read_bytes()
    ledger.write_bytes(b"garbage\n" * 100)  # damaged, or someone's copy went wrong
    warned(run(*SITE), "is not a send ledger", "as the last build read it")
    # The whole build too: the digest's first day is the day after the last digest it knew of.
    result = run("build", "--now", "2026-11-30", "--no-search", "--only", "site", "--only", "digest")
    warned(result)
    assert "no published cases from 2026-11-06 to 2026-11-30" in result.stdout
    assert snapshot(archived) == before
    assert ledger.read_bytes() == b"garbage\n" * 100, "only looked at"
    # What the last build read is kept sealed: damaged, it is not trusted, and the archive is empty.
    [kept] = [p for p in (sample_project / ".site-builder/cache/sent").rglob("*") if p.is_file()]
    kept.write_bytes(kept.read_bytes()[:-3] + b"9..")
    warned(run(*SITE), "no archive of sent digests")
    assert not archive_pages(archived) and not any(b"digests/" in p.read_bytes() for p in archived.rglob("*.html"))
    ledger.write_bytes(good)
    assert run(*SITE).returncode == 0
    assert len(archive_pages(archived)) == 9


def test_the_digests_sent_are_read_as_a_scan_of_every_row_would(tmp_path: Path) -> None:
    # sent_periods steps through the index from one digest to the next; a plain scan is the reference.
    ledger = tmp_path / "sent.sqlite"
    for i, status in enumerate(["failed", "sent", "sending", "deferred", "sent", "failed"]):
        record(ledger, ("2026-01-01", "2026-01-31", status), email=f"p{i}@example.com")  # sent by the second
    for i in range(3):
        record(ledger, ("2026-02-01", "2026-02-28", "failed"), email=f"p{i}@example.com")  # nobody got it
    record(ledger, ("2026-03-01", "2026-03-31", "sent"), ("2026-02-15", "2026-03-31", "sent"))
    with sqlite3.connect(ledger) as db:  # a name of an older tool's making: counted from its last day
        db.execute(
            "INSERT INTO deliveries (digest, email, status, message_id, until, updated) "
            "VALUES ('april', 'x@example.com', 'sent', '<x>', '2026-04-30', '')"
        )
        plain = db.execute("SELECT DISTINCT digest, until FROM deliveries WHERE status = 'sent'").fetchall()
    db.close()
    assert len(plain) == 4
    assert sent_periods(ledger) == (
        Period(dt.date(2026, 1, 1), dt.date(2026, 1, 31)),
        Period(dt.date(2026, 2, 15), dt.date(2026, 3, 31)),
        Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31)),
        Period(dt.date(2026, 4, 30), dt.date(2026, 4, 30)),
    )
    assert sent_periods(tmp_path / "none.sqlite") == () and not (tmp_path / "none.sqlite").exists()


def test_one_look_at_the_ledger_gives_the_archive_and_the_unfinished_digest(
    sample_project: Path, cli: Callable[..., Result]
) -> None:
    # A send began the digest to 5 November and stopped after one person: that person's page is in
    # the archive, and the build's digest is that one still (the next send finishes it), not the
    # month to today.
    period = Period(dt.date(2026, 10, 1), dt.date(2026, 11, 5))
    with Ledger(sample_project / LEDGER) as store:
        store.start(period)
        store.claim(period.key, "anna@example.com", "<1@example.com>", period.until)
        store.mark_sent(period.key, "anna@example.com", [])
    result = cli("build", "--only", "site", "--only", "digest", "--no-search", "--now", "2026-11-30")
    assert result.exit_code == 0, result.output
    assert [p.name for p in (sample_project / "dist/digest").glob("*.html")] == ["digest-2026-11-05.html"]
    assert (sample_project / "dist/site/digests/2026-11-05/index.html").is_file()


def test_every_messages_web_copy_link_leads_to_a_page_of_the_built_site(
    mail_project: Path, smtp: SmtpServer, cli: Callable[..., Result]
) -> None:
    assert cli(*SEND).exit_code == 0  # readers in en, ru and da; the site has no Danish case
    assert cli("build").exit_code == 0
    links = {}
    for _, (address,), message in smtp.recorder.messages:
        _, body = parts(message)
        links[address] = html.fromstring(body).cssselect("a")[0].get("href")
    assert links == {
        "anna@example.com": "https://proof.example.org/digests/2026-03-31/",
        "boris@example.com": "https://proof.example.org/ru/digests/2026-03-31/",
        # No Danish part of the site: the web copy in the site's language.
        "carl@example.com": "https://proof.example.org/digests/2026-03-31/",
    }
    for link in links.values():
        page = mail_project / "dist/site" / link.removeprefix("https://proof.example.org/") / "index.html"
        assert page.is_file(), link
