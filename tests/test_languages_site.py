"""A site of several languages: the site's language at the root and every other under /<lang>/,
each page in one language, a switcher that never loses the page, hreflang that holds together."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from lxml import etree, html

from site_builder.cli import main
from tests.conftest import ROOT, SAMPLE_CASES, case_text

BASE = "https://proof.example.com/"


def build_sample(root: Path, config: Path) -> Path:
    """The sample cases copied under `root` and their site built with `config`; the site's folder."""
    shutil.copytree(SAMPLE_CASES, root / "cases")
    args = ["build", "--only", "site", "--no-search", "--cases", str(root / "cases"), "--config", str(config)]
    result = CliRunner().invoke(main, [*args, "--out", str(root / "dist")])
    assert result.exit_code == 0, result.output
    return root / "dist/site"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample site (stories in English, Russian and Danish, two of them translated), built once."""
    return build_sample(tmp_path_factory.mktemp("languages"), ROOT / "site.toml")


def page(site: Path, path: str) -> html.HtmlElement:
    """A built page, parsed."""
    return html.fromstring((site / path / "index.html" if not path.endswith(".html") else site / path).read_bytes())


def alternates(doc: html.HtmlElement) -> dict[str, str]:
    """A page's hreflang set."""
    return {link.get("hreflang"): link.get("href") for link in doc.xpath("//head/link[@rel='alternate'][@hreflang]")}


def pages(site: Path) -> list[Path]:
    """Every HTML page but the 404 pages."""
    return [p for p in sorted(site.rglob("*.html")) if p.name != "404.html"]


def test_each_language_has_its_part_of_the_site(site: Path) -> None:
    for language, home in (("en", ""), ("ru", "ru/"), ("da", "da/")):
        for path in ("", "tags/", "industries/", "stats/"):
            assert page(site, home + path).get("lang") == language, home + path
        assert (site / home / "feed.xml").is_file() and (site / home / "404.html").is_file()
    assert page(site, "ru/cases/svadba-nomer-nashelsya/").get("lang") == "ru"
    assert page(site, "cases/wedding-night-room-found/").get("lang") == "en"
    assert not (site / "cases/svadba-nomer-nashelsya").exists()


def test_a_page_never_mixes_two_interface_languages(site: Path) -> None:
    home = page(site, "ru/")
    nav = [a.text_content() for a in home.xpath("//header//nav[not(@class='languages')]//a")]
    assert nav == ["Все случаи", "Метки", "Отрасли", "Что мы изменили", "Статистика", "Лента Atom"]
    assert home.xpath("//a[@class='brand']")[0].text_content() == "Жалобы, которые мы исправили"
    assert home.xpath("//footer")[0].text_content().strip().startswith("Публикует Northwind Services")
    case = page(site, "da/cases/taxi-lufthavn-forsinket/")
    nav = [a.text_content() for a in case.xpath("//header//nav[not(@class='languages')]//a")]
    assert nav[0] == "Alle sager"
    assert case.xpath("//meta[@property='og:site_name']")[0].get("content") == "Klager, vi har løst"


def test_hreflang_is_reciprocal_absolute_and_names_the_page_itself(site: Path) -> None:
    seen = 0
    for path in pages(site):
        doc = html.fromstring(path.read_bytes())
        found = alternates(doc)
        if not found:
            continue
        seen += 1
        own = doc.xpath("//link[@rel='canonical']")[0].get("href")
        assert found.get(doc.get("lang")) == own, path  # the page itself
        assert "x-default" in found, path
        assert all(href.startswith(BASE) for href in found.values()), path
        for language, href in found.items():
            other = site / href.removeprefix(BASE) / "index.html"
            assert other.is_file(), (path, href)
            assert alternates(html.fromstring(other.read_bytes())) == found, (path, href)  # reciprocal
            if language != "x-default":
                assert html.fromstring(other.read_bytes()).get("lang") == language
    assert seen > 50
    sitemap = etree.fromstring((site / "sitemap.xml").read_bytes())
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
    for url in sitemap.xpath("//s:url", namespaces=ns):
        loc = url.xpath("s:loc", namespaces=ns)[0].text
        listed = {link.get("hreflang"): link.get("href") for link in url.xpath("x:link", namespaces=ns)}
        assert listed == alternates(page(site, loc.removeprefix(BASE))), loc


def test_the_switcher_leads_to_the_translation_or_that_language_home(site: Path) -> None:
    def switcher(path: str) -> dict[str, str]:
        doc = page(site, path)
        return {a.get("hreflang"): a.get("href") for a in doc.xpath("//nav[@class='languages']//a")}

    assert switcher("cases/wedding-night-room-found/") == {
        "en": "../../cases/wedding-night-room-found/",
        "ru": "../../ru/cases/svadba-nomer-nashelsya/",
        "da": "../../da/cases/bryllup-vaerelse-fundet/",
    }
    # No Danish version of the car seat story: the Danish home, never a 404.
    assert switcher("ru/cases/internet-magazin-net-v-nalichii/")["da"] == "../../../da/"
    assert switcher("ru/cases/internet-magazin-net-v-nalichii/")["en"] == "../../../cases/car-seat-in-stock/"
    assert switcher("ru/tags/refund/")["da"] == "../../../da/tags/refund/"  # the same list


def test_previous_and_next_stay_in_the_page_language(site: Path) -> None:
    for path in pages(site):
        if "/cases/" not in path.as_posix():
            continue
        doc = html.fromstring(path.read_bytes())
        for link in doc.xpath("//nav[@class='prev-next']/a"):
            assert link.get("lang") == doc.get("lang"), path


def test_an_untranslated_case_is_marked_or_hidden(tmp_path: Path, site: Path) -> None:
    danish = page(site, "da/")
    marked = [card for card in danish.xpath("//article[@class='card']") if card.get("lang") != "da"]
    assert marked and all(card.xpath(".//span[@class='language'][@lang='da']") for card in marked)
    assert "engelsk" in {card.xpath(".//span[@class='language']")[0].text_content() for card in marked}
    (tmp_path / "site.toml").write_text(
        (ROOT / "site.toml")
        .read_text(encoding="utf-8")
        .replace('language = "en"', 'language = "en"\nuntranslated = "hide"'),
        encoding="utf-8",
    )
    build_sample(tmp_path, tmp_path / "site.toml")
    hidden = html.fromstring((tmp_path / "dist/site/da/index.html").read_bytes())
    assert {card.get("lang") for card in hidden.xpath("//article[@class='card']")} == {"da"}


def test_a_site_in_one_language_has_no_languages(
    project: Path, cli: Callable[..., Result], write_case: Callable[..., Path]
) -> None:
    write_case("room.md", case_text())
    assert cli("build", "--only", "site", "--no-search").exit_code == 0
    text = (project / "dist/site/cases/room/index.html").read_text(encoding="utf-8")
    assert "hreflang" not in text and 'class="languages"' not in text
    assert not (project / "dist/site/en").exists()
    assert "xhtml" not in (project / "dist/site/sitemap.xml").read_text(encoding="utf-8")


def test_an_edit_of_one_translation_builds_like_a_clean_build(
    project: Path, cli: Callable[..., Result], write_case: Callable[..., Path]
) -> None:
    shutil.rmtree(project / "cases")
    shutil.copytree(SAMPLE_CASES, project / "cases")
    shutil.copy(ROOT / "site.toml", project / "site.toml")
    assert cli("build", "--only", "site", "--no-search").exit_code == 0
    russian = project / "cases/ru/svadba-nomer-nashelsya.md"
    russian.write_text(
        russian.read_text(encoding="utf-8").replace("Ночной менеджер", "Дежурный менеджер"), encoding="utf-8"
    )
    result = cli("build", "--only", "site", "--no-search", "-v")
    assert result.exit_code == 0, result.output
    quick = {
        p.relative_to(project / "dist/site"): p.read_bytes() for p in (project / "dist/site").rglob("*") if p.is_file()
    }
    shutil.rmtree(project / "dist")
    shutil.rmtree(project / ".site-builder")
    assert cli("build", "--only", "site", "--no-search").exit_code == 0
    clean = {
        p.relative_to(project / "dist/site"): p.read_bytes() for p in (project / "dist/site").rglob("*") if p.is_file()
    }
    assert quick.keys() == clean.keys()
    assert [p for p in quick if quick[p] != clean[p]] == []
    assert "Plan: from the last build" in result.output
