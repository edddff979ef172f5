"""Delivery status notifications (RFC 3464, and RFC 6533's message/global-delivery-status for
SMTPUTF8): who a message could not be delivered to, for good or for now. Pure: bytes in, facts out.

Mail servers write these reports with many small liberties (Exim puts Action before
Final-Recipient and `rfc822;` without a space, Exchange folds long fields and adds its own, Gmail
wraps its text in multipart/related, some leave out blank lines or Status), so the fields are read
by hand, tolerantly, rather than through the email package's header objects, which give up on
8-bit text in a report.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.parser
import email.policy
import quopri
import re
from dataclasses import dataclass
from email.message import Message

# Parts that carry the report's fields, and parts that carry the message it reports on.
_STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")
_RETURNED_TYPES = (
    "message/rfc822",
    "message/global",
    "text/rfc822-headers",
    "message/rfc822-headers",
    "message/global-headers",
)
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_SMTP_CODE = re.compile(r"^\s*(?:smtp\s*;)?\s*([245])\d\d\b", re.IGNORECASE)
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_UNITEXT = re.compile(r"\\x\{([0-9A-Fa-f]{1,6})\}")
# RFC 6533 utf-8-addr-unitext; an address is never longer than this (RFC 5321's path limit, with room).
_MAX_ADDRESS = 512


@dataclass(frozen=True, slots=True)
class RecipientStatus:
    """One recipient's line of a report: what became of the message for them."""

    final: str | None  # Final-Recipient's address; None when it holds none (a file, a program)
    original: str | None  # Original-Recipient's (the address as the sender wrote it), when given
    action: str  # failed, delayed, delivered, relayed or expanded (lower case)
    status: str  # like 5.1.1; "" when neither Status nor Diagnostic-Code gives one
    diagnostic: str  # the remote server's words, if any

    @property
    def permanent(self) -> bool:
        """The message will never reach this address: Action failed with a 5.x.x status."""
        return self.action == "failed" and self.status.startswith("5.")

    @property
    def address(self) -> str | None:
        """Whom it is about: Final-Recipient, or Original-Recipient when the final one is no address."""
        return self.final or self.original


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """A delivery status notification: each recipient's status, and the Message-IDs of the message
    it reports on (from the returned message or its headers, the report's fields, In-Reply-To)."""

    recipients: tuple[RecipientStatus, ...]
    original_ids: tuple[str, ...]

    @property
    def permanent(self) -> tuple[RecipientStatus, ...]:
        """The recipients the message will never reach."""
        return tuple(r for r in self.recipients if r.permanent)


def read_report(data: bytes) -> DeliveryReport | None:
    """The delivery status notification in a raw message, or None when it is none (or unreadable)."""
    try:
        message = email.message_from_bytes(data, policy=email.policy.compat32)
        return parse_report(message)
    except (ValueError, LookupError, TypeError, AttributeError, UnicodeError, email.errors.MessageError):
        # The email package's defects are recorded, not raised; these are its rare slips on
        # hostile input. Such a message is not a report we can trust: left to a person.
        return None


def parse_report(message: Message) -> DeliveryReport | None:
    """Like read_report, for a message already parsed (compat32)."""
    if message.get_content_type() != "multipart/report":
        return None
    kind = str(message.get_param("report-type", "", header="content-type") or "").lower()
    children = message.get_payload()
    if not isinstance(children, list):
        return None
    if kind not in ("delivery-status", "global-delivery-status", "") and not any(
        isinstance(c, Message) and c.get_content_type() in _STATUS_TYPES for c in children
    ):
        return None  # a disposition notification (read receipt), an abuse report...
    recipients: list[RecipientStatus] = []
    ids: list[str] = []
    found = False
    for child in children:
        if not isinstance(child, Message):
            continue
        ctype = child.get_content_type()
        if ctype in _STATUS_TYPES:
            found = True
            blocks = _blocks(_status_text(child))
            recipients += _recipients(blocks)
            ids += [_first_id(value) for block in blocks for name, value in block if name == "x-original-message-id"]
        elif ctype in _RETURNED_TYPES:
            ids += _returned_ids(child)
    if not found:
        return None
    for name in ("in-reply-to", "references"):
        ids += _MESSAGE_ID.findall(_text(message.get(name, "")))
    return DeliveryReport(tuple(recipients), tuple(dict.fromkeys(i for i in ids if i)))


def _first_id(value: object) -> str:
    """The first Message-ID in a field's value; "" when there is none."""
    found = _MESSAGE_ID.search(_text(value))
    return found[0] if found else ""


def _text(value: object) -> str:
    """A header value as the parser kept it (8-bit bytes as surrogates) as text, UTF-8 read as such."""
    return str(value).encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _status_text(part: Message) -> str:
    """The report fields of a status part as text, whatever the parser and the sender made of them."""
    payload = part.get_payload()
    if isinstance(payload, list):
        # compat32 splits message/delivery-status into one header block per recipient, and parses
        # message/global-delivery-status as a message whose body is every block after the first.
        text = "\n\n".join(
            "".join(f"{name}: {_text(value)}\n" for name, value in sub.raw_items()) + "\n" + _body(sub)
            for sub in payload
            if isinstance(sub, Message)
        )
    else:
        text = _body(part)
    encoding = str(part.get("content-transfer-encoding", "")).strip().lower()
    if encoding in ("base64", "quoted-printable") and ":" not in text.strip().partition("\n")[0]:
        raw = text.strip().encode("ascii", "ignore")
        try:
            decoded = base64.b64decode(raw) if encoding == "base64" else quopri.decodestring(raw)
        except (binascii.Error, ValueError):
            return text
        return decoded.decode("utf-8", "replace")
    return text


def _body(part: Message) -> str:
    """A leaf part's body as text: its transfer encoding undone, 8-bit bytes read as UTF-8."""
    if part.is_multipart():
        return ""
    raw = part.get_payload(decode=True)
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else ""


def _blocks(text: str) -> list[list[tuple[str, str]]]:
    """Blank-line separated groups of `Name: value` fields (names lower case, folded lines joined)."""
    blocks: list[list[tuple[str, str]]] = []
    block: list[tuple[str, str]] = []
    for line in text.splitlines():
        if not line.strip():
            if block:
                blocks.append(block)
                block = []
        elif line[:1] in (" ", "\t"):
            if block:
                name, value = block[-1]
                block[-1] = (name, f"{value} {line.strip()}")
        elif ":" in line:
            name, _, value = line.partition(":")
            block.append((name.strip().lower(), value.strip()))
    if block:
        blocks.append(block)
    return blocks


def _recipients(blocks: list[list[tuple[str, str]]]) -> list[RecipientStatus]:
    """One RecipientStatus per recipient, also when a sender left out the blank line between two."""
    found: list[RecipientStatus] = []
    for block in blocks:
        current: dict[str, str] = {}
        for name, value in block:
            starts_another = name in ("final-recipient", "original-recipient") and (
                name in current or "action" in current
            )
            if starts_another and _is_recipient(current):
                found.append(_recipient(current))
                current = {}
            current.setdefault(name, value)
        if _is_recipient(current):
            found.append(_recipient(current))
    return found


def _is_recipient(fields: dict[str, str]) -> bool:
    return "action" in fields and ("final-recipient" in fields or "original-recipient" in fields)


def _recipient(fields: dict[str, str]) -> RecipientStatus:
    diagnostic = fields.get("diagnostic-code", "")
    status = _status(fields.get("status", "")) or _status(diagnostic)
    if not status and (code := _SMTP_CODE.match(diagnostic)):
        status = f"{code[1]}.0.0"
    action = fields["action"].split(None, 1)[0].lower() if fields["action"].split() else ""
    return RecipientStatus(
        _address(fields.get("final-recipient", "")),
        _address(fields.get("original-recipient", "")),
        action,
        status,
        diagnostic[:500],
    )


def _status(text: str) -> str:
    found = _STATUS.search(text)
    return ".".join(found.groups()) if found else ""


def _address(value: str) -> str | None:
    """The address in `rfc822; anna@example.com`, `RFC822;<anna@example.com>`, `utf-8; анна@пример.рф`
    or `utf-8; anna\\x{40}...`; None for a file, a program or nothing."""
    kind, semicolon, address = value.partition(";")
    if not semicolon:
        kind, address = "rfc822", value
    address = re.sub(r"\([^()]*\)", "", address).strip().strip("<>").strip()  # (comments), <brackets>
    if kind.strip().lower() == "utf-8":
        address = _UNITEXT.sub(lambda m: _char(m[1]), address)
    local, at, domain = address.rpartition("@")
    if not (at and local and domain) or len(address) > _MAX_ADDRESS or any(c.isspace() for c in address):
        return None
    if "\ufffd" in address or not all(c.isprintable() for c in address):
        return None  # bytes that were not UTF-8, or control characters: no address to trust
    return address


def _char(hexpoint: str) -> str:
    point = int(hexpoint, 16)
    return chr(point) if point <= 0x10FFFF and not 0xD800 <= point <= 0xDFFF else "\ufffd"


def _returned_ids(part: Message) -> list[str]:
    """The Message-ID of the returned message (whole, or its headers only)."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [_first_id(sub.get("message-id", "")) for sub in payload[:1] if isinstance(sub, Message)]
    headers = email.parser.HeaderParser(policy=email.policy.compat32).parsestr(_body(part))
    return [_first_id(headers.get("message-id", ""))]
