"""Messages put together from the byte template equal what compose and email.generator make for the same person."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from dataclasses import replace
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path

import pytest

from site_builder.cases.load import load_cases
from site_builder.digest.compose import DigestRenderer, compose, message_id
from site_builder.digest.period import Period
from site_builder.digest.unsubscribe import unsubscribe_links
from site_builder.digest.wire import DigestMessages
from site_builder.settings.config import Settings, load_settings
from tests.test_digest import parts

PERIOD = Period(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
DATE = dt.datetime(2026, 12, 31, 8, 30, tzinfo=dt.UTC)
PEOPLE = [
    ("Anna", "anna@example.com", "en"),
    (None, "nobody@example.com", "da"),
    ("Борис Иванович Петров-Водкин, эсквайр", "boris@example.com", "ru"),  # encoded words, folded
    ("Smith, John", "john@example.com", "en"),  # quoted
    ('O"Brien & <Sons>', "ob@example.com", "en"),  # escaped in HTML, quoted in To
    ("A" * 70, "a.very.long.address.for.folding@example.com", "en"),
    # Long names that need quotes: folded between words, each keeping its quotes (issue 16).
    ('Smith, John "Jack" O\'Brien \\ Jr., ' * 4 + "the Third", "jack@example.com", "en"),
    ("Anna  Lee, Jr. (Åse Ærø) " + "x" * 90 + ' "Борис" ' + "Ж" * 60, "lee@example.com", "da"),
    ("Åse", "ase@exämple.dk", "da"),  # internationalized domain: the SMTPUTF8 path
]


def expected(settings: Settings, name: str | None, address: str, language: str) -> bytes:
    """The message as compose builds it and smtplib's send_message would serialize it."""
    cases = load_cases(Path("cases"), settings)
    link = unsubscribe_links(settings, address).body
    digest = DigestRenderer(settings).render(PERIOD.select(cases), PERIOD, language, name, link)
    mid = message_id(settings, PERIOD.key, address)
    message = compose(digest, settings, to=Address(name or "", addr_spec=address), message_id=mid, date=DATE)
    policy = email.policy.SMTP if address.isascii() else email.policy.SMTPUTF8
    return message.as_bytes(policy=policy)


def parse(data: bytes) -> EmailMessage:
    """Parse bytes with the standard library."""
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


@pytest.mark.parametrize("with_url", [True, False])
def test_byte_template_equals_generator(sample_project: Path, with_url: bool) -> None:
    settings = load_settings(sample_project / "site.toml")
    if not with_url:
        settings = replace(settings, digest=replace(settings.digest, unsubscribe_url=""))
    cases = load_cases(sample_project / "cases", settings)
    messages = DigestMessages(settings, PERIOD, "care@northwind.example")
    for name, address, language in PEOPLE:
        mid = message_id(settings, PERIOD.key, address)
        built = messages.build(PERIOD.select(cases), language, name, address, mid, DATE)
        want = expected(settings, name, address, language)
        got, ref = parse(built.data), parse(want)
        assert list(got.items()) == list(ref.items()), name
        assert parts(got) == parts(ref), name
        if name:
            assert f"{name}" in parts(got)[0]
        assert got["Message-ID"] == mid
        if address.isascii():  # the parser leaves raw UTF-8 in headers as surrogates
            assert got["To"].addresses[0].addr_spec == address
        assert ("List-Unsubscribe-Post" in got) == with_url
        assert built.data == want, name  # byte for byte, in fact
        assert built.data.count(b"\r\n") == built.data.count(b"\n")  # CRLF only, as SMTP wants


def test_one_template_per_language_and_case_set(sample_project: Path) -> None:
    settings = load_settings(sample_project / "site.toml")
    cases = PERIOD.select(load_cases(sample_project / "cases", settings))
    messages = DigestMessages(settings, PERIOD, "care@northwind.example")
    for i in range(5):
        messages.build(cases, "en", f"P{i}", f"p{i}@example.com", f"<{i}@x.example>", DATE)
        messages.build(cases[:1], "en", f"P{i}", f"p{i}@example.com", f"<{i}@x.example>", DATE)
    assert len(messages._templates) == 2
