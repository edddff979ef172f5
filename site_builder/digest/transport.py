"""Where digest messages go: an SMTP server, or a folder of .eml files for a dry run."""

from __future__ import annotations

import os
import smtplib
import ssl
from pathlib import Path
from typing import Protocol

from site_builder.settings.config import Smtp


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

    def send(self, message: bytes, envelope_from: str, recipient: str) -> None:
        """Deliver a serialized message (CRLF line ends) or raise TemporaryFailure / PermanentFailure / SendAborted."""

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

    def send(self, message: bytes, envelope_from: str, recipient: str) -> None:
        """Send over the open connection, opening one first when needed."""
        if self.connection is None:
            self.connection = self._open()
        try:
            _sendmail(self.connection, message, envelope_from, recipient)
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


def _sendmail(smtp: smtplib.SMTP, message: bytes, envelope_from: str, recipient: str) -> None:
    # What send_message does besides serializing: internationalized addresses need SMTPUTF8.
    options: list[str] = []
    if not (envelope_from + recipient).isascii():
        smtp.ehlo_or_helo_if_needed()
        if not smtp.has_extn("smtputf8"):
            raise smtplib.SMTPNotSupportedError("an address needs SMTPUTF8, which the server does not offer")
        options = ["SMTPUTF8", "BODY=8BITMIME"]
    smtp.sendmail(envelope_from, [recipient], message, mail_options=options)


class OutboxTransport:
    """--dry-run: each message becomes an .eml file in a folder; nothing is sent."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def send(self, message: bytes, envelope_from: str, recipient: str) -> None:
        """Write the message to the outbox (with the LF line ends of a file)."""
        self.count += 1
        (self.folder / f"{self.count:05d}-{recipient}.eml").write_bytes(message.replace(b"\r\n", b"\n"))

    def close(self) -> None:
        """Nothing to release."""
