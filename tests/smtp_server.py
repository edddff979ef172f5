"""A real SMTP server (aiosmtpd) on a loopback port, recording what it accepts, with fault switches."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Recorder:
    """aiosmtpd handler: keeps every accepted message; can refuse, drop or stall (until released) on purpose."""

    messages: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    raw: dict[str, bytes] = field(default_factory=dict)  # each recipient's last message, as sent
    refuse: set[str] = field(default_factory=set)
    drop_after: int | None = None
    # Store the message, then drop the line before answering "250" (once, after this many messages).
    drop_after_storing: int | None = None
    defer: set[str] = field(default_factory=set)  # answered "451" at RCPT, every time
    stall_after: int | None = None
    stalls: int = 0
    stalled: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        if address in self.defer:
            return "451 4.2.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.drop_after is not None and len(self.messages) >= self.drop_after:
            self.drop_after = None  # only once
            server.transport.close()
            return "421 4.4.2 Connection dropped"
        if self.stall_after is not None and len(self.messages) >= self.stall_after and not self.release.is_set():
            # Every connection that gets this far is held, so a test can wait until all of them are.
            self.stalls += 1
            self.stalled.set()
            while not self.release.is_set():
                await asyncio.sleep(0.01)
            return "451 4.3.0 Aborted"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        self.raw.update(dict.fromkeys(envelope.rcpt_tos, bytes(envelope.content)))
        if self.drop_after_storing is not None and len(self.messages) > self.drop_after_storing:
            self.drop_after_storing = None  # only once
            server.transport.close()  # stored, and the "250" never reaches the sender
        return "250 2.0.0 Accepted"

    def to(self, address: str) -> list[EmailMessage]:
        """Messages accepted for `address`."""
        return [m for _, rcpts, m in self.messages if address in rcpts]


@dataclass
class SmtpServer:
    """A running server: its port and what it has received."""

    port: int
    recorder: Recorder
    controller: Controller | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def start(self) -> None:
        """Start listening (again)."""
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port, **self.options)
        self.controller.start()

    def stop(self) -> None:
        """Stop listening."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
