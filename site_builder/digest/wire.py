"""Each person's digest as the bytes SMTP sends, put together from a message serialized once per digest.

email.generator costs milliseconds a message; here it runs once per language and set of cases, on a
message with stand-ins, and each person's copy only re-encodes what differs: four headers, the plain
text lines that greet or link, and the HTML part (base64, done in C). The bytes equal what
`compose` and smtplib's send_message produce for the same person (tests/test_digest_bytes.py).
"""

from __future__ import annotations

import binascii
import datetime as dt
import email.policy
from dataclasses import dataclass
from email import quoprimime
from email.headerregistry import Address

from site_builder.cases.model import Case
from site_builder.digest.compose import (
    POLICY,
    STAND_INS,
    Digest,
    DigestRenderer,
    boundary,
    compose,
    personal_html,
    personal_text,
    recipient_headers,
)
from site_builder.digest.headers import mailbox_lines
from site_builder.digest.period import Period
from site_builder.digest.unsubscribe import unsubscribe_links
from site_builder.settings.config import Settings

# smtplib's send_message serializes with the message's policy (email.policy.default) and CRLF line
# ends, which is email.policy.SMTP; SMTPUTF8 when an address is not ASCII. The message's header
# classes come along (List-Unsubscribe folded as links: compose.POLICY).
_POLICY = POLICY.clone(linesep="\r\n")
_MAX_LINE = email.policy.default.max_line_length or 78  # what compose encodes the parts with
_CRLF = b"\r\n"
_STAND_IN_TO = Address("Stand In", addr_spec="stand-in@sb-9f2c41.invalid")
_STAND_IN_ID = "<stand-in-9f2c41@sb-9f2c41.invalid>"
_STAND_IN_DATE = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class Built:
    """One person's message, ready for SMTP, and the cases it shows (for the ledger)."""

    data: bytes
    cases: tuple[Case, ...]


@dataclass(frozen=True, slots=True)
class _Template:
    digest: Digest
    # Folded fixed headers, or the name of a header that differs per person.
    head: tuple[bytes | str, ...]
    # The multipart body around the two encoded payloads: before the text, between, after the HTML.
    frame: tuple[bytes, bytes, bytes]
    # Quoted-printable lines (CRLF ends), or a plain template line that holds a stand-in.
    text: tuple[bytes | str, ...]
    boundary: bytes


class DigestMessages:
    """Builds each recipient's message for one period, serializing each distinct digest only once."""

    def __init__(
        self, settings: Settings, period: Period, envelope_from: str, parts: frozenset[str] | None = None
    ) -> None:
        self.settings = settings
        self.period = period
        self.renderer = DigestRenderer(settings, parts)
        self.ascii_sender = envelope_from.isascii()
        self._templates: dict[tuple[object, ...], _Template] = {}

    def build(
        self,
        cases: tuple[Case, ...],
        language: str,
        name: str | None,
        address: str,
        message_id: str,
        date: dt.datetime,
    ) -> Built:
        """The complete message for one person, CRLF line ends, as smtplib would have sent it."""
        to = Address(display_name=name or "", addr_spec=address)
        link = unsubscribe_links(self.settings, address).body
        if not (self.ascii_sender and address.isascii()):
            # Rare: internationalized addresses need the SMTPUTF8 serialization; no shortcut.
            digest = self.renderer.render(cases, self.period, language, name, link)
            message = compose(digest, self.settings, to=to, message_id=message_id, date=date)
            return Built(message.as_bytes(policy=email.policy.SMTPUTF8), digest.cases)
        template = self._template(cases, language, name is not None, link is not None)
        headers = recipient_headers(self.settings, to=to, message_id=message_id, date=date)
        real = boundary(message_id).encode("ascii")
        head = [
            (_fold_to(to) if part == "To" else _fold(part, headers[part]))
            if isinstance(part, str)
            else part.replace(template.boundary, real)
            for part in template.head
        ]
        before, between, after = (piece.replace(template.boundary, real) for piece in template.frame)
        text = [_personal_line(line, name, link) if isinstance(line, str) else line for line in template.text]
        html = _base64(personal_html(template.digest.html, name, link))
        data = b"".join([*head, _CRLF, before, *text, between, html, after])
        return Built(data, template.digest.cases)

    def _template(self, cases: tuple[Case, ...], language: str, named: bool, linked: bool) -> _Template:
        key = (tuple(c.slug for c in cases), language, named, linked)
        template = self._templates.get(key)
        if template is None:
            digest = self.renderer.template(cases, self.period, language, named, linked)
            template = _serialize(digest, self.settings)
            self._templates[key] = template
        return template


def _personal_line(line: str, name: str | None, unsubscribe: str | None) -> bytes:
    # As compose encodes the plain text: quoted-printable, line by line, so only these lines change.
    encoded = quoprimime.body_encode(
        personal_text(line, name, unsubscribe).encode("utf-8").decode("latin-1") + "\n", _MAX_LINE
    )
    return encoded.replace("\n", "\r\n").encode("ascii")


def _serialize(digest: Digest, settings: Settings) -> _Template:
    skeleton = compose(digest, settings, to=_STAND_IN_TO, message_id=_STAND_IN_ID, date=_STAND_IN_DATE)
    personal = recipient_headers(settings, to=_STAND_IN_TO, message_id=_STAND_IN_ID, date=_STAND_IN_DATE)
    head = tuple(name if name in personal else _POLICY.fold_binary(name, value) for name, value in skeleton.raw_items())
    whole = skeleton.as_bytes(policy=_POLICY)
    body = whole[whole.index(_CRLF * 2) + 4 :]
    text_part, html_part = skeleton.iter_parts()
    text_wire, html_wire = (_wire(str(part.get_payload())) for part in (text_part, html_part))
    start = body.index(text_wire)
    middle = body.index(html_wire, start + len(text_wire))
    frame = (body[:start], body[start + len(text_wire) : middle], body[middle + len(html_wire) :])
    lines: list[bytes | str] = []
    for line in digest.text.encode("utf-8").splitlines():
        if any(s.encode() in line for s in STAND_INS):
            lines.append(line.decode("utf-8"))
        else:
            lines.append(_wire(quoprimime.body_encode(line.decode("latin-1") + "\n", _MAX_LINE)))
    return _Template(digest, head, frame, tuple(lines), boundary(_STAND_IN_ID).encode("ascii"))


def _wire(payload: str) -> bytes:
    return payload.replace("\n", "\r\n").encode("ascii")


def _fold(name: str, value: str) -> bytes:
    line = f"{name}: {value}"
    # A short ASCII value is written as is by the policy too; parsing and refolding it costs more
    # than the rest of the message.
    if len(line) < _MAX_LINE and line.isascii() and line.isprintable():
        return line.encode("ascii") + _CRLF
    return _POLICY.fold_binary(name, _POLICY.header_factory(name, value))


def _fold_to(to: Address) -> bytes:
    # As compose's header type folds it, from the Address (its string form, parsed again, would lose
    # a double space), without making the header object, which parses that string all the same.
    return "\r\n".join(mailbox_lines("To", to, _MAX_LINE)).encode("ascii") + _CRLF


def _base64(html: str) -> bytes:
    # As compose does it: lines joined with LF, then base64 in 76-character lines (57 bytes each).
    data = b"\n".join(html.encode("utf-8").splitlines()) + b"\n"
    encoded = binascii.b2a_base64(data, newline=False)
    return b"".join([encoded[i : i + 76] + _CRLF for i in range(0, len(encoded), 76)])
