"""What a message in the mailbox asks of the digest: never to be sent it again (an unsubscribe
request), that an address no longer takes it (a permanent bounce of a digest), or nothing (it stays
where it is, for a person). Pure: a message's bytes and what the ledger knows in, a verdict out."""

from __future__ import annotations

import email
import email.policy
import email.utils
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.header import decode_header
from email.message import Message

from email_validator import EmailNotValidError, validate_email

from site_builder.digest.addresses import canonical, is_token, resolve
from site_builder.digest.bounces import parse_report

# The subject the digest's mailto link sets ("unsubscribe <token>"; digests sent before tokens
# said "unsubscribe <address>"), or the bare word a person types.
_REQUEST = re.compile(r"unsubscribe(?:\s+<?(\S+?)>?)?", re.IGNORECASE)
UNSUBSCRIBED, BOUNCED = "unsubscribed", "bounced"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What to do with one message: record `people` for `reason` and move it, or (reason "") leave
    it; `note` says why a message that looked like ours is left, for a person to look at."""

    reason: str
    people: tuple[str, ...] = ()
    note: str = ""

    @property
    def handled(self) -> bool:
        """Recorded in the ledger, then moved out of the folder."""
        return bool(self.reason)


LEFT = Verdict("")


@dataclass(frozen=True, slots=True)
class Context:
    """What the ledger knows, for telling whose a request or a bounce is."""

    known: frozenset[str]  # canonical addresses the ledger has a record of
    recipient_of: Callable[[str], str | None]  # a digest's Message-ID -> its recipient
    tokens: Mapping[str, str]  # token -> canonical address, for the tokens of this run's requests
    secret_env: str  # where the token secret comes from
    has_secret: bool


def tokens_of(messages: Iterable[Message]) -> set[str]:
    """The unsubscribe tokens these messages' subjects carry (to resolve them all at once)."""
    found = set()
    for message in messages:
        request = _REQUEST.fullmatch(header(message, "subject"))
        if request and request[1] is not None and is_token(request[1]):
            found.add(request[1])
    return found


def resolve_tokens(tokens: Iterable[str], known: Iterable[str], secret: bytes | None) -> dict[str, str]:
    """Token -> canonical address among `known` (one HMAC per known address, once per run)."""
    wanted = set(tokens)
    return resolve(wanted, known, secret) if wanted and secret is not None else {}


def header_text(value: object) -> str:
    """A header's value as a person reads it: RFC 2047 encoded words and 8-bit UTF-8 decoded, each
    run of white space one space. Never raises: a value in an unknown charset stays as it came."""
    text = str(value).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    try:
        # decode_header gives the text between encoded words back as raw-unicode-escape bytes.
        pieces = [
            part if isinstance(part, str) else part.decode(charset or "raw-unicode-escape", "replace")
            for part, charset in decode_header(text)
        ]
    except (HeaderParseError, LookupError, UnicodeError, ValueError):
        pieces = [text]  # an unknown charset, a broken encoded word: the raw text is all there is
    return " ".join("".join(pieces).split())


def header(message: Message, name: str) -> str:
    """A header's raw value (8-bit bytes kept, unlike compat32's get, which replaces them), as text."""
    for key, value in message.raw_items():
        if key.lower() == name:
            return header_text(value)
    return ""


def parse_message(data: bytes) -> Message:
    """A message (or only its headers) as the email package reads it, tolerating any damage."""
    return email.message_from_bytes(data, policy=email.policy.compat32)


def is_report(headers: Message) -> bool:
    """Whether a message may be a delivery status notification (then its body is worth fetching)."""
    return headers.get_content_type() == "multipart/report"


def classify(message: Message, context: Context) -> Verdict:
    """The verdict on one message (its headers, with the body when it is a report)."""
    subject = header(message, "subject")
    request = _REQUEST.fullmatch(subject)
    if request:
        return _unsubscribe(request[1], message, context)
    if is_report(message):
        return _bounce(message, context)
    return LEFT


def _sender(message: Message) -> str | None:
    """The one address in From, checked; None when there is none or several."""
    pairs = [(name, addr) for name, addr in email.utils.getaddresses([header(message, "from")]) if addr]
    if len(pairs) != 1:
        return None
    try:
        checked = validate_email(pairs[0][1], check_deliverability=False)
    except EmailNotValidError:
        return None
    return canonical(checked.ascii_email or checked.normalized)


def _unsubscribe(argument: str | None, message: Message, context: Context) -> Verdict:
    sender = _sender(message)
    if argument is not None and is_token(argument):
        if not context.has_secret:
            return Verdict("", note=f"an unsubscribe token, and {context.secret_env} is not set: left for a person")
        person = context.tokens.get(argument)
        if person is None:
            return Verdict("", note=f"unsubscribe token {argument} matches nobody the ledger knows: left for a person")
        return Verdict(UNSUBSCRIBED, (person,))
    if argument is not None and "@" not in argument:
        return LEFT  # "unsubscribe me please": a person's words, for a person to read
    if sender is None:
        return Verdict("", note="an unsubscribe request whose From holds no single address: left for a person")
    if argument is not None and canonical(argument) != sender:
        return Verdict(
            "",
            note=f"asks to unsubscribe {argument} but comes from {sender}: left for a person "
            f"(site-builder unsubscribe {argument})",
        )
    return Verdict(UNSUBSCRIBED, (sender,))


def _bounce(message: Message, context: Context) -> Verdict:
    report = parse_report(message)
    if report is None or not report.permanent:
        return LEFT  # no report, or only a delay: the next try may still get through
    digests = {person for mid in report.original_ids if (person := context.recipient_of(mid))}
    if digests:
        # Each digest has one recipient: the ledger's, whatever forwarding the report names.
        return Verdict(BOUNCED, tuple(sorted(digests)))
    if report.original_ids:
        return LEFT  # a bounce of some other message (a person's mail): theirs to read
    people = {
        canonical(address)
        for status in report.permanent
        for address in (status.final, status.original)
        if address and canonical(address) in context.known
    }
    return Verdict(BOUNCED, tuple(sorted(people))) if people else LEFT
