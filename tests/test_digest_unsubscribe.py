"""Leaving the list: each message's unsubscribe links (body and List-Unsubscribe) carry a token, never
the address; the token they carry is what `site-builder unsubscribe` resolves; each message links
its web copy. Through the command line, against a real SMTP server."""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path

import lxml.html
import pytest
from click.testing import Result

from site_builder.digest.addresses import token
from tests.conftest import ROOT, SECRET, case_text, tool_state
from tests.smtp_server import SmtpServer
from tests.test_digest import parts, read_eml
from tests.test_digest_languages import DA_HEADINGS, RU_HEADINGS, translated
from tests.test_send import configure

PEOPLE = "email,name,language\nanna@example.com,Anna,en\nboris@example.com,Борис,ru\ncarl@example.com,Carl,da\n"
MARCH = ("send", "--recipients", "people.csv", "--since", "2026-03-01", "--until", "2026-03-31")
APRIL = ("send", "--recipients", "people.csv", "--since", "2026-04-01", "--until", "2026-04-30")
# What each reader's message says, in their language: the footer's link, the web copy's.
WORDS = {
    "en": ("Unsubscribe", "Unsubscribe by email", "View this email in your browser"),
    "ru": ("Отписаться", "Отписаться письмом", "Открыть письмо в браузере"),
    "da": ("Afmeld", "Afmeld via e-mail", "Se e-mailen i din browser"),
}
READERS = {"anna@example.com": "en", "boris@example.com": "ru", "carl@example.com": "da"}


@pytest.fixture
def readers(project: Path, write_case: Callable[..., Path], smtp: SmtpServer) -> Path:
    """One story in English, Russian and Danish in March, three readers (en, ru, da), the server configured."""
    configure(project, smtp.port)
    key = "translation_key: room\n"
    write_case("room.md", case_text(title="The room was gone", date="2026-03-05", extra=key))
    ru = case_text(title="Номер исчез", date="2026-03-05", language="ru", extra=key)
    write_case("komnata.md", translated(ru, RU_HEADINGS).replace("industry: hotels", "industry: гостиницы"))
    write_case(
        "vaerelse.md",
        translated(case_text(title="Værelset var væk", date="2026-03-05", language="da", extra=key), DA_HEADINGS),
    )
    (project / "people.csv").write_text(PEOPLE, encoding="utf-8")
    return project


def footer_link(html: str) -> tuple[str, str]:
    """The footer's unsubscribe link: (its text, its address)."""
    (link,) = lxml.html.fromstring(html).cssselect("td.footer a")
    return link.text_content(), str(link.get("href"))


def header_links(message: EmailMessage) -> list[str]:
    """The links of List-Unsubscribe, in order."""
    return re.findall(r"<([^>]+)>", str(message["List-Unsubscribe"]))


def test_each_message_links_its_readers_token_in_body_and_header(
    readers: Path, smtp: SmtpServer, cli: Callable[..., Result]
) -> None:
    result = cli(*MARCH)
    assert result.exit_code == 0, result.output
    for address, language in READERS.items():
        (message,) = smtp.recorder.to(address)
        text, html = parts(message)
        mine = token(SECRET.encode(), address)
        https = f"https://acme.example/unsubscribe?t={mine}"
        assert footer_link(html) == (WORDS[language][0], https)
        assert f"{WORDS[language][0]}: {https}" in text.splitlines()
        assert header_links(message) == [f"mailto:care@acme.example?subject=unsubscribe%20{mine}", https]
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        # The address is in the To header and nowhere else: no link names the reader.
        raw = smtp.recorder.raw[address].decode("ascii")
        assert raw.count(address) == 1 and address.replace("@", "%40") not in raw
        assert address not in text and address not in html


def test_without_a_url_the_body_links_the_mailto_with_the_token(
    readers: Path, smtp: SmtpServer, cli: Callable[..., Result]
) -> None:
    configure(readers, smtp.port, 'unsubscribe_mailto = "leave@acme.example"\n')
    toml = readers / "site.toml"
    toml.write_text(re.sub(r"unsubscribe_url = .*\n", "", toml.read_text(encoding="utf-8")), encoding="utf-8")
    assert cli(*MARCH).exit_code == 0
    for address, language in READERS.items():
        (message,) = smtp.recorder.to(address)
        text, html = parts(message)
        mailto = f"mailto:leave@acme.example?subject=unsubscribe%20{token(SECRET.encode(), address)}"
        assert footer_link(html) == (WORDS[language][1], mailto)
        assert f"{WORDS[language][1]}: {mailto}" in text.splitlines()
        assert header_links(message) == [mailto]
        assert "List-Unsubscribe-Post" not in message  # one-click needs the https link


def test_without_a_secret_the_mailto_subject_is_plain(
    readers: Path, smtp: SmtpServer, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SITE_BUILDER_UNSUBSCRIBE_SECRET")
    toml = readers / "site.toml"
    toml.write_text(re.sub(r"unsubscribe_url = .*\n", "", toml.read_text(encoding="utf-8")), encoding="utf-8")
    assert cli(*MARCH).exit_code == 0
    for address, language in READERS.items():
        (message,) = smtp.recorder.to(address)
        _, html = parts(message)
        # The mailbox reader then takes the sender of the request for the person.
        assert footer_link(html) == (WORDS[language][1], "mailto:care@acme.example?subject=unsubscribe")
        assert header_links(message) == ["mailto:care@acme.example?subject=unsubscribe"]


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_url_without_the_secret_stops_send_before_anything_is_sent(
    readers: Path, smtp: SmtpServer, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch, dry_run: bool
) -> None:
    monkeypatch.delenv("SITE_BUILDER_UNSUBSCRIBE_SECRET")
    result = cli(*MARCH, *(("--dry-run", "outbox") if dry_run else ()))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "Configuration error: [digest] unsubscribe_url is set; put the secret that signs its tokens in "
        "SITE_BUILDER_UNSUBSCRIBE_SECRET (long random text, the same for every run)"
    ]
    assert smtp.recorder.messages == [] and not (readers / "outbox").exists()
    assert tool_state(readers) == []


def test_an_address_in_the_url_is_a_configuration_error(
    readers: Path, smtp: SmtpServer, cli: Callable[..., Result]
) -> None:
    toml = readers / "site.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("{token}", "{email}"), encoding="utf-8")
    for command in (MARCH, ("build",)):
        result = cli(*command)
        assert result.exit_code == 2
        assert result.stderr.strip().splitlines() == [
            "Configuration error: site.toml: digest.unsubscribe_url: 'https://acme.example/unsubscribe?t={email}' "
            "puts the reader's address in the link; write {token} instead (site-builder unsubscribe TOKEN tells whose it is)"
        ]
    toml.write_text(toml.read_text(encoding="utf-8").replace("?t={email}", ""), encoding="utf-8")
    result = cli(*MARCH)
    assert result.exit_code == 2
    assert "digest.unsubscribe_url: 'https://acme.example/unsubscribe' must be an https URL containing {token}" in (
        result.stderr
    )
    assert smtp.recorder.messages == []


def test_no_way_to_unsubscribe_stops_send(readers: Path, smtp: SmtpServer, cli: Callable[..., Result]) -> None:
    toml = readers / "site.toml"
    text = re.sub(r"unsubscribe_url = .*\n", "", toml.read_text(encoding="utf-8"))
    toml.write_text(text.replace('email = "care@acme.example"', 'email = ""\n'), encoding="utf-8")
    toml.write_text(toml.read_text(encoding="utf-8") + 'sender = "Acme <news@acme.example>"\n', encoding="utf-8")
    result = cli(*MARCH)
    assert result.exit_code == 2
    assert "a message would have no unsubscribe link; set [digest] unsubscribe_url or unsubscribe_mailto" in (
        result.stderr
    )
    assert smtp.recorder.messages == []


def test_the_token_of_a_received_link_unsubscribes_through_the_cli(
    readers: Path, smtp: SmtpServer, cli: Callable[..., Result], write_case: Callable[..., Path]
) -> None:
    assert cli(*MARCH).exit_code == 0
    # Anna clicks the link in her message's body; Boris writes to the List-Unsubscribe mailto.
    (anna,) = smtp.recorder.to("anna@example.com")
    _, href = footer_link(parts(anna)[1])
    anna_token = urllib.parse.parse_qs(urllib.parse.urlsplit(href).query)["t"][0]
    (boris,) = smtp.recorder.to("boris@example.com")
    mailto = urllib.parse.urlsplit(header_links(boris)[0])
    subject = urllib.parse.parse_qs(mailto.query)["subject"][0]
    assert subject.startswith("unsubscribe ")
    boris_token = subject.removeprefix("unsubscribe ")
    result = cli("unsubscribe", anna_token, boris_token)
    assert result.exit_code == 0, result.output
    assert "2 added to the list of people never sent the digest" in result.output
    listed = cli("unsubscribe", "--list").output
    assert "anna@example.com\tunsubscribed" in listed and "boris@example.com\tunsubscribed" in listed
    write_case("april.md", case_text(title="The lift was stuck", date="2026-04-02"))
    smtp.recorder.messages.clear()
    result = cli(*APRIL)
    assert result.exit_code == 0, result.output
    assert "2 left out: unsubscribed or bounced" in result.output
    assert [rcpts for _, rcpts, _ in smtp.recorder.messages] == [["carl@example.com"]]


def test_each_message_links_its_web_copy_in_the_readers_language(
    readers: Path, smtp: SmtpServer, cli: Callable[..., Result]
) -> None:
    assert cli(*MARCH).exit_code == 0
    for address, language in READERS.items():
        (message,) = smtp.recorder.to(address)
        text, html = parts(message)
        prefix = "" if language == "en" else f"{language}/"
        url = f"https://proof.example.org/{prefix}digests/2026-03-31/"
        # Near the top: the first link of the HTML, the third line of the text.
        first = lxml.html.fromstring(html).cssselect("a")[0]
        assert (first.text_content(), first.get("href")) == (WORDS[language][2], url)
        assert text.splitlines()[2] == f"{WORDS[language][2]}: {url}"


def test_the_preview_is_addressed_to_the_company_with_its_own_links(
    readers: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("build", "--until", "2026-03-31").exit_code == 0
    eml = readers / "dist/digest/digest-2026-03-31.eml"
    message = read_eml(eml)
    mine = token(SECRET.encode(), "care@acme.example")
    assert message["To"] == "Acme <care@acme.example>"
    https = f"https://acme.example/unsubscribe?t={mine}"
    assert header_links(message) == [f"mailto:care@acme.example?subject=unsubscribe%20{mine}", https]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert footer_link(parts(message)[1])[1] == https
    # Another secret, or none, makes the preview again on the next build (it is in no file).
    monkeypatch.setenv("SITE_BUILDER_UNSUBSCRIBE_SECRET", "another secret")
    assert cli("build", "--until", "2026-03-31").exit_code == 0
    other = token(b"another secret", "care@acme.example")
    assert header_links(read_eml(eml))[1] == f"https://acme.example/unsubscribe?t={other}"
    monkeypatch.delenv("SITE_BUILDER_UNSUBSCRIBE_SECRET")
    assert cli("build", "--until", "2026-03-31").exit_code == 0
    message = read_eml(eml)
    assert header_links(message) == ["mailto:care@acme.example?subject=unsubscribe"]
    assert "List-Unsubscribe-Post" not in message
    assert footer_link(parts(message)[1]) == ("Unsubscribe by email", "mailto:care@acme.example?subject=unsubscribe")


ENDPOINT = ROOT / "docs/unsubscribe_endpoint.py"


@pytest.fixture
def endpoint(readers: Path) -> Iterator[tuple[str, Path]]:
    """docs/unsubscribe_endpoint.py running on loopback: its base URL and the file it writes."""
    tokens = readers / "unsubscribed.txt"
    command = [sys.executable, str(ENDPOINT), "--file", str(tokens), "--port", "0"]
    # Leaving the block closes the pipe and waits for the process.
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as process:
        try:
            assert process.stdout is not None
            first = process.stdout.readline()  # printed once it listens
            port = re.search(r"http://127\.0\.0\.1:(\d+)/", first)
            assert port, first
            yield f"http://127.0.0.1:{port[1]}", tokens
        finally:
            process.terminate()


def request(url: str, body: bytes | None = None, content_type: str = "") -> tuple[int, str]:
    """GET (or POST `body`) and return the status and the page."""
    headers = {"Content-Type": content_type} if content_type else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, body, headers), timeout=10) as answer:
            return answer.status, answer.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")


def test_the_one_click_endpoint_records_tokens_that_the_cli_resolves(
    readers: Path,
    endpoint: tuple[str, Path],
    smtp: SmtpServer,
    cli: Callable[..., Result],
    write_case: Callable[..., Path],
) -> None:
    base, tokens = endpoint
    assert cli(*MARCH).exit_code == 0

    def local(address: str) -> str:
        """The https link of a reader's List-Unsubscribe, pointed at the endpoint on loopback."""
        (message,) = smtp.recorder.to(address)
        link = urllib.parse.urlsplit(header_links(message)[1])
        return f"{base}{link.path}?{link.query}"

    # A GET (a link scanner, or the reader) shows the button and records nothing.
    status, page = request(local("anna@example.com"))
    assert status == 200 and 'name="List-Unsubscribe" value="One-Click"' in page and 'method="post"' in page
    assert not tokens.exists()
    # Something else than the one-click body, or a link cut short, records nothing either.
    assert request(local("anna@example.com"), b"unsubscribe=yes", "application/x-www-form-urlencoded")[0] == 400
    assert request(f"{base}/unsubscribe?t=short", b"List-Unsubscribe=One-Click")[0] == 400
    assert not tokens.exists()
    # RFC 8058's POST, as a mail provider makes it: form-encoded, or multipart.
    status, _ = request(local("anna@example.com"), b"List-Unsubscribe=One-Click", "application/x-www-form-urlencoded")
    assert status == 200
    multipart = b'--XyZ\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--XyZ--\r\n'
    assert request(local("boris@example.com"), multipart, "multipart/form-data; boundary=XyZ")[0] == 200
    written = [line.split("#")[0].strip() for line in tokens.read_text(encoding="utf-8").splitlines()]
    assert written == [token(SECRET.encode(), a) for a in ("anna@example.com", "boris@example.com")]
    result = cli("unsubscribe", "--from-file", str(tokens))
    assert result.exit_code == 0, result.output
    assert "2 added to the list of people never sent the digest" in result.output
    write_case("april.md", case_text(title="The lift was stuck", date="2026-04-02"))
    smtp.recorder.messages.clear()
    result = cli(*APRIL)
    assert result.exit_code == 0, result.output
    assert [rcpts for _, rcpts, _ in smtp.recorder.messages] == [["carl@example.com"]]
