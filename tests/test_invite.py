"""The invitation to complain: on every page (at the end of a case, after the thanks), in both parts of
every digest and on every leaflet, in the reader's language only, with [company]'s ways to tell us."""

from __future__ import annotations

import io
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import pypdf
import pytest
from click.testing import Result
from lxml import html
from playwright.sync_api import Browser, Page

from site_builder.settings.config import Company
from site_builder.settings.contact import Way, ways_to_complain
from site_builder.settings.i18n import STRINGS
from tests.conftest import ROOT, case_text
from tests.smtp_server import SmtpServer
from tests.test_browser import _luminance
from tests.test_digest import parts
from tests.test_languages_site import build_sample
from tests.test_send import configure

FORM = "https://northwind.example/complaints"  # the sample site.toml's complain_url
INVITE_KEYS = ("invite_title", "invite_text", "invite_form")
RU_HEADINGS = {"## Problem": "## Проблема", "## Cause": "## Причина", "## Fix": "## Решение", "## Thanks": "## Спасибо"}


def said(language: str, key: str) -> str:
    """A built-in text of the invitation."""
    return STRINGS[language].get(key, STRINGS["en"][key])


def others(language: str) -> list[str]:
    """The invitation's texts in every language but `language`."""
    return [said(other, key) for other in ("en", "ru", "da") if other != language for key in INVITE_KEYS]


def russian(text: str) -> str:
    """A case text with Russian headings."""
    for english, heading in RU_HEADINGS.items():
        text = text.replace(english, heading)
    return text


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample site (English, Russian and Danish pages), built once."""
    return build_sample(tmp_path_factory.mktemp("invite"), ROOT / "site.toml")


def invites(doc: html.HtmlElement) -> list[html.HtmlElement]:
    """The invitations of a page."""
    return list(doc.xpath("//aside[contains(concat(' ', @class, ' '), ' invite ')]"))


# -- The ways, from [company] -------------------------------------------------------------------------


def test_the_form_comes_first_then_email_and_phone() -> None:
    company = Company(
        email="care@acme.example", phone="+45 70 20 30 40", website="https://acme.example", complain_url=FORM
    )
    assert ways_to_complain(company) == (
        Way("form", FORM, FORM),
        Way("email", "mailto:care@acme.example", "care@acme.example"),
        Way("phone", "tel:+4570203040", "+45 70 20 30 40"),
    )
    # No form: the home page is where a reader finds one.
    assert [w.kind for w in ways_to_complain(Company(email="", phone="", website="https://acme.example"))] == [
        "website"
    ]
    # A mailto: form that is the company's email is offered once.
    mailto = Company(email="Care@Acme.example", phone="", complain_url="mailto:care@acme.example?subject=Complaint")
    assert ways_to_complain(mailto) == (
        Way("email", "mailto:care@acme.example?subject=Complaint", "care@acme.example"),
    )
    assert ways_to_complain(Company(email="", phone="", website="", complain_url="")) == ()


# -- The website -----------------------------------------------------------------------------------------


def test_every_page_invites_in_its_language_only(site: Path) -> None:
    checked = set()
    for path in sorted(site.rglob("*.html")):
        doc = html.fromstring(path.read_bytes())
        language = doc.get("lang")
        (invite,) = invites(doc)
        assert invite.xpath("string(.//h2)") == said(language, "invite_title"), path
        assert said(language, "invite_text") in invite.text_content(), path
        links = [a.get("href") for a in invite.xpath(".//a")]
        assert links == [FORM, "mailto:care@northwind.example", "tel:+4570203040"], path
        assert invite.xpath("string(.//a[1])") == said(language, "invite_form"), path
        page_text = doc.text_content()
        assert not [t for t in others(language) if t in page_text], path
        checked.add(language)
    assert checked == {"en", "ru", "da"}


def test_a_case_page_invites_after_the_thanks(site: Path) -> None:
    for path in ("cases/car-seat-in-stock/index.html", "ru/cases/svadba-nomer-nashelsya/index.html"):
        doc = html.fromstring((site / path).read_bytes())
        (invite,) = invites(doc)
        before = invite.getprevious()
        assert invite.getparent().tag == "article" and invite.getnext() is None, path
        assert "section-thanks" in before.get("class"), path
        # Not read by the search as part of the case.
        assert invite.get("data-pagefind-ignore") is not None


def with_a_russian_form(project: Path, write_case: Callable[..., Path], phone: str) -> None:
    """A project in three languages whose Russian part has its own complaint form, and two cases."""
    (project / "site.toml").write_text(
        '[languages.en]\n[languages.ru]\n[languages.ru.company]\ncomplain_url = "https://acme.example/ru/zhaloba"\n'
        f'[languages.da]\n[company]\nname = "Acme"\nemail = "care@acme.example"\nphone = "{phone}"\n'
        f'complain_url = "{FORM}"\n',
        encoding="utf-8",
    )
    write_case("room.md", case_text(title="The room was gone"))
    write_case("komnata.md", russian(case_text(title="Номер исчез", language="ru")))


def test_a_page_in_russian_links_the_russian_form(
    project: Path, write_case: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    with_a_russian_form(project, write_case, phone="")
    result = cli("build", "--only", "site", "--no-search")
    assert result.exit_code == 0, result.output
    for path, form in (("dist/site/index.html", FORM), ("dist/site/ru/index.html", "https://acme.example/ru/zhaloba")):
        (invite,) = invites(html.fromstring((project / path).read_bytes()))
        assert [a.get("href") for a in invite.xpath(".//a")] == [form, "mailto:care@acme.example"], path


def test_a_theme_override_replaces_the_invitation(
    project: Path, write_case: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    (project / "site.toml").write_text('[company]\nname = "Acme"\nphone = "+45 11 22 33 44"\n', encoding="utf-8")
    override = project / "theme-overrides/site/_invite.html"
    override.parent.mkdir(parents=True)
    override.write_text(
        '{% for way in ways_to_complain(company) %}<p class="call-us">{{ way.shown }}</p>{% endfor %}\n',
        encoding="utf-8",
    )
    write_case("room.md", case_text())
    result = cli("build", "--only", "site", "--no-search")
    assert result.exit_code == 0, result.output
    for page in ("index.html", "cases/room/index.html"):
        doc = html.fromstring((project / "dist/site" / page).read_bytes())
        assert invites(doc) == [], page
        assert doc.xpath("//p[@class='call-us']/text()") == ["hello@example.com", "+45 11 22 33 44"], page


# -- No contact, no invitation -----------------------------------------------------------------------


def test_no_contact_no_invitation(project: Path, write_case: Callable[..., Path], cli: Callable[..., Result]) -> None:
    (project / "site.toml").write_text(
        '[company]\nname = "Acme"\nemail = ""\nphone = ""\nwebsite = ""\n[digest]\nsender = "Acme <news@acme.example>"\n',
        encoding="utf-8",
    )
    write_case("room.md", case_text(title="The room was gone", date="2026-03-05"))
    result = cli("build", "--since", "2026-03-01", "--until", "2026-03-31", "--no-search")
    assert result.exit_code == 0, result.output
    out = project / "dist"
    pages = sorted((out / "site").rglob("*.html"))
    assert pages
    for path in pages:
        doc = html.fromstring(path.read_bytes())
        assert invites(doc) == [] and said("en", "invite_title") not in doc.text_content(), path
    (digest,) = (out / "digest").glob("digest-*.html")
    doc = html.fromstring(digest.read_bytes())
    assert doc.xpath("//*[contains(@class, 'invite')]") == [] and said("en", "invite_title") not in doc.text_content()
    (plain,) = (out / "digest").glob("digest-*.txt")
    assert said("en", "invite_title") not in plain.read_text(encoding="utf-8")
    leaflet = pdf_text(out / "leaflets/room.pdf")
    assert "Something went wrong" not in leaflet and "Thank you to our customer" in leaflet


# -- site.toml ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:text/html,<b>hi</b>",
        "/complaints",
        "complaints.html",
        "ftp://acme.example/",
        "mailto:",
        "https://",
    ],
)
def test_a_complain_url_that_is_not_a_web_or_email_address_is_a_config_error(
    project: Path, cli: Callable[..., Result], url: str
) -> None:
    (project / "site.toml").write_text(f'[company]\ncomplain_url = "{url}"\n', encoding="utf-8")
    result = cli("check")
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert line.startswith("Configuration error: site.toml: company.complain_url: "), line
    assert repr(url) in line and "https://example.com/complaints" in line and "mailto:" in line
    assert "Traceback" not in result.output


def test_a_language_s_complain_url_is_checked_too(project: Path, cli: Callable[..., Result]) -> None:
    (project / "site.toml").write_text(
        '[languages.en]\n[languages.ru.company]\ncomplain_url = "javascript:alert(1)"\n', encoding="utf-8"
    )
    result = cli("check")
    assert result.exit_code == 2
    assert "languages.ru.company.complain_url: 'javascript:alert(1)' is not a web or email address" in result.output


@pytest.mark.parametrize("url", [FORM, "http://acme.example/klage", "mailto:care@acme.example?subject=Complaint"])
def test_web_and_email_addresses_are_accepted(project: Path, cli: Callable[..., Result], url: str) -> None:
    (project / "site.toml").write_text(f'[company]\ncomplain_url = "{url}"\n', encoding="utf-8")
    result = cli("check")
    assert result.exit_code == 0, result.output


# -- The digest, sent --------------------------------------------------------------------------------------


def test_each_reader_s_digest_invites_in_their_language(
    project: Path, write_case: Callable[..., Path], smtp: SmtpServer, cli: Callable[..., Result]
) -> None:
    configure(project, smtp.port)
    settings = project / "site.toml"
    text = settings.read_text(encoding="utf-8").replace(
        'email = "care@acme.example"\n',
        f'email = "care@acme.example"\nphone = "+45 70 20 30 40"\ncomplain_url = "{FORM}"\n'
        '[languages.en]\n[languages.ru.company]\ncomplain_url = "https://acme.example/ru/zhaloba"\n[languages.da]\n',
    )
    settings.write_text(text, encoding="utf-8")
    write_case("room.md", case_text(title="The room was gone", date="2026-03-05"))
    write_case("komnata.md", russian(case_text(title="Номер исчез", date="2026-03-06", language="ru")))
    (project / "people.csv").write_text(
        "email,name,language,segments\nanna@example.com,Anna,en,\nboris@example.com,Борис,ru,\n", encoding="utf-8"
    )
    result = cli("send", "--recipients", "people.csv", "--since", "2026-03-01", "--until", "2026-03-31")
    assert result.exit_code == 0, result.output
    for address, language, form in (
        ("anna@example.com", "en", FORM),
        ("boris@example.com", "ru", "https://acme.example/ru/zhaloba"),
    ):
        (message,) = smtp.recorder.to(address)
        plain, body = parts(message)
        assert said(language, "invite_title") in plain and said(language, "invite_reply") in plain, address
        assert f"{said(language, 'invite_form')}: {form}" in plain and "+45 70 20 30 40" in plain, address
        doc = html.fromstring(body)
        (invite,) = doc.xpath("//table[contains(@class, 'invite')]")
        assert invite.xpath("string(.//p[1])") == said(language, "invite_title"), address
        links = {a.text_content(): a.get("href") for a in invite.xpath(".//a")}
        assert links == {
            said(language, "invite_form"): form,
            "care@acme.example": "mailto:care@acme.example",
            "+45 70 20 30 40": "tel:+4570203040",
        }, address
        for other in others(language):
            assert other not in plain and other not in doc.text_content(), (address, other)


# -- Leaflets -------------------------------------------------------------------------------------------


def pdf_text(path: Path) -> str:
    """A PDF's text as pdftotext reads it, lines joined."""
    done = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, check=True)
    return " ".join(done.stdout.decode("utf-8").split())


def link_targets(path: Path) -> set[str]:
    """Every link annotation's URI in a PDF."""
    reader = pypdf.PdfReader(io.BytesIO(path.read_bytes()))
    found = set()
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A")
            if action is not None and "/URI" in action:
                found.add(str(action["/URI"]))
    return found


def test_each_leaflet_invites_with_links(
    project: Path, write_case: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    with_a_russian_form(project, write_case, phone="+45 70 20 30 40")
    result = cli("leaflets")
    assert result.exit_code == 0, result.output
    out = project / "dist/leaflets"
    for name, language, form in (
        ("room", "en", FORM),
        ("komnata", "ru", "https://acme.example/ru/zhaloba"),
    ):
        text = pdf_text(out / f"{name}.pdf").replace("\u200b", "")
        title = said(language, "invite_title")
        # One line under the case: the first way to write, and the phone.
        assert f"{title[:-1]}: {form} · +45 70 20 30 40" in text, text
        assert not [t for t in others(language) if t.rstrip(".") in text], name
        assert {form, "tel:+4570203040"} <= link_targets(out / f"{name}.pdf"), name


# -- In the browser -----------------------------------------------------------------------------------


def _contrast(tab: Page, selector: str) -> float:
    """WCAG contrast of an element's text against its own background, or its nearest ancestor's."""
    colours = tab.locator(selector).first.evaluate(
        """el => {
            let bg = el;
            while (bg && getComputedStyle(bg).backgroundColor === 'rgba(0, 0, 0, 0)') bg = bg.parentElement;
            return [getComputedStyle(el).color, getComputedStyle(bg).backgroundColor];
        }"""
    )
    light, dark = sorted((_luminance(colours[0]), _luminance(colours[1])), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_invitation_fits_a_phone_and_reads_in_both_schemes(
    browser: Browser, site: Path, scheme: Literal["light", "dark"]
) -> None:
    for width in (390, 1100):
        context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
        tab = context.new_page()
        tab.goto((site / "ru/cases/svadba-nomer-nashelsya/index.html").as_uri())
        invite = tab.locator("aside.invite")
        box = invite.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (width, box)
        for way in tab.locator(".invite-ways a").all():
            edge = way.bounding_box()
            assert edge is not None and edge["x"] + edge["width"] <= box["x"] + box["width"], (width, edge)
        # Tinted, not the page's background: the invitation is a block of its own.
        background = invite.evaluate("el => getComputedStyle(el).backgroundColor")
        page_background = tab.evaluate("() => getComputedStyle(document.documentElement).backgroundColor")
        assert background != page_background
        for selector in (".invite h2", ".invite p", ".invite-ways li:first-child a", ".invite-ways li:last-child a"):
            assert _contrast(tab, selector) >= 4.5, (scheme, width, selector)
        context.close()
