"""The built site in headless Chromium: navigation, search and filters, the trust page, accessibility, HTML validity."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from click.testing import CliRunner
from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from site_builder.cli import main
from site_builder.website import search as search_module
from tests.browser import AXE, VNU, require, serve_folder
from tests.conftest import ROOT, SAMPLE_CASES, share_cards
from tests.test_archive import record

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, drawn_cards: Path) -> Path:
    """The sample site, built once for this module (site only: leaflets are tested elsewhere), with
    two digests sent, so its archive is checked like every other page."""
    root = tmp_path_factory.mktemp("browser")
    share_cards(root, drawn_cards)
    shutil.copytree(SAMPLE_CASES, root / "cases")
    shutil.copy(ROOT / "site.toml", root / "site.toml")
    record(
        root / ".site-builder/sent.sqlite", ("2026-10-01", "2026-11-05", "sent"), ("2026-07-01", "2026-07-31", "sent")
    )
    args = ["build", "--only", "site", "--cases", str(root / "cases"), "--config", str(root / "site.toml")]
    result = CliRunner().invoke(main, [*args, "--out", str(root / "dist"), "--base-url", "http://127.0.0.1/"])
    assert result.exit_code == 0, result.output
    return root / "dist/site"


@pytest.fixture(scope="module")
def base_url(site: Path) -> Iterator[str]:
    """The site served on loopback."""
    with serve_folder(site) as url:
        yield url


@pytest.fixture(scope="module")
def sharded_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The sample site with its search index in three bundles (the newest cases' and two others),
    as a big site's is, served on loopback."""
    root = tmp_path_factory.mktemp("sharded")
    shutil.copytree(SAMPLE_CASES, root / "cases")
    args = ["build", "--only", "site", "--cases", str(root / "cases"), "--config", str(ROOT / "site.toml")]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search_module, "SHARD", 3)
        patch.setattr(search_module, "FRESH", 3)
        result = CliRunner().invoke(main, [*args, "--out", str(root / "dist"), "--base-url", "http://127.0.0.1/"])
    assert result.exit_code == 0, result.output
    listing = json.loads((root / "dist/site/pagefind-bundles.json").read_text(encoding="utf-8"))
    assert listing["merge"][-1] == "pagefind-new" and len(listing["merge"]) >= 2 and len(listing["newest"]) == 3
    with serve_folder(root / "dist/site") as url:
        yield url


@pytest.fixture(params=["one index", "three bundles"])
def search_url(request: pytest.FixtureRequest) -> str:
    """The site to search: with one index, and with three bundles merged in the browser."""
    name = "base_url" if request.param == "one index" else "sharded_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh tab at desktop width."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    tab = context.new_page()
    yield tab
    context.close()


def test_index_to_case_and_back(page: Page, base_url: str) -> None:
    page.goto(base_url)
    expect(page.locator("h1")).to_have_text("Complaints we fixed")
    page.get_by_role("link", name="Broken teapots, and why you can now open the parcel before you pay").click()
    expect(page).to_have_url(f"{base_url}cases/online-retail-damaged-parcels/")
    expect(page.locator(".section-problem h2")).to_have_text("Problem")
    expect(page.locator(".fact-strong dd")).to_have_text("Resolved in 4 days")
    page.get_by_role("link", name="#delivery").click()
    expect(page.locator("h1")).to_have_text("Cases tagged “delivery”")


@pytest.mark.parametrize("path", ["", "cases/online-retail-damaged-parcels/", "ru/tags/", "da/stats/"])
def test_a_shared_link_shows_its_card(page: Page, base_url: str, path: str) -> None:
    """The og:image a link preview fetches is a picture the browser draws, at the size the meta says."""
    page.goto(f"{base_url}{path}")
    url = page.locator('meta[property="og:image"]').get_attribute("content") or ""
    assert url.startswith("http://127.0.0.1/") and url.endswith("card.png"), url
    width = page.locator('meta[property="og:image:width"]').get_attribute("content")
    height = page.locator('meta[property="og:image:height"]').get_attribute("content")
    assert (width, height) == ("1200", "630")
    # The site was built for http://127.0.0.1/ and is served on a port of its own.
    page.goto(base_url + url.removeprefix("http://127.0.0.1/"))
    size = page.evaluate(
        "() => { const i = document.querySelector('img'); return i && i.complete ? [i.naturalWidth, i.naturalHeight] : null; }"
    )
    assert size == [1200, 630]


def search(page: Page, text: str) -> None:
    """Type into the search box and wait for results."""
    box = page.locator(".pagefind-ui__search-input")
    box.fill(text)
    # The message names the search, so stale results of an earlier search do not count.
    expect(page.locator(".pagefind-ui__message")).to_contain_text(text, timeout=10_000)
    expect(page.locator(".pagefind-ui__result").first).to_be_visible(timeout=10_000)


def test_search_finds_the_right_case(page: Page, search_url: str) -> None:
    page.goto(f"{search_url}stats/")
    search(page, "teapot")
    expect(page.locator(".pagefind-ui__result-link")).to_have_attribute("href", "/cases/online-retail-damaged-parcels/")
    page.locator(".pagefind-ui__result-link").first.click()
    expect(page.locator("h1")).to_contain_text("Broken teapots")


def test_search_finds_the_page_of_changes_by_its_title_only(page: Page, base_url: str) -> None:
    page.goto(base_url)
    search(page, "because you told us")
    expect(page.locator(".pagefind-ui__result-link").first).to_have_attribute("href", "/changes/")
    search(page, "teapot")  # its changes are found on their cases' pages, once
    expect(page.locator(".pagefind-ui__result-link")).to_have_attribute("href", "/cases/online-retail-damaged-parcels/")


def open_filter(page: Page, name: str) -> None:
    """Open a filter's group in the search box's panel. Set, not clicked: Pagefind opens a group by
    itself at times (once one of its values is ticked), and a click would then close it."""
    name_of = page.locator(".pagefind-ui__filter-name", has_text=name)
    block = page.locator("details.pagefind-ui__filter-block", has=name_of)
    try:
        block.evaluate("block => { block.open = true; }", timeout=10_000)
    except PlaywrightTimeoutError:
        # Typed in the first instant after the page loaded, the page's language filter was set while
        # Pagefind still loaded its index, and the filter panel stayed empty until the next search
        # (a known race, left in search.js): search again, as a reader would.
        box = page.locator(".pagefind-ui__search-input")
        text = box.input_value()
        box.fill("")
        box.fill(text)
        block.evaluate("block => { block.open = true; }", timeout=20_000)


def result_links(page: Page) -> list[str]:
    """The links of the results shown."""
    return [str(link.get_attribute("href")) for link in page.locator(".pagefind-ui__result-link").all()]


def test_search_starts_in_the_page_language_and_one_click_searches_all(page: Page, search_url: str) -> None:
    page.goto(f"{search_url}ru/")
    expect(page.locator(".pagefind-ui__search-input")).to_have_attribute("placeholder", "Поиск по случаям")
    search(page, "15")  # every 15 minutes: the car seat story, told in Russian and in English
    expect(
        page.locator('a.pagefind-ui__result-link[href="/ru/cases/internet-magazin-net-v-nalichii/"]')
    ).to_be_visible()
    assert all(link.startswith("/ru/") for link in result_links(page)), result_links(page)
    open_filter(page, "language")
    page.locator("label.pagefind-ui__filter-label", has_text="Русский").click()  # the one click
    expect(page.locator('a.pagefind-ui__result-link[href="/cases/car-seat-in-stock/"]')).to_be_visible(timeout=10_000)


def test_search_filter_by_industry(page: Page, search_url: str) -> None:
    page.goto(search_url)
    search(page, "customer")
    open_filter(page, "industry")
    page.locator("label.pagefind-ui__filter-label", has_text="hotels").click()
    expect(page.locator(".pagefind-ui__result")).to_have_count(1, timeout=10_000)
    expect(page.locator(".pagefind-ui__result-link")).to_have_attribute("href", "/cases/wedding-night-room-found/")


def test_search_filter_by_another_language(page: Page, search_url: str) -> None:
    page.goto(search_url)
    search(page, "tak")  # the Danish "Thanks" heading; English pages match "take" too
    open_filter(page, "language")
    page.locator("label.pagefind-ui__filter-label", has_text="English").click()
    page.locator("label.pagefind-ui__filter-label", has_text="Dansk").click()
    expect(page.locator(".pagefind-ui__result")).to_have_count(3, timeout=10_000)
    for slug in ("rengoering-glemte-etager", "taxi-lufthavn-forsinket", "bryllup-vaerelse-fundet"):
        expect(page.locator(f'a.pagefind-ui__result-link[href="/da/cases/{slug}/"]')).to_be_visible(timeout=10_000)


def test_the_language_switcher_keeps_the_page(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}cases/wedding-night-room-found/")
    page.locator("nav.languages").get_by_role("link", name="Русский").click()
    expect(page).to_have_url(f"{base_url}ru/cases/svadba-nomer-nashelsya/")
    expect(page.locator("h1")).to_contain_text("Вашей брони у нас нет")
    expect(page.locator("header nav").first.get_by_role("link").first).to_have_text("Все случаи")
    page.locator("nav.languages").get_by_role("link", name="English").click()
    expect(page).to_have_url(f"{base_url}cases/wedding-night-room-found/")
    # A story with no Danish version: the Danish home, never a page that is not there.
    page.goto(f"{base_url}cases/car-seat-in-stock/")
    page.locator("nav.languages").get_by_role("link", name="Dansk").click()
    expect(page).to_have_url(f"{base_url}da/")
    expect(page.locator("h1")).to_have_text("Klager, vi har løst")
    expect(page.locator(".pagefind-ui__search-input")).to_have_attribute("placeholder", "Søg i sagerne")


def test_trust_page_charts_show_without_javascript(browser: Browser, base_url: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    tab = context.new_page()
    tab.goto(f"{base_url}stats/")
    charts = tab.locator("figure.chart svg[role=img]")
    expect(charts).to_have_count(3)
    for chart in charts.all():
        box = chart.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 50
        assert chart.locator("rect.chart-bar").count() >= 4
    expect(tab.locator(".kpis dd").first).to_have_text("9")
    expect(tab.locator("table.industries tbody tr")).to_have_count(6)
    context.close()


def test_the_page_of_changes_is_one_click_away_and_in_one_language(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}ru/cases/taksi-otchet-posle-nizkoy-otsenki/")
    page.get_by_role("navigation", name="Вы здесь").get_by_role("link", name="Что мы изменили").click()
    expect(page).to_have_url(f"{base_url}ru/changes/")
    expect(page.locator("h1")).to_have_text("Что изменилось благодаря вам")
    assert page.locator("html").get_attribute("lang") == "ru"
    entries = page.locator("article.change")
    expect(entries).to_have_count(9)
    # The page's own words are Russian; a story told in another language says so and is marked.
    for i in range(entries.count()):
        entry = entries.nth(i)
        language = entry.get_attribute("lang")
        label = entry.locator(".meta .language")
        if language == "ru":
            expect(label).to_have_count(0)
        else:
            expect(label).to_have_attribute("lang", "ru")
            assert label.inner_text() in ("английский", "датский")
    first = entries.first.locator("h2 a")
    title = first.inner_text()
    first.click()
    expect(page.locator("h1")).to_have_text(title)
    expect(page.locator("section.section-changed")).to_have_count(1)


PAGES = [
    "",
    "cases/cleaning-missed-office/",
    "ru/",
    "ru/cases/taksi-otchet-posle-nizkoy-otsenki/",
    "da/tags/",
    "tags/",
    "tags/guarantee/",
    "industries/hotels/",
    "stats/",
    "changes/",
    "ru/changes/",
    "404.html",
    "digests/",
    "ru/digests/2026-11-05/",
    "da/digests/2026-11-05/",
]


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_accessibility_violations(browser: Browser, base_url: str, path: str, scheme: Any) -> None:
    require(AXE, "axe-core (npm)")
    context = browser.new_context(color_scheme=scheme, viewport={"width": 1200, "height": 900})
    tab = context.new_page()
    tab.goto(base_url + path)
    tab.wait_for_load_state("networkidle")
    tab.add_script_tag(path=str(AXE))
    result = tab.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    context.close()
    violations = [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]]
    assert violations == []


def test_every_page_is_valid_html(site: Path) -> None:
    require("java", "Java")
    require(VNU, "the Nu HTML Checker (npm vnu-jar)")
    run = subprocess.run(
        ["java", "-jar", str(VNU), "--errors-only", "--format", "json", "--skip-non-html", str(site)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    messages = json.loads(run.stderr or '{"messages": []}')["messages"]
    assert [(m.get("url", "").rsplit("/site/", 1)[-1], m["message"]) for m in messages] == []
    assert run.returncode == 0


def _luminance(css_colour: str) -> float:
    """WCAG relative luminance of an `rgb(...)`/`rgba(...)` colour."""
    red, green, blue = (int(float(v)) / 255 for v in css_colour.split("(")[1].rstrip(")").split(",")[:3])
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (red, green, blue)]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_page_keeps_its_place_and_its_room_when_the_search_box_arrives(
    browser: Browser, base_url: str, scheme: Literal["light", "dark"]
) -> None:
    url = f"{base_url}da/cases/rengoering-glemte-etager/"
    tops = {}
    for script in (False, True):
        context = browser.new_context(
            java_script_enabled=script, viewport={"width": 1200, "height": 900}, color_scheme=scheme
        )
        tab = context.new_page()
        tab.goto(url)
        if script:
            expect(tab.locator(".pagefind-ui__search-input")).to_be_visible()
            colours = tab.locator(".pagefind-ui__search-input").evaluate(
                "box => [getComputedStyle(box, '::placeholder').color, getComputedStyle(box).backgroundColor]"
            )
            light, dark = sorted((_luminance(colours[0]), _luminance(colours[1])), reverse=True)
            assert (light + 0.05) / (dark + 0.05) >= 4.5, colours  # WCAG AA for the placeholder
        main = tab.locator("main")
        tops[script] = main.evaluate("m => m.getBoundingClientRect().top")
        # The headings have room under the header rule.
        assert main.evaluate("m => parseFloat(getComputedStyle(m).paddingTop)") >= 16
        separator = tab.locator(".costs .cost").nth(1).evaluate("c => getComputedStyle(c, '::before').content")
        assert separator == '"·"'
        context.close()
    assert abs(tops[True] - tops[False]) <= 2, tops  # no jump when Pagefind draws its box


@pytest.mark.parametrize("home", ["", "ru/", "da/"])
def test_chart_labels_stay_readable_and_apart_on_a_phone(browser: Browser, base_url: str, home: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    tab = context.new_page()
    tab.goto(f"{base_url}{home}stats/")
    charts = tab.locator("figure.chart svg[role=img]")
    expect(charts).to_have_count(3)
    for chart in charts.all():
        # The size text is drawn at: its font size in the drawing's units, times the drawing's scale.
        sizes = chart.evaluate(
            "svg => [...svg.querySelectorAll('text')].map("
            "t => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a)"
        )
        assert sizes and min(sizes) >= 12, sizes
        boxes = chart.evaluate(
            "svg => [...svg.querySelectorAll('text, rect')].map(e => {"
            " const b = e.getBoundingClientRect(); return [e.tagName + ':' + e.textContent, b.left, b.top, b.right, b.bottom]; })"
        )
        for i, (name, left, top, right, bottom) in enumerate(boxes):
            for j, (other, o_left, o_top, o_right, o_bottom) in enumerate(boxes):
                if i == j or not name.startswith("text"):
                    continue
                apart = right <= o_left or o_right <= left or bottom <= o_top or o_bottom <= top
                assert apart, (home, name, other)
    context.close()
