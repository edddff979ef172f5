"""Delivery status notifications and the verdict on a mailbox's messages, as pure functions: real
servers' formats, their liberties, and hostile input."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from site_builder.digest.addresses import canonical, token
from site_builder.digest.bounces import read_report
from site_builder.digest.inbox import BOUNCED, UNSUBSCRIBED, Context, classify, parse_message

MAIL = Path(__file__).parent / "mail"


def report_of(text: str) -> bytes:
    """A minimal multipart/report around the given delivery-status fields."""
    return (
        "From: MAILER-DAEMON@mail.example\nSubject: Undelivered Mail\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
        f"--b\nContent-Type: text/plain\n\nIt bounced.\n\n--b\nContent-Type: message/delivery-status\n\n{text}\n--b--\n"
    ).encode()


@pytest.mark.parametrize(
    ("flavour", "final", "original", "status", "message_id"),
    [
        ("postfix", "carl@example.com", "carl@example.com", "5.1.1", "<0123456789abcdef01234567@acme.example>"),
        ("exim", "dora@example.net", None, "5.0.0", "<89abcdef0123456789abcdef@acme.example>"),
        ("exchange", "erik@contoso.com", None, "5.1.10", "<fedcba9876543210fedcba98@acme.example>"),
        ("gmail", "frida@example.org", None, "5.1.1", "<76543210fedcba9876543210@acme.example>"),
        ("global", "грета@пример.рф", "грета@пример.рф", "5.1.1", "<a1b2c3d4e5f6a7b8c9d0e1f2@acme.example>"),
    ],
)
def test_each_servers_permanent_failure(
    flavour: str, final: str, original: str | None, status: str, message_id: str
) -> None:
    report = read_report((MAIL / f"{flavour}.eml").read_bytes())
    assert report is not None
    [failed] = report.permanent
    assert (failed.final, failed.original, failed.action, failed.status) == (final, original, "failed", status)
    assert report.original_ids[0] == message_id
    assert failed.diagnostic.lower().startswith("smtp;")


def test_folded_diagnostic_is_one_line() -> None:
    report = read_report((MAIL / "gmail.eml").read_bytes())
    assert report is not None
    assert "does not exist. Please try 550-5.1.1 double-checking" in report.recipients[0].diagnostic
    assert "\n" not in report.recipients[0].diagnostic


def test_a_delay_is_not_permanent() -> None:
    report = read_report((MAIL / "delayed.eml").read_bytes())
    assert report is not None and report.permanent == ()
    assert (report.recipients[0].action, report.recipients[0].status) == ("delayed", "4.4.1")


@pytest.mark.parametrize(
    ("fields", "address", "status", "permanent"),
    [
        # Postfix reports a local temporary failure that expired as "failed" with a 4.x.x status.
        ("Final-Recipient: rfc822; a@example.com\nAction: failed\nStatus: 4.3.0", "a@example.com", "4.3.0", False),
        # No Status at all: the Diagnostic-Code's enhanced code, else its reply code, decides.
        (
            "Final-Recipient: rfc822;a@example.com\nAction: failed\nDiagnostic-Code: smtp; 550 5.7.1 Denied",
            "a@example.com",
            "5.7.1",
            True,
        ),
        (
            "Final-Recipient: rfc822;a@example.com\nAction: Failed (bad)\nDiagnostic-Code: smtp; 554 no",
            "a@example.com",
            "5.0.0",
            True,
        ),
        # Exim delivering to a file: no address to record.
        ("Action: failed\nFinal-Recipient: rfc822;/var/mail/spool/a\nStatus: 5.0.0", None, "5.0.0", True),
        # Angle brackets, upper-case type, a comment, a status with words after it.
        (
            "Final-Recipient: RFC822; <A@Example.com> (Anna)\nAction: FAILED\nStatus: 5.2.2 (mailbox full)",
            "A@Example.com",
            "5.2.2",
            True,
        ),
        # Original-Recipient only.
        ("Original-Recipient: rfc822;b@example.com\nAction: failed\nStatus: 5.1.1", "b@example.com", "5.1.1", True),
        # RFC 6533 unitext in a utf-8 address.
        ("Final-Recipient: utf-8; \\x{441}@example.com\nAction: failed\nStatus: 5.1.1", "с@example.com", "5.1.1", True),
        ("Final-Recipient: rfc822; a@example.com\nAction: delivered\nStatus: 2.0.0", "a@example.com", "2.0.0", False),
    ],
)
def test_recipient_fields(fields: str, address: str | None, status: str, permanent: bool) -> None:
    report = read_report(report_of(f"Reporting-MTA: dns; mail.example\n\n{fields}\n"))
    assert report is not None
    [recipient] = report.recipients
    assert (recipient.address, recipient.status, recipient.permanent) == (address, status, permanent)


def test_recipients_without_blank_lines_between_them() -> None:
    fields = (
        "Reporting-MTA: dns; mail.example\n"
        "Final-Recipient: rfc822; a@example.com\nAction: failed\nStatus: 5.1.1\n"
        "Final-Recipient: rfc822; b@example.com\nAction: delayed\nStatus: 4.4.1\n"
    )
    report = read_report(report_of(fields))
    assert report is not None
    assert [(r.final, r.permanent) for r in report.recipients] == [("a@example.com", True), ("b@example.com", False)]


def test_base64_encoded_status_part() -> None:
    import base64

    fields = base64.b64encode(
        b"Reporting-MTA: dns; x\n\nFinal-Recipient: rfc822; a@example.com\nAction: failed\nStatus: 5.1.1\n"
    )
    data = report_of("").replace(
        b"Content-Type: message/delivery-status\n\n",
        b"Content-Type: message/global-delivery-status\nContent-Transfer-Encoding: base64\n\n" + fields + b"\n",
    )
    report = read_report(data)
    assert report is not None and [r.final for r in report.permanent] == ["a@example.com"]


@pytest.mark.parametrize(
    "data",
    [
        b"Subject: hello\n\nJust a letter.\n",
        b'Content-Type: multipart/report; report-type=disposition-notification; boundary="b"\n\n--b\n'
        b"Content-Type: message/disposition-notification\n\nFinal-Recipient: rfc822; a@example.com\n"
        b"Disposition: manual-action/MDN-sent-manually; displayed\n--b--\n",
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\nno parts at all',
        b"",
        b"\x00\xff" * 1000,
    ],
)
def test_what_is_no_delivery_report(data: bytes) -> None:
    assert read_report(data) is None


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=3000), st.integers(min_value=0, max_value=6000))
def test_damaged_reports_never_raise(noise: bytes, cut: int) -> None:
    original = (MAIL / "global.eml").read_bytes()
    for data in (noise, original[:cut] + noise, noise + original[cut:]):
        report = read_report(data)
        assert report is None or all(r.address is None or "@" in r.address for r in report.recipients)


# -- the verdict on a message ----------------------------------------------------------------------

SECRET = b"s"
KNOWN = {"anna@example.com", "carl@example.com", "dora@example.net"}
SENT = {"<0123456789abcdef01234567@acme.example>": "carl@example.com"}


def verdict(data: bytes, secret: bytes | None = SECRET) -> tuple[str, tuple[str, ...], str]:
    message = parse_message(data)
    tokens = {token(SECRET, a): a for a in KNOWN}
    context = Context(frozenset(KNOWN), SENT.get, tokens, "SECRET_ENV", secret is not None)
    found = classify(message, context)
    return found.reason, found.people, found.note


@pytest.mark.parametrize(
    ("subject", "sender", "reason", "people"),
    [
        (
            f"unsubscribe {token(SECRET, 'anna@example.com')}",
            "someone@example.org",
            UNSUBSCRIBED,
            ("anna@example.com",),
        ),
        (
            f"  UNSUBSCRIBE   {token(SECRET, 'Anna@Example.com')}  ",
            "x@example.org",
            UNSUBSCRIBED,
            ("anna@example.com",),
        ),
        ("unsubscribe", "Boris <Boris@Example.COM>", UNSUBSCRIBED, ("boris@example.com",)),
        ("=?UTF-8?Q?unsubscribe?=", "boris@example.com", UNSUBSCRIBED, ("boris@example.com",)),
        ("unsubscribe <boris@example.com>", "boris@example.com", UNSUBSCRIBED, ("boris@example.com",)),
        (
            "unsubscribe",
            "=?utf-8?b?0JPRgNC10YLQsA==?= <грета@пример.рф>",
            UNSUBSCRIBED,
            (canonical("грета@пример.рф"),),
        ),
        ("Re: unsubscribe", "boris@example.com", "", ()),
        ("unsubscribe me please", "boris@example.com", "", ()),
        ("Unsubscribe button does not work", "boris@example.com", "", ()),
    ],
)
def test_unsubscribe_subjects(subject: str, sender: str, reason: str, people: tuple[str, ...]) -> None:
    data = f"From: {sender}\nSubject: {subject}\n\nbody\n".encode()
    assert verdict(data)[:2] == (reason, people)


def test_tokens_that_cannot_be_resolved_are_reported() -> None:
    stranger = token(b"other secret", "anna@example.com")
    assert "matches nobody" in verdict(f"From: a@example.com\nSubject: unsubscribe {stranger}\n\n".encode())[2]
    anna = token(SECRET, "anna@example.com")
    assert "SECRET_ENV is not set" in verdict(f"From: a@example.com\nSubject: unsubscribe {anna}\n\n".encode(), None)[2]


def test_bounces_are_ours_by_message_id_or_known_address() -> None:
    postfix = (MAIL / "postfix.eml").read_bytes()
    assert verdict(postfix)[:2] == (BOUNCED, ("carl@example.com",))
    # The same report about a message that is not a digest: a person's, left for them.
    other = postfix.replace(b"0123456789abcdef01234567@acme.example", b"personal@acme.example")
    assert verdict(other)[0] == ""
    # A report that names no message at all: recorded when the address is one the ledger knows.
    bare = report_of(
        "Reporting-MTA: dns; x\n\nFinal-Recipient: rfc822; Dora@Example.NET\nAction: failed\nStatus: 5.1.1\n"
    )
    assert verdict(bare)[:2] == (BOUNCED, ("dora@example.net",))
    stranger = bare.replace(b"Dora@Example.NET", b"nobody@example.net")
    assert verdict(stranger)[0] == ""
    assert verdict((MAIL / "delayed.eml").read_bytes())[0] == ""
