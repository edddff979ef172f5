"""The rendered digest: files in dist/digest, a well-formed message, mail-client HTML under 100 KB."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import lxml.html
from click.testing import Result

from tests.conftest import case_text


def read_eml(path: Path) -> EmailMessage:
    """Parse an .eml file with the standard library."""
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def parts(message: EmailMessage) -> tuple[str, str]:
    """The plain-text and HTML bodies."""
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


def test_digest_files_and_message(sample_project: Path, cli: Callable[..., Result]) -> None:
    result = cli("digest", "--since", "2026-09-01", "--until", "2026-11-23")
    assert result.exit_code == 0, result.output
    folder = sample_project / "dist/digest"
    assert sorted(p.name for p in folder.iterdir()) == [
        "digest-2026-11-23.eml",
        "digest-2026-11-23.html",
        "digest-2026-11-23.txt",
    ]
    message = read_eml(folder / "digest-2026-11-23.eml")
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["Subject"] == "What we fixed: digest of November 23, 2026"
    assert message["From"] == "Northwind Services <care@northwind.example>"
    text, html = parts(message)
    assert html.rstrip() == (folder / "digest-2026-11-23.html").read_text(encoding="utf-8").rstrip()
    doc = lxml.html.fromstring(html)
    titles = [a.text_content() for a in doc.cssselect(".case-title a")]
    assert len(titles) == 5  # published cases from September on; the draft is left out
    for title in titles:
        assert title in text
    links = {a.get("href") for a in doc.cssselect("a")}
    assert "https://proof.example.com/da/cases/rengoering-glemte-etager/" in links
    assert all(link.startswith(("https://", "mailto:", "tel:")) for link in links)  # tel: the invitation's phone
    assert "https://proof.example.com/da/cases/rengoering-glemte-etager/" in text
    assert doc.get("lang") == "en"
    assert doc.cssselect("[lang=ru]") and doc.cssselect("[lang=da]")
    assert "Resolved in 9 days" in text and "Resolved in 2 days" in html  # the reader's language


def test_html_is_made_for_mail_clients(sample_project: Path, cli: Callable[..., Result]) -> None:
    assert cli("digest", "--since", "2026-06-01", "--until", "2026-11-23").exit_code == 0
    html = (sample_project / "dist/digest/digest-2026-11-23.html").read_text(encoding="utf-8")
    assert len(html.encode()) < 100 * 1024
    doc = lxml.html.fromstring(html)
    styles = " ".join(s.text_content() for s in doc.cssselect("style"))
    # Only what cannot be inlined stays in <style>: the media queries.
    without_media = re.sub(r"@media[^{]*\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}", "", styles)
    assert without_media.strip() == "", without_media
    assert "prefers-color-scheme: dark" in styles and "max-width: 620px" in styles
    assert 'style="' in html and doc.cssselect("table[role=presentation]")
    button = doc.cssselect("a.button")[0]
    assert "background-color" in button.get("style")
    preheader = doc.cssselect(".preheader")[0]
    assert "display: none" in preheader.get("style")
    assert doc.cssselect("meta[name=viewport]") and doc.cssselect("meta[name=color-scheme]")
    assert not doc.cssselect("img:not([alt])")


def test_empty_period_writes_nothing(sample_project: Path, cli: Callable[..., Result]) -> None:
    result = cli("digest", "--since", "2020-01-01", "--until", "2020-01-31")
    assert result.exit_code == 0
    assert "no published cases from 2020-01-01 to 2020-01-31; nothing written" in result.output
    assert not (sample_project / "dist/digest").exists()


def test_since_after_until_is_a_usage_error(sample_project: Path, cli: Callable[..., Result]) -> None:
    result = cli("digest", "--since", "2026-02-01", "--until", "2026-01-01")
    assert result.exit_code == 2


def test_build_includes_the_digest_of_the_last_days(sample_project: Path, cli: Callable[..., Result]) -> None:
    result = cli("build", "--until", "2026-11-10")
    assert result.exit_code == 0
    html = (sample_project / "dist/digest/digest-2026-11-10.html").read_text(encoding="utf-8")
    # 3 November: within 30 days, in English (the site's language) since the story has a translation
    assert "A car seat" in html and "Автокресло" not in html
    assert "Опоздание к утреннему поезду" not in html  # 7 October: older than 30 days


def test_too_many_cases_are_cut_to_fit_and_linked(
    project: Path, write_case: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    (project / "site.toml").write_text("[digest]\nmax_cases = 1000\n", encoding="utf-8")
    long_summary = "A long summary that keeps going. " * 12
    for i in range(400):
        day = f"2026-03-{1 + i % 28:02d}"
        write_case(f"c{i:03d}.md", case_text(title=f"Case number {i}", date=day, extra=f'summary: "{long_summary}"\n'))
    assert cli("digest", "--since", "2026-03-01", "--until", "2026-03-31").exit_code == 0
    eml = read_eml(project / "dist/digest/digest-2026-03-31.eml")
    text, html = parts(eml)
    assert len(html.encode()) <= 100 * 1024
    shown = len(lxml.html.fromstring(html).cssselect(".case-title"))
    assert 10 < shown < 400
    assert "More cases on our website" in html and "More cases on our website" in text
    assert text.count("Read the full case:") == shown


def test_untrusted_text_in_the_digest(
    project: Path, write_case: Callable[..., Path], cli: Callable[..., Result]
) -> None:
    write_case(
        "evil.md",
        case_text(
            title="<script>alert(1)</script>",
            extra='summary: "<img src=x onerror=alert(1)>"\ncustomer: "Secret Person"\n',
        ),
    )
    assert cli("digest", "--since", "2026-03-01", "--until", "2026-03-31").exit_code == 0
    text, html = parts(read_eml(project / "dist/digest/digest-2026-03-31.eml"))
    doc = lxml.html.fromstring(html)
    assert not doc.cssselect("script, img")
    assert doc.cssselect(".case-title a")[0].text_content() == "<script>alert(1)</script>"
    assert "Secret Person" not in html and "Secret Person" not in text
