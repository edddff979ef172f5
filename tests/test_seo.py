"""What search engines and feed readers read of the site: feeds of every list, JSON Feed, titles,
descriptions, structured data, the company's logo, and lists in each language's alphabet."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import feedparser
import lxml.etree
import lxml.html
import pytest
from click.testing import Result

from site_builder.settings.collation import collated
from tests.conftest import case_text

BASE = "https://fixed.example.org/proof/"
ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def page(path: Path) -> lxml.html.HtmlElement:
    """Parse a built HTML page."""
    return lxml.html.fromstring(path.read_bytes())


def local(site: Path, url: str) -> Path:
    """The built file an absolute URL of the site is served from."""
    assert url.startswith(BASE), url
    path = site / url.removeprefix(BASE)
    return path / "index.html" if url.endswith("/") else path


def json_ld(doc: lxml.html.HtmlElement) -> dict[str, dict[str, Any]]:
    """A page's JSON-LD objects by their @type."""
    found = [json.loads(s.text) for s in doc.cssselect("script[type='application/ld+json']")]
    return {data["@type"]: data for data in found}


@pytest.fixture
def built(sample_project: Path, cli: Callable[..., Result]) -> Path:
    """The sample cases built into dist/site."""
    result = cli("build", "--only", "site", "--no-search", "--base-url", BASE)
    assert result.exit_code == 0, result.output
    return sample_project / "dist" / "site"


def test_each_language_has_a_json_feed_beside_its_atom_feed(built: Path) -> None:
    for home, language in (("", "en"), ("ru/", "ru"), ("da/", "da")):
        doc = page(built / home / "index.html")
        [link] = doc.cssselect("link[rel=alternate][type='application/feed+json']")
        assert (built / home / link.get("href")).resolve() == (built / home / "feed.json").resolve()
        feed = json.loads((built / home / "feed.json").read_text(encoding="utf-8"))
        # JSON Feed 1.1: version, title and items are required; each item an id and a content.
        assert feed["version"] == "https://jsonfeed.org/version/1.1"
        assert isinstance(feed["title"], str) and feed["title"]
        assert feed["feed_url"] == f"{BASE}{home}feed.json" and feed["home_page_url"] == f"{BASE}{home}"
        assert feed["language"] == language
        atom = feedparser.parse((built / home / "feed.xml").read_bytes())
        assert [item["url"] for item in feed["items"]] == [entry.link for entry in atom.entries]
        for item in feed["items"]:
            assert isinstance(item["id"], str) and item["id"]
            assert item["content_html"].startswith("<")
            assert item["date_published"].endswith("+00:00")
            # Each item's language is the language of the page it links to.
            assert item["language"] == page(local(built, item["url"])).get("lang")
        assert any(item["language"] != language for item in feed["items"])  # a story not told in it


def test_atom_entries_say_their_own_language(built: Path) -> None:
    for home in ("", "ru/", "da/"):
        root = lxml.etree.fromstring((built / home / "feed.xml").read_bytes())
        entries = root.findall(f"{ATOM}entry")
        assert entries
        for entry in entries:
            link = entry.find(f"{ATOM}link").get("href")
            assert entry.get(XML_LANG) == page(local(built, link)).get("lang"), link
    russian = lxml.etree.fromstring((built / "ru/feed.xml").read_bytes())
    assert {"ru", "en"} <= {entry.get(XML_LANG) for entry in russian.findall(f"{ATOM}entry")}


def test_every_tag_and_industry_has_a_feed_linked_from_its_page(built: Path) -> None:
    lists = sorted(built.glob("*tags/*/index.html")) + sorted(built.glob("*/*tags/*/index.html"))
    lists += sorted(built.glob("*industries/*/index.html")) + sorted(built.glob("*/*industries/*/index.html"))
    assert len(lists) > 40
    for path in lists:
        doc = page(path)
        # The language's feed, then the list's own.
        _, link = doc.cssselect("link[rel=alternate][type='application/atom+xml']")
        assert link.get("title") == doc.cssselect("h1")[0].text_content()
        assert (path.parent / link.get("href")).resolve() == path.parent / "feed.xml", path
        [visible] = doc.cssselect(".feed-link a")
        assert visible.get("href") == link.get("href")
        feed = feedparser.parse((path.parent / "feed.xml").read_bytes())
        assert feed.bozo == 0, (path, feed.get("bozo_exception"))
        assert feed.feed.title == doc.cssselect("h1")[0].text_content()
        assert feed.feed.links[1].href == BASE + path.parent.relative_to(built).as_posix() + "/feed.xml"
        cards = [(path.parent / a.get("href")).resolve() for a in doc.cssselect(".card-title a")]
        assert [local(built, entry.link).parent.resolve() for entry in feed.entries] == cards
        assert all(entry.summary and "content" not in entry for entry in feed.entries)


def test_every_page_has_a_description_of_its_own(built: Path) -> None:
    pages = [p for p in sorted(built.rglob("*.html")) if p.name != "404.html"]
    descriptions: dict[str, list[str]] = {}
    for path in pages:
        doc = page(path)
        [meta] = doc.cssselect("meta[name=description]")
        assert doc.cssselect("meta[property='og:description']")[0].get("content") == meta.get("content")
        descriptions.setdefault(meta.get("content"), []).append(path.relative_to(built).as_posix())
    assert [paths for paths in descriptions.values() if len(paths) > 1] == []
    tag = page(built / "ru/industries/hotels/index.html").cssselect("meta[name=description]")[0].get("content")
    assert tag.startswith("Жалобы в отрасли «гостиницы»")


def test_titles_follow_the_title_pattern(built: Path, sample_project: Path, cli: Callable[..., Result]) -> None:
    case = page(built / "cases/cleaning-missed-office/index.html")
    heading = case.cssselect("h1")[0].text_content()
    assert case.cssselect("title")[0].text_content() == f"{heading} · Northwind Services"
    assert case.cssselect("meta[property='og:title']")[0].get("content") == heading
    home = page(built / "ru/index.html")
    assert home.cssselect("title")[0].text_content() == "Жалобы, которые мы исправили · Northwind Services"
    settings = sample_project / "site.toml"
    settings.write_text('title_pattern = "{site}: {page}"\n' + settings.read_text(encoding="utf-8"), encoding="utf-8")
    assert cli("build", "--only", "site", "--no-search").exit_code == 0
    case = page(sample_project / "dist/site/da/tags/index.html")
    assert case.cssselect("title")[0].text_content() == "Klager, vi har løst: Emner"
    assert case.cssselect("meta[property='og:title']")[0].get("content") == "Emner"


@pytest.mark.parametrize(
    ("pattern", "said"),
    [
        ("{page} – {firm}", "title_pattern: {firm} is not a placeholder of a title (use {page}, {site}, {company})"),
        ("{page:>9}", "title_pattern: {page} is not a placeholder of a title"),
        ("{site} – {company}", "title_pattern: '{site} – {company}' leaves out {page}"),
        ("{page} {", "title_pattern: '{page} {' is not valid"),
    ],
)
def test_a_bad_title_pattern_is_a_plain_config_error(
    project: Path, write_case: Callable[..., Path], cli: Callable[..., Result], pattern: str, said: str
) -> None:
    (project / "site.toml").write_text(f"title_pattern = {json.dumps(pattern)}\n", encoding="utf-8")
    write_case("a.md", case_text())
    result = cli("build")
    assert result.exit_code == 2
    assert f"site.toml: {said}" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_structured_data_names_the_publisher_and_the_way_home(built: Path) -> None:
    url = f"{BASE}cases/cleaning-missed-office/"
    found = json_ld(page(built / "cases/cleaning-missed-office/index.html"))
    article = found["Article"]
    assert article["mainEntityOfPage"] == {"@type": "WebPage", "@id": url}
    assert article["dateModified"] == article["datePublished"]
    publisher = article["publisher"]
    assert publisher["@type"] == "Organization" and publisher["url"] == "https://northwind.example"
    assert local(built, publisher["logo"]["url"]).is_file()
    crumbs = found["BreadcrumbList"]["itemListElement"]
    assert [c["position"] for c in crumbs] == [1, 2, 3]
    assert [c["name"] for c in crumbs[:2]] == ["Complaints we fixed", "cleaning"]
    assert crumbs[-1]["item"] == url
    for path in ("tags/guarantee/index.html", "ru/industries/hotels/index.html"):
        doc = page(built / path)
        crumbs = json_ld(doc)["BreadcrumbList"]["itemListElement"]
        assert crumbs[-1]["item"] == doc.cssselect("link[rel=canonical]")[0].get("href")
        assert crumbs[-1]["name"] == doc.cssselect("h1")[0].text_content()
        assert all(local(built, c["item"]).is_file() for c in crumbs)
        assert json_ld(doc)["CollectionPage"]["publisher"]["logo"]["url"] == publisher["logo"]["url"]


def test_a_hostile_title_stays_inside_its_json_ld(
    project: Path, write_case: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    title = 'Bad </script><script>alert("t")</script> & <!-- x'
    write_case("evil.md", case_text(title=title.replace('"', '\\"')))
    assert cli("build", "--only", "site", "--no-search").exit_code == 0
    raw = (project / "dist/site/cases/evil/index.html").read_text(encoding="utf-8")
    doc = lxml.html.fromstring(raw)
    scripts = doc.cssselect("script[type='application/ld+json']")
    assert len(scripts) == 2 and raw.count("<script") == 2 + raw.count("<script src")
    for script in scripts:
        assert "</script" not in script.text and "<!--" not in script.text
    found = json_ld(doc)
    assert found["Article"]["headline"] == title
    assert found["BreadcrumbList"]["itemListElement"][-1]["name"] == title
    assert doc.cssselect("title")[0].text_content() == f"{title} · Example Ltd"


def test_404_pages_have_no_canonical_and_are_not_indexed(built: Path) -> None:
    for path in ("404.html", "ru/404.html", "da/404.html"):
        doc = page(built / path)
        assert doc.cssselect("link[rel=canonical]") == []
        assert doc.cssselect("meta[name=robots]")[0].get("content") == "noindex"
    assert page(built / "stats/index.html").cssselect("link[rel=canonical]")


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db00000000049454e44ae426082"
)


@pytest.mark.parametrize(
    ("name", "data", "kind"), [("brand/logo.svg", b"<svg/>", "image/svg+xml"), ("Logo.PNG", PNG, "image/png")]
)
def test_the_company_logo_is_the_icon_and_the_publisher_logo(
    sample_project: Path, cli: Callable[..., Result], name: str, data: bytes, kind: str
) -> None:
    (sample_project / name).parent.mkdir(exist_ok=True)
    (sample_project / name).write_bytes(data)
    settings = sample_project / "site.toml"
    settings.write_text(settings.read_text(encoding="utf-8").replace("[company]\n", f'[company]\nlogo = "{name}"\n'))
    assert cli("build", "--only", "site", "--no-search", "--base-url", BASE).exit_code == 0
    site = sample_project / "dist/site"
    copied = f"static/company-logo.{name.rsplit('.', 1)[1].lower()}"
    assert (site / copied).read_bytes() == data
    for path in (site / "index.html", site / "ru/cases/svadba-nomer-nashelsya/index.html", site / "da/404.html"):
        [icon] = page(path).cssselect("link[rel=icon]")
        assert icon.get("type") == kind and icon.get("href").endswith(copied)
    article = json_ld(page(site / "cases/cleaning-missed-office/index.html"))["Article"]
    assert article["publisher"]["logo"]["url"] == BASE + copied
    assert json.loads((site / "feed.json").read_text(encoding="utf-8"))["favicon"] == BASE + copied
    # A new picture under the same name reaches the site, though no case changed.
    (sample_project / name).write_bytes(data + b"\n")
    assert cli("build", "--only", "site", "--no-search", "--base-url", BASE).exit_code == 0
    assert (site / copied).read_bytes() == data + b"\n"


@pytest.mark.parametrize(
    ("logo", "said"),
    [
        ("logo.gif", "company.logo: 'logo.gif' is not an .svg or .png file"),
        ("../outside.svg", "company.logo: '../outside.svg' is outside the project folder"),
        ("missing.svg", "company.logo: 'missing.svg' not found"),
    ],
)
def test_a_bad_logo_is_a_plain_config_error(
    project: Path, write_case: Callable[..., Path], cli: Callable[..., Result], logo: str, said: str
) -> None:
    (project / "logo.gif").write_bytes(b"GIF89a")
    (project.parent / "outside.svg").write_bytes(b"<svg/>")
    (project / "site.toml").write_text(f'[company]\nlogo = "{logo}"\n', encoding="utf-8")
    write_case("a.md", case_text())
    result = cli("build")
    assert result.exit_code == 2
    [line] = [line for line in result.stderr.splitlines() if "logo" in line]
    assert line.startswith("Configuration error: site.toml: " + said), line
    assert "Traceback" not in result.output + result.stderr


def test_collation_of_each_language() -> None:
    names = ["zebra", "øl", "доставка", "ärlig", "åben", "delivery", "ёлка", "ærlig", "follow-up", "жалоба", "Apple"]
    assert collated(names, "en") == [
        "åben", "ærlig", "Apple", "ärlig", "delivery", "follow-up", "øl", "zebra", "доставка", "ёлка", "жалоба",
    ]  # fmt: skip
    assert collated(names, "ru") == [
        "доставка", "ёлка", "жалоба", "åben", "ærlig", "Apple", "ärlig", "delivery", "follow-up", "øl", "zebra",
    ]  # fmt: skip
    assert collated(names, "da") == [
        "Apple", "delivery", "follow-up", "zebra", "ærlig", "ärlig", "øl", "åben", "доставка", "ёлка", "жалоба",
    ]  # fmt: skip


def test_tags_and_industries_are_listed_in_the_readers_alphabet(
    project: Path, write_case: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    (project / "site.toml").write_text(
        '[languages.en]\n[languages.ru]\n[languages.ru.tags]\ndelivery = "доставка"\n[languages.da]\n',
        encoding="utf-8",
    )
    tags = "tags: [delivery, follow-up, zebra, øl, ærlighed, åben, ёлка, жалоба]"
    write_case("en.md", case_text().replace("tags: [booking, apology]", tags))
    write_case("ru.md", case_text(title="Номер", language="ru"))
    write_case("da.md", case_text(title="Værelset", language="da"))
    assert cli("build", "--only", "site", "--no-search").exit_code == 0
    site = project / "dist/site"

    def listed(path: str) -> list[str]:
        return [a.text_content() for a in page(site / path).cssselect(".term-cloud a")]

    latin = ["apology", "booking", "delivery", "follow-up", "zebra"]
    assert listed("tags/index.html") == [
        "åben",
        "ærlighed",
        "apology",
        "booking",
        "delivery",
        "follow-up",
        "øl",
        "zebra",
        "ёлка",
        "жалоба",
    ]
    assert listed("ru/tags/index.html") == [
        "доставка",
        "ёлка",
        "жалоба",
        "åben",
        "ærlighed",
        "apology",
        "booking",
        "follow-up",
        "øl",
        "zebra",
    ]
    assert listed("da/tags/index.html") == [*latin, "ærlighed", "øl", "åben", "ёлка", "жалоба"]
