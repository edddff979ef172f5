"""`site-builder mailbox`: read the folder unsubscribe requests and bounces arrive in, put their people
on the ledger's suppression list, and move what was handled to [mailbox] done_folder.

Recorded first, moved after: a run cut off in between leaves the messages where they were, and the
next run records them again (the list takes each person once) and moves them. Everything works by
UID, so mail arriving meanwhile is simply read next time; nothing is marked read (BODY.PEEK), so a
person sharing the folder sees the messages left for them as they were."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from urllib.parse import quote

from site_builder.digest.imap import BATCH, HEADERS, ConnectionLost, Session
from site_builder.digest.inbox import (
    UNSUBSCRIBED,
    Context,
    Verdict,
    classify,
    header,
    is_report,
    parse_message,
    resolve_tokens,
    tokens_of,
)
from site_builder.digest.ledger import Ledger
from site_builder.settings.config import Mailbox

# How much of a report is read: its fields come before the returned message, so this is plenty, and
# a huge message (a 50 MB attachment) is never downloaded. Other messages: their headers only.
READ_LIMIT = 512 * 1024


@dataclass
class MailboxReport:
    """What a run found and did."""

    folder: str
    done_folder: str = ""
    unsubscribed: list[str] = field(default_factory=list)  # canonical addresses, each once
    bounced: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)  # of those, the ones not on the list before
    moved: int = 0
    left: int = 0
    handled: int = 0  # messages recorded (and to be moved)
    notes: list[str] = field(default_factory=list)  # messages that looked like ours, left for a person
    details: list[str] = field(default_factory=list)  # one line per handled message
    # Set when the connection broke while moving: everything was recorded, the rest moves next run.
    interrupted: str = ""
    move_note: str = ""


def describe(uid: int, message: Message) -> str:
    """A message as a person finds it: its UID, sender and subject (shortened, printable)."""
    sender = header(message, "from") or "no sender"
    subject = header(message, "subject") or "no subject"
    text = f"uid {uid} from {sender[:80]}: {subject[:80]!r}"
    return "".join(c if c.isprintable() else "?" for c in text)


def read_mailbox(
    config: Mailbox,
    password: str,
    ledger: Ledger,
    secret: bytes | None,
    secret_env: str,
    dry_run: bool = False,
) -> MailboxReport:
    """Read [mailbox] folder, record every unsubscribe request and permanent bounce of a digest in
    `ledger`, then move those messages to done_folder. Raises MailboxError (ConnectionLost for a
    broken connection) when nothing could be recorded; a break while moving is in the report."""
    report = MailboxReport(config.folder)
    with Session(config, password) as session:
        messages = _read(session, config.folder)
        known = ledger.known_addresses()
        context = Context(
            frozenset(known),
            ledger.recipient_of,
            resolve_tokens(tokens_of(messages.values()), known, secret),
            secret_env,
            secret is not None,
        )
        verdicts = {uid: classify(message, context) for uid, message in messages.items()}
        handled = sorted(uid for uid, verdict in verdicts.items() if verdict.handled)
        _tell(report, messages, verdicts)
        report.left = len(messages) - len(handled)
        report.done_folder = session.folder_name(config.done_folder)
        if dry_run or not handled:
            return report
        session.ensure_folder(report.done_folder)
        source = _source(config, session.uidvalidity)
        report.added = ledger.suppress(
            (person, verdicts[uid].reason, source(uid, messages[uid]))
            for uid in handled
            for person in verdicts[uid].people
        )
        try:
            for start in range(0, len(handled), BATCH):
                chunk = handled[start : start + BATCH]
                report.move_note = session.move(chunk, report.done_folder) or report.move_note
                report.moved += len(chunk)
        except ConnectionLost as exc:
            report.interrupted = str(exc)
    return report


def _read(session: Session, folder: str) -> dict[int, Message]:
    """Every message of the folder by UID: its headers, and the beginning of each report."""
    uids = session.select(folder)
    messages = {f.uid: parse_message(f.data) for f in session.fetch(uids, f"BODY.PEEK[HEADER.FIELDS ({HEADERS})]")}
    reports = [uid for uid, headers in messages.items() if is_report(headers)]
    for fetched in session.fetch(reports, f"BODY.PEEK[]<0.{READ_LIMIT}>"):
        messages[fetched.uid] = parse_message(fetched.data)
    return dict(sorted(messages.items()))


def _tell(report: MailboxReport, messages: dict[int, Message], verdicts: dict[int, Verdict]) -> None:
    unsubscribed: dict[str, None] = {}
    bounced: dict[str, None] = {}
    for uid, verdict in verdicts.items():
        if verdict.note:
            report.notes.append(f"{describe(uid, messages[uid])}: {verdict.note}")
        if not verdict.handled:
            continue
        report.handled += 1
        (unsubscribed if verdict.reason == UNSUBSCRIBED else bounced).update(dict.fromkeys(verdict.people))
        report.details.append(f"{verdict.reason}: {', '.join(verdict.people)} ({describe(uid, messages[uid])})")
    report.unsubscribed = list(unsubscribed)
    report.bounced = [p for p in bounced if p not in unsubscribed]


def _source(config: Mailbox, uidvalidity: int) -> Callable[[int, Message], str]:
    """Where an entry of the list came from: the message's IMAP URL (RFC 5092) and its Message-ID."""
    user = quote(config.username, safe="")
    folder = quote(config.folder, safe="/")

    def source(uid: int, message: Message) -> str:
        mid = header(message, "message-id")
        url = f"imap://{user}@{config.host}/{folder};UIDVALIDITY={uidvalidity}/;UID={uid}"
        return f"{url} {mid}".strip()

    return source
