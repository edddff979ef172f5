"""Sending the digest over SMTP: one message per person, recorded in the ledger, never twice."""

from __future__ import annotations

import datetime as dt
import os
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Protocol

from site_builder.cases import Case
from site_builder.config import Settings, Smtp
from site_builder.ledger import Delivery, Ledger
from site_builder.recipients import Recipient
from site_builder.render.digest import DigestRenderer, Period, compose, message_id, sender, unsubscribe_links


class TemporaryFailure(Exception):
    """The server could not take the message now (4xx, connection lost); worth retrying."""


class ConnectFailure(TemporaryFailure):
    """The server cannot be reached at all; after the retries, the whole run stops."""


class PermanentFailure(Exception):
    """The server refused the message for good (5xx); retrying will not help."""


class SendAborted(Exception):
    """Sending cannot go on at all (server unreachable, login refused); the rest stay unsent."""


class Transport(Protocol):
    """Something that delivers one message to one address."""

    def send(self, message: EmailMessage, envelope_from: str, recipient: str) -> None:
        """Deliver or raise TemporaryFailure / PermanentFailure / SendAborted."""

    def close(self) -> None:
        """Release the connection."""


def _classify(code: int, text: str) -> Exception:
    return PermanentFailure(f"{code} {text}") if code >= 500 else TemporaryFailure(f"{code} {text}")


class SmtpTransport:
    """One SMTP connection, reopened when the server drops it."""

    def __init__(self, config: Smtp) -> None:
        self.config = config
        self.password = os.environ.get(config.password_env) if config.username else None
        self.connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        context = ssl.create_default_context()
        smtp: smtplib.SMTP | None = None
        try:
            if c.security == "ssl":
                smtp = smtplib.SMTP_SSL(c.host, c.effective_port, timeout=c.timeout, context=context)
            else:
                smtp = smtplib.SMTP(c.host, c.effective_port, timeout=c.timeout)
                if c.security == "starttls":
                    smtp.starttls(context=context)
            if c.username:
                smtp.login(c.username, self.password or "")
            return smtp
        except BaseException:
            if smtp is not None:
                smtp.close()
            raise

    def _open(self) -> smtplib.SMTP:
        c = self.config
        try:
            return self._connect()
        except smtplib.SMTPAuthenticationError as exc:
            raise SendAborted(f"the server refused the login for {c.username!r}: {exc.smtp_code}") from exc
        except smtplib.SMTPNotSupportedError as exc:
            wanted = f"{c.security} and login" if c.username else c.security
            raise SendAborted(f"the server does not support what [smtp] asks for ({wanted}): {exc}") from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise ConnectFailure(f"cannot connect to {c.host}:{c.effective_port}: {exc}") from exc

    def send(self, message: EmailMessage, envelope_from: str, recipient: str) -> None:
        """Send over the open connection, opening one first when needed."""
        if self.connection is None:
            self.connection = self._open()
        try:
            self.connection.send_message(message, from_addr=envelope_from, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise _classify(code, text.decode(errors="replace")) from exc
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code < 500:
                self.close()
            raise _classify(exc.smtp_code, str(exc.smtp_error)) from exc
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise TemporaryFailure(f"connection lost: {exc}") from exc

    def close(self) -> None:
        """Say goodbye politely when possible."""
        if self.connection is not None:
            try:
                self.connection.quit()
            except (OSError, smtplib.SMTPException):
                self.connection.close()
            self.connection = None


class OutboxTransport:
    """--dry-run: each message becomes an .eml file in a folder; nothing is sent."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def send(self, message: EmailMessage, envelope_from: str, recipient: str) -> None:
        """Write the message to the outbox."""
        self.count += 1
        (self.folder / f"{self.count:05d}-{recipient}.eml").write_bytes(message.as_bytes())

    def close(self) -> None:
        """Nothing to release."""


@dataclass(slots=True)
class SendReport:
    """What happened to each person on the list."""

    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    nothing_new: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    deferred: list[tuple[str, str]] = field(default_factory=list)
    aborted: str | None = None


@dataclass(frozen=True, slots=True)
class SendOptions:
    """How to pace and retry; `record` is False for a dry run, which must not touch the ledger."""

    rate: float | None = None
    record: bool = True
    sleep: Callable[[float], None] = time.sleep


def send_digest(
    cases: tuple[Case, ...],
    recipients: tuple[Recipient, ...],
    settings: Settings,
    period: Period,
    transport: Transport,
    ledger: Ledger,
    options: SendOptions,
    progress: Callable[[Recipient], None] = lambda _: None,
) -> SendReport:
    """Send each recipient the cases of `period` they want and have not had; every step is in the ledger."""
    renderer = DigestRenderer(settings)
    envelope_from = parseaddr(sender(settings))[1]
    report = SendReport()
    due = _plan(period.select(cases), recipients, period, ledger, report)
    last_send = 0.0
    for index, (person, chosen, known) in enumerate(due):
        progress(person)
        _, https = unsubscribe_links(settings, person.email)
        digest = renderer.render(chosen, period, person.language, person.name, https)
        # Reusing the Message-ID on a retry lets mail software spot the (rare) double delivery.
        mid = known.message_id if known is not None else message_id(settings, period.key, person.email)
        to = Address(display_name=person.name or "", addr_spec=person.email)
        message = compose(digest, settings, to=to, message_id=mid, date=dt.datetime.now(dt.UTC))
        if options.record:
            ledger.claim(period.key, person.email, mid, period.until)
        if options.rate:
            wait = last_send + 1 / options.rate - time.monotonic()
            if wait > 0:
                options.sleep(wait)
        last_send = time.monotonic()
        outcome = _deliver(transport, message, envelope_from, person.email, settings, options)
        if outcome is None:
            if options.record:
                ledger.mark_sent(period.key, person.email, [c.slug for c in digest.cases])
            report.sent.append(person.email)
        elif isinstance(outcome, PermanentFailure):
            if options.record:
                ledger.mark(period.key, person.email, "failed", str(outcome))
            report.failed.append((person.email, str(outcome)))
        else:
            if options.record:
                ledger.mark(period.key, person.email, "deferred", str(outcome))
            report.deferred.append((person.email, str(outcome)))
            if isinstance(outcome, SendAborted | ConnectFailure):
                report.aborted = str(outcome)
                report.deferred.extend((p.email, "not tried") for p, _, _ in due[index + 1 :])
                break
    transport.close()
    return report


def _plan(
    in_period: tuple[Case, ...], recipients: tuple[Recipient, ...], period: Period, ledger: Ledger, report: SendReport
) -> list[tuple[Recipient, tuple[Case, ...], Delivery | None]]:
    """Who is due a message and with which cases; the rest go to the report as skipped or nothing new."""
    due = []
    for person in recipients:
        known = ledger.delivery(period.key, person.email)
        if known is not None and known.status == "sent":
            report.skipped.append(person.email)
            continue
        had = ledger.delivered_slugs(person.email)
        chosen = tuple(c for c in in_period if person.wants(c) and c.slug not in had)
        if chosen:
            due.append((person, chosen, known))
        else:
            report.nothing_new.append(person.email)
    return due


def _deliver(
    transport: Transport,
    message: EmailMessage,
    envelope_from: str,
    email: str,
    settings: Settings,
    options: SendOptions,
) -> Exception | None:
    """Try up to `retries` times with doubling waits; None on success, else the last failure."""
    last: Exception | None = None
    for attempt in range(settings.digest.retries):
        if attempt:
            options.sleep(settings.digest.backoff * 2 ** (attempt - 1))
        try:
            transport.send(message, envelope_from, email)
            return None
        except PermanentFailure as exc:
            return exc
        except SendAborted as exc:
            return exc
        except TemporaryFailure as exc:
            last = exc
    return last
