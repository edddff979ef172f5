"""What we changed: the optional section, the page that gathers it, the `responded` field, and the
trust figures as stats.json and a badge."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import feedparser
import lxml.etree
import pytest
from click.testing import Result
from lxml import html

from site_builder.website import search
from tests.conftest import ROOT, case_text
from tests.test_languages_site import build_sample

Cli = Callable[..., Result]
WriteCase = Callable[..., Path]

CHANGED = "\n## What we changed\n\nEvery booking is now confirmed by phone the day before.\n"


def with_change(text: str, change: str = CHANGED, before: str = "## Thanks") -> str:
    """A case with the What we changed section put before the heading `before`."""
    return text.replace(f"\n{before}", f"{change}\n{before}", 1)


def test_a_case_with_what_we_changed_in_each_language_is_valid(write_case: WriteCase, cli: Cli) -> None:
    write_case("en.md", with_change(case_text()))
    ru = case_text(language="ru").replace("## Fix", "## Решение").replace("## Thanks", "## Спасибо")
    write_case("ru.md", with_change(ru, "\n## Что мы изменили\n\nТеперь звоним накануне.\n", "## Спасибо"))
    da = case_text(language="da").replace("## Fix", "## Løsning").replace("## Thanks", "## Tak")
    write_case("da.md", with_change(da, "\n## Hvad vi ændrede\n\nVi ringer nu dagen før.\n", "## Tak"))
    result = cli("check")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        (with_change(case_text(), before="## Fix"), 21, "section 'What we changed' comes before 'Fix'"),
        (with_change(with_change(case_text())), 29, "section 'What we changed' appears twice (first on line 25)"),
        (with_change(case_text(), "\n## What we changed\n\n"), 25, "section 'What we changed' is empty"),
        (with_change(case_text(language="ru"), "\n## что мы изменили\n"), 25, "section 'что мы изменили' is empty"),
    ],
    ids=["before-fix", "twice", "empty", "empty-ru"],
)
def test_a_misplaced_repeated_or_empty_change_is_one_plain_error(
    write_case: WriteCase, cli: Cli, text: str, line: int, fragment: str
) -> None:
    path = write_case("bad.md", text)
    result = cli("check")
    assert result.exit_code == 1
    assert f"{path}:{line}: body: {fragment}" in result.stderr
    assert "1 error in 1 file" in result.stderr and "Traceback" not in result.stderr


def test_a_change_after_thanks_is_still_a_change(write_case: WriteCase, cli: Cli) -> None:
    write_case("late.md", case_text() + CHANGED)
    assert cli("check").exit_code == 0


def test_extra_aliases_from_site_toml_name_the_change_too(project: Path, write_case: WriteCase, cli: Cli) -> None:
    (project / "site.toml").write_text('[sections.en]\nchanged = ["So it never happens again"]\n', encoding="utf-8")
    write_case("x.md", with_change(case_text(), "\n## So it never happens again\n\nA call.\n" + CHANGED))
    result = cli("check")
    assert result.exit_code == 1
    assert "section 'What we changed' appears twice" in result.stderr


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ("responded: 2026-02-28\n", "responded: 2026-02-28 is before received 2026-03-01"),
        ("responded: 2026-03-04\n", "responded: 2026-03-04 is after resolved 2026-03-03"),
        ("responded: soon\n", "responded: 'soon' is not a date or date and time"),
        (
            "responded: 2026-03-01T08:00:00+05:00\nreceived: 2026-03-01T09:00:00+01:00\n",
            "responded: 2026-03-01 08:00:00+05:00 is before received 2026-03-01 09:00:00+01:00",
        ),
    ],
    ids=["before-received", "after-resolved", "not-a-date", "instants"],
)
def test_responded_out_of_its_range_is_one_plain_error(
    write_case: WriteCase, cli: Cli, fields: str, fragment: str
) -> None:
    text = case_text(extra=fields)
    if "received: 2026-03-01T" in fields:
        text = text.replace("received: 2026-03-01\n", "", 1)
    path = write_case("bad.md", text)
    result = cli("check")
    assert result.exit_code == 1, result.output
    line = 1 + text.splitlines().index(fields.splitlines()[0])
    assert f"{path}:{line}: {fragment}" in result.stderr
    assert "1 error in 1 file" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("value", ["2026-03-01", "2026-03-02 10:30", "2026-03-03T23:00:00Z"])
def test_responded_between_received_and_resolved_is_valid(write_case: WriteCase, cli: Cli, value: str) -> None:
    write_case("ok.md", case_text(extra=f"responded: {value}\n"))
    result = cli("check")
    assert result.exit_code == 0, result.output


BUILD = ("build", "--only", "site", "--no-search", "--jobs", "1")  # one process: `rendered` sees every page

# The page of changes ------------------------------------------------------------------------------

SAMPLE_TITLES = {"en": "What changed because you told us", "ru": "Что изменилось благодаря вам"}
SAMPLE_TITLES["da"] = "Hvad der ændrede sig, fordi du sagde det"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample site (English, Russian and Danish), built once."""
    return build_sample(tmp_path_factory.mktemp("changes"), ROOT / "site.toml")


def page(site: Path, path: str) -> html.HtmlElement:
    """A built page, parsed."""
    return html.fromstring((site / path / "index.html").read_bytes())


def entries(doc: html.HtmlElement) -> list[html.HtmlElement]:
    """The entries of a page of changes."""
    return list(doc.cssselect("ol.changes > li > article.change"))


@pytest.mark.parametrize(("language", "home"), [("en", ""), ("ru", "ru/"), ("da", "da/")])
def test_each_language_has_its_page_of_changes_newest_first(site: Path, language: str, home: str) -> None:
    doc = page(site, f"{home}changes/")
    assert doc.get("lang") == language
    assert doc.cssselect("h1")[0].text_content() == SAMPLE_TITLES[language]
    assert doc.findtext(".//title").startswith(SAMPLE_TITLES[language] + " · ")
    description = doc.xpath("//meta[@name='description']/@content")[0]
    assert description != page(site, home).xpath("//meta[@name='description']/@content")[0]
    found = entries(doc)
    listed = page(site, home).cssselect(".card-title a")  # the index lists every story once, newest first
    here, there = site / home / "changes", site / home
    assert [(here / e.cssselect("h2 a")[0].get("href")).resolve() for e in found] == [
        (there / a.get("href")).resolve() for a in listed
    ]
    dates = [e.cssselect("time")[0].get("datetime") for e in found]
    assert dates == sorted(dates, reverse=True)
    for entry in found:
        target = site / home / "changes" / entry.cssselect("h2 a")[0].get("href") / "index.html"
        case = html.fromstring(target.resolve().read_bytes())
        changed = case.cssselect("section.section-changed")[0]
        assert entry.get("lang") == case.get("lang")
        # The change itself, as its case shows it.
        assert " ".join(entry.cssselect(".change-text")[0].text_content().split()) == " ".join(
            "".join(changed.xpath("./*[not(self::h2)]//text()")).split()
        )


@pytest.mark.parametrize("home", ["", "ru/", "da/"])
def test_every_page_and_the_home_page_link_the_page_of_changes(site: Path, home: str) -> None:
    for path in sorted((site / home).rglob("index.html")):
        if home == "" and path.relative_to(site).parts[0] in ("ru", "da"):
            continue
        doc = html.fromstring(path.read_bytes())
        nav = [a.get("href") for a in doc.cssselect(".site-header nav:not(.languages) a")]
        linked = [h for h in nav if h.endswith("changes/")]
        assert len(linked) == 1, path
        assert (path.parent / linked[0] / "index.html").resolve() == (site / home / "changes/index.html"), path
    home_page = page(site, home)
    hrefs = [a.get("href") for a in home_page.cssselect("main a[href$='changes/']")]
    assert [(site / home / h).resolve() for h in hrefs] == [(site / home / "changes").resolve()]


def test_the_page_of_changes_is_in_the_feed_sitemap_and_search(site: Path) -> None:
    for home in ("", "ru/", "da/"):
        feed = feedparser.parse((site / home / "feed.xml").read_bytes())
        url = f"https://proof.example.com/{home}changes/"
        entry = next(e for e in feed.entries if e.id == url)
        newest = entries(page(site, f"{home}changes/"))[0].cssselect("time")[0].get("datetime")
        assert entry.updated.startswith(newest) and entry.title == SAMPLE_TITLES[home.strip("/") or "en"]
        assert len([e for e in feed.entries if e.id == url]) == 1
    sitemap = lxml.etree.parse(str(site / "sitemap.xml"))
    locs = sitemap.xpath("//*[local-name()='loc']/text()")
    assert {"https://proof.example.com/changes/", "https://proof.example.com/ru/changes/"} <= set(locs)
    assert {"changes/index.html", "ru/changes/index.html", "da/changes/index.html"} <= set(search.case_pages(site))


def test_a_case_without_a_change_is_not_listed_and_a_change_is_kept_safe(
    project: Path, write_case: WriteCase, cli: Cli
) -> None:
    change = (
        "\n## What we changed\n\nSee [the photo](photo.png) and [the rule](/rules/) and [ours](https://e.org/x)."
        '[^1]\n\n<script>alert(1)</script> <b onclick="x()">bold</b>\n'
    )
    write_case("plain.md", case_text(title="Nothing changed"))
    write_case("room.md", with_change(case_text(title="A room", date="2026-03-06"), change) + "\n[^1]: A note.\n")
    write_case("old.md", with_change(case_text(title="An older room", date="2026-03-04"), change))
    (project / "cases/photo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    result = cli("build", "--only", "site", "--no-search")
    assert result.exit_code == 0, result.output
    doc = page(project / "dist/site", "changes")
    assert [e.cssselect("h2")[0].text_content() for e in entries(doc)] == ["A room", "An older room"]
    text = entries(doc)[0].cssselect(".change-text")[0]
    links = [a.get("href") for a in text.cssselect("a")]
    assert links[:3] == ["../cases/room/photo.png", "/rules/", "https://e.org/x"]
    assert links[3].startswith("../cases/room/#fnref") or links[3].startswith("../cases/room/#fn")
    assert not doc.xpath("//main//script") and not doc.xpath("//@onclick") and "bold" in text.text_content()
    ids = doc.xpath("//@id")
    assert len(ids) == len(set(ids)), "two cases' footnotes must not give one id twice"
    assert (project / "dist/site/cases/room/photo.png").is_file()
    # The photo and the footnote mark lead where they do from the case's page: the page of changes
    # has no broken link its cases do not have (the made-up /rules/).
    checked = cli("check", "--links").output
    broken = {line.split(": ")[1] for line in checked.splitlines() if "changes/index.html: " in line}
    assert broken == {"/rules/"}, checked


def test_the_page_of_changes_is_made_again_only_when_a_change_or_a_field_changes(
    project: Path, write_case: WriteCase, cli: Cli, rendered: list[str]
) -> None:
    write_case("room.md", with_change(case_text(title="A room")))
    write_case("plain.md", case_text(title="Nothing changed", date="2026-03-04"))
    assert cli(*BUILD).exit_code == 0
    rendered.clear()
    path = project / "cases/room.md"
    path.write_text(path.read_text(encoding="utf-8").replace("paid for it", "paid for it at once"), encoding="utf-8")
    assert cli(*BUILD).exit_code == 0
    assert "changes.html" not in rendered  # the room's Fix is not on the page
    path.write_text(path.read_text(encoding="utf-8").replace("by phone", "by phone and email"), encoding="utf-8")
    assert cli(*BUILD).exit_code == 0
    assert "changes.html" in rendered
    shown = (project / "dist/site/changes/index.html").read_text(encoding="utf-8")
    assert "by phone and email" in shown
    rendered.clear()
    path.write_text(
        path.read_text(encoding="utf-8").replace('title: "A room"', 'title: "A lost room"'), encoding="utf-8"
    )
    assert cli(*BUILD).exit_code == 0
    assert "changes.html" in rendered and "A lost room" in (project / "dist/site/changes/index.html").read_text()


def test_the_page_of_changes_comes_in_pages_as_the_index_does(project: Path, write_case: WriteCase, cli: Cli) -> None:
    (project / "site.toml").write_text("per_page = 2\n", encoding="utf-8")
    for day in range(1, 4):
        write_case(f"c{day}.md", with_change(case_text(title=f"Case {day}", date=f"2026-03-0{day}")))
    write_case("plain.md", case_text(title="Plain", date="2026-03-09"))
    assert cli(*BUILD).exit_code == 0
    site = project / "dist/site"
    first, second = page(site, "changes"), page(site, "changes/page/2")
    assert [e.cssselect("h2")[0].text_content() for e in entries(first)] == ["Case 3", "Case 2"]
    assert [e.cssselect("h2")[0].text_content() for e in entries(second)] == ["Case 1"]
    assert first.cssselect("a[rel=next]")[0].get("href") == "../changes/page/2/"
    assert "Page 2 of 2" in second.findtext(".//title")
    assert not (site / "changes/page/3").exists()


# Time to first reply, stats.json and the badge ----------------------------------------------------


def timed(title: str, date: str, received: str, resolved: str, responded: str = "", language: str = "en") -> str:
    """A case with the given moments."""
    text = case_text(title=title, date=date, language=language, extra=f"responded: {responded}\n" if responded else "")
    return text.replace("received: 2026-03-01\n", f"received: {received}\n").replace(
        "resolved: 2026-03-03\n", f"resolved: {resolved}\n"
    )


@pytest.fixture
def figures(write_case: WriteCase, cli: Cli, project: Path) -> Path:
    """Three cases fixed in 1, 2 and 5 days, two of them first answered in 2 and 4 hours; the site."""
    write_case("a.md", timed("A", "2026-03-10", "2026-03-01 09:00", "2026-03-02 09:00", "2026-03-01 11:00"))
    write_case("b.md", timed("B", "2026-03-11", "2026-03-01 09:00", "2026-03-03 09:00", "2026-03-01 13:00"))
    write_case("c.md", timed("C", "2026-04-12", "2026-03-01 09:00", "2026-03-06 09:00"))
    result = cli(*BUILD)
    assert result.exit_code == 0, result.output
    return project / "dist/site"


def test_stats_json_holds_the_figures_of_the_cases(figures: Path) -> None:
    data = json.loads((figures / "stats/stats.json").read_text(encoding="utf-8"))
    assert data["version"] == 1 and data["language"] == "en" and data["cases"] == 3
    assert data["page"].endswith("/stats/")
    day = 86400
    # Inclusive quantiles of 1, 2, 5 days: the 90th percentile is 2 + 0.8 * 3 = 4.4 days.
    assert data["time_to_fix"] == {"cases": 3, "median_seconds": 2 * day, "p90_seconds": round(4.4 * day)}
    assert data["time_to_first_reply"] == {"cases": 2, "median_seconds": 3 * 3600, "p90_seconds": round(3.8 * 3600)}
    assert data["per_month"] == [{"month": "2026-03", "cases": 2}, {"month": "2026-04", "cases": 1}]
    assert data["time_to_fix_buckets"] == {
        "under_1_day": 0,
        "1_to_3_days": 2,
        "3_to_7_days": 1,
        "7_to_14_days": 0,
        "14_days_or_more": 0,
    }
    assert data["costs"] == {"economic": 0, "time": 3, "social": 0, "emotional": 3}
    assert data["industries"] == [{"name": "hotels", "cases": 3, "median_seconds": 2 * day}]


def test_the_trust_page_and_the_case_page_show_the_first_reply(figures: Path) -> None:
    kpis = {d.findtext("dt"): d.findtext("dd") for d in page(figures, "stats").cssselect(".kpis > div")}
    assert kpis["median time to first reply"] == "3 hours"
    assert kpis["9 in 10 got a first reply within"] == "4 hours"
    assert kpis["median time to fix"] == "2 days"
    facts = page(figures, "cases/a").cssselect(".facts")[0]
    reply = facts.xpath(".//div[dt='First reply']/dd/time")[0]
    assert reply.get("datetime") == "2026-03-01T11:00:00" and "11:00" in reply.text_content()
    assert not page(figures, "cases/c").xpath("//div[dt='First reply']")


def badge(site: Path, home: str = "") -> tuple[str, lxml.etree._Element]:
    """A badge's title, and the badge parsed as XML."""
    svg = lxml.etree.fromstring((site / home / "stats/badge.svg").read_bytes())
    title = svg.find("{http://www.w3.org/2000/svg}title")
    assert title is not None and title.text is not None
    return title.text, svg


@pytest.mark.parametrize(
    ("language", "count", "words"),
    [
        ("en", 1, "1 complaint fixed"),
        ("en", 2, "2 complaints fixed"),
        ("ru", 1, "1 жалоба решена"),
        ("ru", 2, "2 жалобы решены"),
        ("ru", 5, "5 жалоб решено"),
        ("da", 1, "1 klage løst"),
        ("da", 2, "2 klager løst"),
    ],
)
def test_the_badge_says_the_number_in_its_language_and_plural_form(
    write_case: WriteCase, cli: Cli, project: Path, language: str, count: int, words: str
) -> None:
    (project / "site.toml").write_text(f'language = "{language}"\n', encoding="utf-8")
    for i in range(count):
        write_case(f"c{i}.md", timed(f"Case {i}", f"2026-03-1{i}", "2026-03-01", "2026-03-03", language=language))
    assert cli(*BUILD).exit_code == 0
    title, svg = badge(project / "dist/site")
    median = {"en": "median 2 days", "ru": "медиана 2 дня", "da": "median 2 dage"}[language]
    assert title == f"{words} · {median}"
    assert svg.get("aria-label") == title and svg.get("{http://www.w3.org/XML/1998/namespace}lang") == language
    assert svg.findtext("{http://www.w3.org/2000/svg}text") == title
    assert not svg.xpath("//*[local-name()='script' or local-name()='image' or @href]")


def test_each_language_has_its_badge_and_json(site: Path) -> None:
    for home, language, start in (
        ("", "en", "9 complaints fixed"),
        ("ru/", "ru", "9 жалоб"),
        ("da/", "da", "9 klager"),
    ):
        title, _ = badge(site, home)
        assert title.startswith(start)
        assert json.loads((site / home / "stats/stats.json").read_bytes())["language"] == language


def test_the_badge_escapes_its_text(write_case: WriteCase, cli: Cli, project: Path) -> None:
    strings = '[strings.en]\nbadge_fixed_other = "{count} <fixed> & \\"done\\""\n'
    (project / "site.toml").write_text(strings, encoding="utf-8")
    write_case("a.md", case_text())
    write_case("b.md", case_text(title="Another", date="2026-03-06"))
    assert cli(*BUILD).exit_code == 0
    title, svg = badge(project / "dist/site")
    assert title.startswith('2 <fixed> & "done" · median')
    assert svg.get("aria-label") == title and len(svg) == 3  # title, rect, text: nothing injected
