"""Where digest messages go: an SMTP server, or a folder of .eml files for a dry run."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

from site_builder.settings.config import Smtp


class TemporaryFailure(Exception):
    """The server could not take the message now (4xx, connection lost); worth retrying."""


class ConnectFailure(TemporaryFailure):
    """The server cannot be reached at all; after the retries, the whole run stops."""


class PermanentFailure(Exception):
    """The server refused the message for good (5xx); retrying will not help."""


class UncertainDelivery(Exception):
    """The whole message went out and the connection ended before the server answered: the server
    may have stored it. Sending it again could give the person a second copy."""


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


@dataclasses.dataclass
class _Exchange:
    """One armed exchange: when it must end, and whether it ran out of time."""

    until: float
    expired: bool = False


class _Deadline:
    """A limit on a whole SMTP exchange, not only on each read: a server that answers one byte at a
    time would pass every per-read timeout. When it passes, the connection's socket is shut down,
    which ends whatever read or write smtplib is blocked in (again every 50 ms until the exchange
    ends, so a socket opened just after is cut too). One watching thread per connection, started when
    first needed: a thread started per message cost more than the rest of the client's work."""

    def __init__(self, connection: Callable[[], smtplib.SMTP | None]) -> None:
        self._connection = connection
        self._changed = threading.Condition()
        self._exchange: _Exchange | None = None
        self._watch: threading.Thread | None = None
        self._closing = False

    @contextlib.contextmanager
    def armed(self, seconds: float) -> Iterator[_Exchange]:
        """Cut the connection if the block takes longer than `seconds` (a block inside another one,
        such as saying goodbye after a failure, has its own limit and the outer one resumes after)."""
        exchange = _Exchange(time.monotonic() + seconds)
        with self._changed:
            outer, self._exchange = self._exchange, exchange
            if self._watch is None:
                self._closing = False
                self._watch = threading.Thread(target=self._run, name="smtp-deadline", daemon=True)
                self._watch.start()
            self._changed.notify()
        try:
            yield exchange
        finally:
            with self._changed:
                self._exchange = outer
                self._changed.notify()

    def stop(self) -> None:
        """End the watching thread (a later `armed` starts another)."""
        with self._changed:
            watch, self._watch = self._watch, None
            self._closing = True
            self._changed.notify()
        if watch is not None and watch is not threading.current_thread():
            watch.join()

    def _run(self) -> None:
        with self._changed:
            while not self._closing:
                exchange = self._exchange
                if exchange is None:
                    self._changed.wait()
                    continue
                left = exchange.until - time.monotonic()
                if left > 0:
                    self._changed.wait(left)
                    continue
                exchange.expired = True
                smtp = self._connection()
                if smtp is not None and smtp.sock is not None:
                    with contextlib.suppress(OSError):
                        smtp.sock.shutdown(socket.SHUT_RDWR)
                self._changed.wait(0.05)


class _Watched(smtplib.SMTP):
    """smtplib's SMTP, noting when a message's data has been written to the end (its final dot)."""

    data_sent = False

    def data(self, msg: ReadableBuffer | str) -> tuple[int, bytes]:
        """smtplib's DATA, noting when the final dot is out: a failure after it may come after the
        server stored the message. Dot-stuffing with bytes.replace: smtplib's regex took longer than
        building the message."""
        self.putcmd("data")
        code, reply = self.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        data = msg.encode("ascii") if isinstance(msg, str) else bytes(msg)
        data = (b"." if data.startswith(b".") else b"") + data.replace(b"\n.", b"\n..")
        if not data.endswith(b"\r\n"):
            data += b"\r\n"
        self.send(data + b".\r\n")
        self.data_sent = True
        return self.getreply()


class _WatchedSSL(_Watched, smtplib.SMTP_SSL):
    """The same over TLS from the start."""


class SmtpTransport:
    """One SMTP connection, reopened when the server drops it. Each message's whole exchange (with
    connecting, when it opens the connection) must end within [smtp] timeout."""

    def __init__(self, config: Smtp) -> None:
        self.config = config
        self.password = os.environ.get(config.password_env) if config.username else None
        self.connection: _Watched | None = None
        # The connection being opened or used, for the deadline's watch to cut.
        self._current: smtplib.SMTP | None = None
        self._deadline = _Deadline(lambda: self._current)

    def _connect(self) -> _Watched:
        c = self.config
        context = ssl.create_default_context()
        smtp: _Watched | None = None
        try:
            # Made unconnected, then connected: so the deadline can cut a greeting that never ends.
            smtp = (
                _WatchedSSL(timeout=c.timeout, context=context) if c.security == "ssl" else _Watched(timeout=c.timeout)
            )
            vars(smtp)["_host"] = c.host  # what the constructor would set: the name TLS checks
            self._current = smtp
            code, reply = smtp.connect(c.host, c.effective_port)
            if code != 220:
                raise smtplib.SMTPConnectError(code, reply)
            if c.security == "starttls":
                smtp.starttls(context=context)
            if c.username:
                smtp.login(c.username, self.password or "")
            return smtp
        except BaseException:
            if smtp is not None:
                smtp.close()
            raise

    def _open(self) -> _Watched:
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
        """Send over the open connection, opening one first when needed; all within [smtp] timeout."""
        with self._deadline.armed(self.config.timeout) as deadline:
            try:
                self._send(message, envelope_from, recipient)
            except UncertainDelivery as exc:
                if deadline.expired:
                    raise UncertainDelivery(
                        f"the whole message went out and no answer came within {self.config.timeout:g} s"
                        " ([smtp] timeout): the server may have it"
                    ) from exc
                raise
            except (TemporaryFailure, PermanentFailure) as exc:
                if not deadline.expired:
                    raise
                self.close()
                c = self.config
                late = f"no complete answer within {c.timeout:g} s ([smtp] timeout)"
                if isinstance(exc, ConnectFailure):
                    raise ConnectFailure(f"cannot connect to {c.host}:{c.effective_port}: {late}") from exc
                raise TemporaryFailure(f"the server was too slow: {late}") from exc

    def _send(self, message: bytes, envelope_from: str, recipient: str) -> None:
        if self.connection is None:
            self.connection = self._open()
        self._current = self.connection
        self.connection.data_sent = False
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
            sent = self.connection.data_sent
            self.close()
            if sent:
                raise UncertainDelivery(
                    f"the whole message went out and the line dropped before the server confirmed it ({exc})"
                ) from exc
            raise TemporaryFailure(f"connection lost: {exc}") from exc

    def close(self) -> None:
        """Say goodbye politely when possible (and within [smtp] timeout)."""
        if self.connection is not None:
            self._current = self.connection
            with self._deadline.armed(self.config.timeout):
                try:
                    self.connection.quit()
                except (OSError, smtplib.SMTPException):
                    self.connection.close()
            self.connection = None
        self._deadline.stop()


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
