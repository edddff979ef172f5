"""The built website, read back as a browser or a feed reader would read it."""

from __future__ import annotations

import email
import email.policy
import gzip
import io
import json
from collections.abc import Callable
from pathlib import Path

import feedparser
import lxml.etree
import lxml.html
import pypdf
import pytest
from click.testing import Result

from tests.conftest import case_text


def page(path: Path) -> lxml.html.HtmlElement:
    """Parse a built HTML page."""
    return lxml.html.fromstring(path.read_bytes())


def text_of(path: Path) -> str:
    """The visible text of a built page."""
    return " ".join(page(path).text_content().split())


def readable(name: str, data: bytes) -> str:
    """A built file as text: PDFs through their extracted text, e-mails decoded, the rest as UTF-8."""
    if name.endswith(".pdf"):
        return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)
    if name.endswith(".eml"):
        message = email.message_from_bytes(data, policy=email.policy.default)
        return "\n".join(str(part.get_content()) for part in message.walk() if not part.is_multipart())
    if name.startswith("site/pagefind/") and data[:2] == b"\x1f\x8b":
        return gzip.decompress(data).decode("utf-8", errors="replace")  # the search index
    return data.decode("utf-8", errors="replace")


def tree_bytes(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` with its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def built(sample_project: Path, cli: Callable[..., Result]) -> Path:
    """The sample cases built into dist/site."""
    result = cli("build", "--only", "site", "--base-url", "https://fixed.example.org/proof/")
    assert result.exit_code == 0, result.output
    return sample_project / "dist" / "site"


def test_build_writes_every_kind_of_page(built: Path, cli: Callable[..., Result]) -> None:
    for name in [
        "index.html", "404.html", "feed.xml", "sitemap.xml", "robots.txt", "static/style.css",
        "cases/cleaning-missed-office/index.html", "cases/wedding-night-room-found/index.html",
        "tags/index.html", "tags/guarantee/index.html", "industries/index.html", "industries/hotels/index.html",
    ]:  # fmt: skip
        assert (built / name).is_file(), name


def test_build_prints_what_it_wrote(sample_project: Path, cli: Callable[..., Result]) -> None:
    result = cli("build")
    assert result.exit_code == 0
    assert "Built 12 cases (1 draft or future-dated case not published) in" in result.output
    assert "dist/site/" in result.output and "files" in result.output


def test_index_lists_cases_newest_first_without_drafts(built: Path) -> None:
    doc = page(built / "index.html")
    titles = [a.text_content() for a in doc.cssselect(".card-title a")]
    assert len(titles) == 9
    dates = [t.get("datetime") for t in doc.cssselect(".card time")]
    assert dates == sorted(dates, reverse=True)
    assert not (built / "cases/gostinitsa-konferents-zal").exists()  # the draft
    cards = doc.cssselect(".card")
    hotel = next(c for c in cards if "wedding" in c.text_content().lower())
    assert "Resolved in 2 hours" in hotel.text_content()
    assert hotel.cssselect(".industry a")[0].text_content() == "hotels"


def test_drafts_flag_publishes_drafts(sample_project: Path, cli: Callable[..., Result]) -> None:
    assert cli("build", "--drafts", "--only", "site").exit_code == 0
    assert (sample_project / "dist/site/ru/cases/gostinitsa-konferents-zal/index.html").is_file()


def test_case_page_has_sections_facts_and_language(built: Path) -> None:
    doc = page(built / "ru/cases/taksi-otchet-posle-nizkoy-otsenki/index.html")
    assert doc.get("lang") == "ru"
    headings = [h.text_content() for h in doc.cssselect(".section h2")]
    assert headings[:3] == ["Проблема", "Причина", "Решение"] and headings[-1] == "Спасибо"
    facts = doc.cssselect(".facts")[0].text_content()
    assert "Решено за" in facts and "октября 2026" in facts
    assert "Ирина Соколова" in facts  # consented
    tag_links = [a.get("href") for a in doc.cssselect(".terms a")]
    assert "../../../ru/tags/follow-up/" in tag_links  # the Russian list of the tag
    assert doc.cssselect("a[rel=prev]") and doc.cssselect("a[rel=next]")


def test_danish_dates_and_strings(built: Path) -> None:
    text = text_of(built / "da/cases/rengoering-glemte-etager/index.html")
    assert "Løst på 2 dage" in text
    assert "september 2026" in text


def test_meta_opengraph_and_json_ld(built: Path) -> None:
    doc = page(built / "cases/cleaning-missed-office/index.html")
    canonical = "https://fixed.example.org/proof/cases/cleaning-missed-office/"
    assert doc.cssselect("link[rel=canonical]")[0].get("href") == canonical
    assert doc.cssselect("meta[property='og:url']")[0].get("content") == canonical
    assert doc.cssselect("meta[name=description]")[0].get("content").startswith("Our crew skipped")
    data = json.loads(doc.cssselect("script[type='application/ld+json']")[0].text)
    assert data["@type"] == "Article" and data["inLanguage"] == "en" and data["url"] == canonical


def test_no_external_requests(built: Path) -> None:
    for html in built.rglob("*.html"):
        doc = page(html)
        for element in doc.cssselect("link[href], script[src], img[src], iframe, style[src]"):
            url = element.get("href") or element.get("src") or ""
            if element.tag == "link" and element.get("rel") in ("canonical", "alternate"):
                continue
            assert not url.startswith(("http:", "https:", "//")), (html, url)


def test_feed_is_valid_atom_with_absolute_urls(built: Path) -> None:
    feed = feedparser.parse((built / "feed.xml").read_bytes())
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "atom10"
    # One version of each story (the English one where there is one), and the page of changes.
    assert len([e for e in feed.entries if "/cases/" in e.link]) == 9 and len(feed.entries) == 10
    assert all(e.link.startswith("https://fixed.example.org/proof/") for e in feed.entries)
    newest = feed.entries[0]
    assert newest.link == "https://fixed.example.org/proof/cases/car-seat-in-stock/"
    assert "<h2" not in newest.summary and newest.content[0].value.startswith("<")
    russian = feedparser.parse((built / "ru/feed.xml").read_bytes())
    assert russian.bozo == 0 and russian.feed.language == "ru" and russian.feed.title == "Жалобы, которые мы исправили"
    assert russian.entries[0].link == "https://fixed.example.org/proof/ru/cases/internet-magazin-net-v-nalichii/"


def test_sitemap_lists_pages_with_absolute_urls(built: Path) -> None:
    root = lxml.etree.fromstring((built / "sitemap.xml").read_bytes())
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = root.xpath("//s:loc/text()", namespaces=ns)
    assert "https://fixed.example.org/proof/" in locs
    assert "https://fixed.example.org/proof/cases/cleaning-missed-office/" in locs
    assert not any("404" in loc for loc in locs)
    assert all(loc.startswith("https://fixed.example.org/proof/") for loc in locs)
    robots = (built / "robots.txt").read_text()
    assert "Sitemap: https://fixed.example.org/proof/sitemap.xml" in robots


def test_404_links_work_from_any_depth(built: Path) -> None:
    doc = page(built / "404.html")
    assert doc.cssselect("link[href$='style.css']")[0].get("href") == "/proof/static/style.css"


def test_every_page_has_an_icon_that_is_there(built: Path) -> None:
    """Browsers ask for /favicon.ico when a page names no icon: a 404 on every first visit."""
    pages = sorted(built.rglob("*.html"))
    assert len(pages) > 10
    for path in pages:
        doc = page(path)
        if doc.find(".//head") is None or path.parts[-2:] == ("pagefind", path.name):
            continue
        [icon] = doc.cssselect("link[rel=icon]")
        assert icon.get("type") == "image/svg+xml"
        target = (path.parent / icon.get("href")) if not icon.get("href").startswith("/") else None
        named = icon.get("href").removeprefix("/proof/")
        assert (built / named).is_file() if target is None else target.is_file(), (path, icon.get("href"))


def test_tag_and_industry_pages_list_their_cases(built: Path) -> None:
    tag = page(built / "tags/guarantee/index.html")
    slugs = {a.get("href") for a in tag.cssselect(".card-title a")}
    assert "../../cases/cleaning-missed-office/" in slugs
    every = text_of(built / "tags/index.html")
    assert "guarantee" in every
    industries = page(built / "industries/cleaning/index.html")
    assert len(industries.cssselect(".card")) == 2


def test_pagination(project: Path, write_case: Callable[..., Path], cli: Callable[..., Result]) -> None:
    (project / "site.toml").write_text("per_page = 2\n", encoding="utf-8")
    for day in range(1, 6):
        write_case(f"c{day}.md", case_text(title=f"Case {day}", date=f"2026-03-{day:02d}"))
    assert cli("build").exit_code == 0
    site = project / "dist/site"
    assert [c.text_content() for c in page(site / "index.html").cssselect(".card-title a")] == [
        "Case 5",
        "Case 4",
    ]
    assert page(site / "index.html").cssselect("a[rel=next]")[0].get("href") == "page/2/"
    last = page(site / "page/3/index.html")
    assert [c.text_content() for c in last.cssselect(".card-title a")] == ["Case 1"]
    assert "Page 3 of 3" in last.text_content()
    assert last.cssselect("a[rel=prev]")[0].get("href") == "../../page/2/"
    # Tag and industry pages are split the same way.
    first = page(site / "tags/booking/index.html")
    assert [c.text_content() for c in first.cssselect(".card-title a")] == ["Case 5", "Case 4"]
    assert first.cssselect("a[rel=next]")[0].get("href") == "../../tags/booking/page/2/"
    third = page(site / "tags/booking/page/3/index.html")
    assert [c.text_content() for c in third.cssselect(".card-title a")] == ["Case 1"]
    assert "Page 3 of 3" in third.cssselect("title")[0].text_content()
    assert third.cssselect("a[rel=prev]")[0].get("href") == "../../../../tags/booking/page/2/"
    assert (site / "industries/hotels/page/3/index.html").is_file()
    assert "tags/booking/page/2/" in (site / "sitemap.xml").read_text(encoding="utf-8")
    assert cli("check", "--links").exit_code == 0


def test_consent_decides_whether_a_customer_is_named(
    project: Path, write_case: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    write_case("named.md", case_text(title="Named", extra='customer: "Olga Named"\nconsent: true\n'))
    write_case("secret.md", case_text(title="Secret", extra='customer: "Sven Secretson"\n'))
    write_case(
        "ru.md",
        case_text(title="Тайна", language="ru", extra='customer: "Пётр Тайнов"\nconsent: false\n'),
    )
    assert cli("check").exit_code == 0
    assert cli("build", "--since", "2026-03-01", "--until", "2026-03-31").exit_code == 0
    assert {p.name for p in (project / "dist").iterdir()} == {"site", "digest", "leaflets", ".site-builder-output"}
    everything = "".join(readable(name, data) for name, data in tree_bytes(project / "dist").items())
    assert "Olga Named" in everything
    assert "Sven Secretson" not in everything and "Пётр Тайнов" not in everything
    assert "a customer" in text_of(project / "dist/site/cases/secret/index.html")
    assert "Olga Named" in readable("x.pdf", (project / "dist/leaflets/named.pdf").read_bytes())
    assert "клиент" in text_of(project / "dist/site/ru/cases/ru/index.html")


HOSTILE_TITLE = 'Bad </script><script>alert("t")</script> & <b>bold</b>'
HOSTILE_BODY = """
[click](javascript:alert('link')) [ok](https://example.com/) <a href="JAVASCRIPT:alert(1)">y</a>

<script>alert('body')</script>
<img src="x.png" onerror="alert('img')" alt="pic">
<iframe src="https://evil.example/"></iframe>
<p onclick="alert('p')" style="color:red">styled</p>
<svg onload="alert('svg')"></svg>
"""


def test_untrusted_text_stays_text(project: Path, write_case: Callable[..., Path], cli: Callable[..., Result]) -> None:
    text = case_text(title=HOSTILE_TITLE.replace('"', '\\"'), extra='summary: "<i onmouseover=x>hi</i>"\n')
    write_case("evil.md", text.replace("The room was", HOSTILE_BODY + "\nThe room was"))
    assert cli("build").exit_code == 0, "hostile but valid input builds"
    site = project / "dist/site"
    for html in site.rglob("*.html"):
        doc = page(html)
        inline = doc.cssselect("script:not([src])")
        assert all(s.get("type") == "application/ld+json" for s in inline), html
        for s in inline:
            json.loads(s.text)  # still valid JSON: the title did not break out of it
        sources = {s.get("src").rsplit("/", 2)[-2] for s in doc.cssselect("script[src]")}
        assert sources <= {"static", "pagefind"}, sources  # only the theme's own scripts
        for element in doc.iter():
            for name, value in element.attrib.items():
                assert not name.startswith("on"), (html, name)
                assert "javascript:" not in value.lower(), (html, value)
    case = page(site / "cases/evil/index.html")
    assert not case.cssselect("iframe, svg, object, embed, form, [style]")
    assert case.cssselect("h1")[0].text_content() == HOSTILE_TITLE
    assert "<i onmouseover=x>hi</i>" in case.cssselect(".lead")[0].text_content()
    assert case.cssselect("a[href='https://example.com/']")
    feed = feedparser.parse((site / "feed.xml").read_bytes())
    assert feed.bozo == 0 and feed.entries[0].title == HOSTILE_TITLE
    assert "<script" not in feed.entries[0].content[0].value


def test_failed_build_leaves_previous_output_untouched(
    sample_project: Path, write_case: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    assert cli("build").exit_code == 0
    before = tree_bytes(sample_project / "dist")
    write_case("broken.md", "---\ntitle: [\n---\n")
    assert cli("build").exit_code == 1
    assert tree_bytes(sample_project / "dist") == before
    (sample_project / "cases/broken.md").unlink()
    override = sample_project / "theme-overrides/site"
    override.mkdir(parents=True)
    (override / "case.html").write_text('{% extends "base.html" %}{% block main %}{{ missing }}{% endblock %}')
    result = cli("build")
    assert result.exit_code == 1
    assert "theme-overrides/site/case.html:1: 'missing' is undefined" in result.stderr
    assert tree_bytes(sample_project / "dist") == before
    assert not list(sample_project.glob(".dist-build-*")), "staging folder is cleaned up"


def test_successful_build_replaces_stale_pages(
    sample_project: Path, write_case: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    assert cli("build", "--only", "site").exit_code == 0
    (sample_project / "cases/en/cleaning-missed-office.md").unlink()
    assert cli("build", "--only", "site").exit_code == 0
    assert not (sample_project / "dist/site/cases/cleaning-missed-office").exists()


def test_theme_override_replaces_one_template_and_static_file(sample_project: Path, cli: Callable[..., Result]) -> None:
    override = sample_project / "theme-overrides/site"
    (override / "static").mkdir(parents=True)
    (override / "404.html").write_text('{% extends "base.html" %}{% block main %}<h1>Lost?</h1>{% endblock %}')
    (override / "static/style.css").write_text("body { color: red; }")
    assert cli("build", "--only", "site").exit_code == 0
    site = sample_project / "dist/site"
    assert "Lost?" in text_of(site / "404.html")
    assert (site / "static/style.css").read_text() == "body { color: red; }"
    assert "Problem" in text_of(site / "cases/cleaning-missed-office/index.html")  # not overridden


def test_only_site_and_out(sample_project: Path, cli: Callable[..., Result]) -> None:
    result = cli("build", "--only", "site", "--out", "public")
    assert result.exit_code == 0
    assert (sample_project / "public/site/index.html").is_file()
