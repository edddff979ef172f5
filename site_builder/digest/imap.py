"""One IMAP session (stdlib imaplib) for `site-builder mailbox`: connect as [mailbox] says, read a
folder's messages by UID without marking them read, move some to another folder. Every failure is a
MailboxError whose text is one line saying what happened and what to do."""

from __future__ import annotations

import base64
import contextlib
import imaplib
import re
import ssl
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from site_builder.settings.config import Mailbox
from site_builder.words import counted

# Messages asked for in one FETCH: short commands, and answers that arrive in reasonable pieces.
BATCH = 200
# The headers a message is first judged by (a report's body is fetched only when it is one).
HEADERS = "FROM SUBJECT CONTENT-TYPE MESSAGE-ID"


class MailboxError(Exception):
    """The mailbox cannot be used as configured; the text is one line for a person."""


class ConnectionLost(MailboxError):
    """The server went away (or went silent) in the middle of the session."""


@dataclass(frozen=True, slots=True)
class Fetched:
    """One message's headers (or its beginning), by UID."""

    uid: int
    size: int
    data: bytes


def quoted(name: str) -> str:
    """A folder name as an IMAP quoted string, in modified UTF-7 (RFC 3501 5.1.3)."""
    encoded = _utf7(name)
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _utf7(name: str) -> str:
    out, pending = [], ""

    def flush() -> None:
        nonlocal pending
        if pending:
            raw = base64.b64encode(pending.encode("utf-16-be")).rstrip(b"=").decode("ascii")
            out.append("&" + raw.replace("/", ",") + "-")
            pending = ""

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending += char
    flush()
    return "".join(out)


def uid_set(uids: Iterable[int]) -> str:
    """UIDs as an IMAP sequence set, runs folded into ranges: 1:3,7,9:10."""
    parts: list[str] = []
    run: list[int] = []
    for uid in sorted(set(uids)):
        if run and uid == run[-1] + 1:
            run.append(uid)
            continue
        if run:
            parts.append(f"{run[0]}:{run[-1]}" if len(run) > 1 else str(run[0]))
        run = [uid]
    if run:
        parts.append(f"{run[0]}:{run[-1]}" if len(run) > 1 else str(run[0]))
    return ",".join(parts)


def _text(data: Sequence[Any]) -> str:
    """The server's words in a response, for a message to a person (printable, at most 200 characters)."""
    pieces = [d.decode("utf-8", "replace") if isinstance(d, bytes) else str(d) for d in data if d is not None]
    text = " ".join(" ".join(pieces).split())[:200] or "no reason given"
    return "".join(c if c.isprintable() else "?" for c in text)


def _said(exc: BaseException) -> str:
    """What imaplib's exception carries: often the server's words, as bytes."""
    return _text(list(exc.args) or [str(exc)])


_LIST = re.compile(rb'\((?P<flags>[^)]*)\) (?:"(?P<delim>(?:\\.|[^"\\])*)"|NIL) (?P<name>.*)$')
_NAMESPACE = re.compile(rb'^\(\("(?P<prefix>(?:\\.|[^"\\])*)" (?:"(?P<delim>(?:\\.|[^"\\])*)"|NIL)')


def _unquote(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace").strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = re.sub(r"\\(.)", r"\1", text[1:-1])
    return text


class Session:
    """A logged-in IMAP connection. Use as a context manager: it logs out (or just closes) at the end."""

    def __init__(self, config: Mailbox, password: str) -> None:
        self.config = config
        self.where = f"IMAP server {config.host}:{config.effective_port}"
        self.imap = self._login(password)
        self.capabilities = self._capabilities()
        self.uidvalidity = 0

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Log out politely when the server is still there; never raises."""
        try:
            self.imap.logout()
        except (imaplib.IMAP4.error, OSError, EOFError):
            _drop(self.imap)

    # -- connecting -------------------------------------------------------------------------------

    def _connect(self) -> imaplib.IMAP4:
        c = self.config
        context = ssl.create_default_context()
        try:
            if c.security == "ssl":
                return imaplib.IMAP4_SSL(c.host, c.effective_port, ssl_context=context, timeout=c.timeout)
            imap = imaplib.IMAP4(c.host, c.effective_port, timeout=c.timeout)
            if c.security == "starttls":
                try:
                    if "STARTTLS" not in imap.capabilities:
                        raise MailboxError(
                            f'{self.where} does not offer STARTTLS; set [mailbox] security = "ssl" '
                            "(port 993) if it offers that"
                        )
                    imap.starttls(ssl_context=context)
                except BaseException:
                    _drop(imap)
                    raise
            return imap
        except ssl.SSLCertVerificationError as exc:
            raise MailboxError(
                f"TLS with {self.where} failed: its certificate is not trusted ({exc.verify_message}); "
                "check [mailbox] host (the name in the certificate) or the server's certificate"
            ) from exc
        except ssl.SSLError as exc:
            raise MailboxError(
                f"TLS with {self.where} failed ({exc.reason or exc}); check that [mailbox] security "
                f"({c.security}) is what port {c.effective_port} speaks: ssl for 993, starttls or none for 143"
            ) from exc
        except imaplib.IMAP4.abort as exc:
            raise MailboxError(
                f"{self.where} closed the connection at once ({_said(exc)}); check [mailbox] security and port"
            ) from exc
        except imaplib.IMAP4.error as exc:  # a greeting that is no welcome, a refused STARTTLS
            raise MailboxError(
                f"{self.where} would not talk ({_said(exc)}); check [mailbox] host, port and security"
            ) from exc
        except TimeoutError as exc:
            raise MailboxError(
                f"cannot connect to {self.where}: no answer within {c.timeout:g} s ([mailbox] timeout); "
                "check [mailbox] host, port and security"
            ) from exc
        except OSError as exc:
            raise MailboxError(
                f"cannot connect to {self.where}: {exc.strerror or exc}; check [mailbox] host and port, "
                "and that the server is up"
            ) from exc

    def _login(self, password: str) -> imaplib.IMAP4:
        imap = self._connect()
        user = self.config.username
        try:
            if "LOGINDISABLED" in imap.capabilities:
                raise MailboxError(
                    f"{self.where} refuses to log in without TLS; set [mailbox] security to ssl or starttls"
                )
            if (user + password).isascii():
                imap.login(user, password)
            else:  # LOGIN is ASCII only; AUTHENTICATE PLAIN carries UTF-8
                imap.authenticate("PLAIN", lambda _: f"\0{user}\0{password}".encode())
        except imaplib.IMAP4.abort as exc:
            _drop(imap)
            raise ConnectionLost(f"the connection to {self.where} was lost while logging in ({exc})") from exc
        except imaplib.IMAP4.error as exc:
            _drop(imap)
            raise MailboxError(
                f"{self.where} refused the login for {user!r} ({_said(exc)}); check [mailbox] username "
                f"and the password in {self.config.password_env}"
            ) from exc
        except (OSError, EOFError) as exc:
            _drop(imap)
            raise ConnectionLost(f"the connection to {self.where} was lost while logging in ({exc})") from exc
        except MailboxError:
            _drop(imap)
            raise
        return imap

    def _capabilities(self) -> frozenset[str]:
        # Asked again after login: servers offer more (MOVE, UIDPLUS) to a logged-in user.
        data = self._ok(self.imap.capability(), "CAPABILITY")
        words = b" ".join(d for d in data if isinstance(d, bytes)).decode("ascii", "replace").upper().split()
        return frozenset(words)

    # -- talking ----------------------------------------------------------------------------------

    def _call(self, name: str, *args: Any) -> tuple[str, list[Any]]:
        """One command; a lost or silent connection becomes ConnectionLost."""
        try:
            typ, data = getattr(self.imap, name)(*args)
        except imaplib.IMAP4.abort as exc:
            raise ConnectionLost(f"the connection to {self.where} was lost ({_said(exc)})") from exc
        except TimeoutError as exc:
            raise ConnectionLost(
                f"{self.where} did not answer within {self.config.timeout:g} s ([mailbox] timeout)"
            ) from exc
        except (OSError, EOFError) as exc:
            raise ConnectionLost(f"the connection to {self.where} was lost ({exc})") from exc
        except imaplib.IMAP4.error as exc:
            raise MailboxError(f"{self.where} refused {name.upper()}: {_said(exc)}") from exc
        return typ, list(data)

    def _ok(self, answer: tuple[str, list[Any]], what: str) -> list[Any]:
        typ, data = answer
        if typ != "OK":
            raise MailboxError(f"{self.where} refused {what}: {_text(data)}")
        return data

    def _uid(self, *args: Any) -> list[Any]:
        return self._ok(self._call("uid", *args), f"UID {args[0]}")

    def folders(self) -> list[str]:
        """Every folder's name (as the server spells it, UTF-7 undone only for ASCII names)."""
        data = self._ok(self._call("list", '""', '"*"'), "LIST")
        names = []
        for line in data:
            if isinstance(line, bytes) and (found := _LIST.match(line)):
                names.append(_unquote(found["name"]))
        return names

    def select(self, folder: str) -> list[int]:
        """Open `folder` for reading and writing; the UIDs of its messages now."""
        typ, data = self._call("select", quoted(folder))
        if typ != "OK":
            known = ", ".join(self.folders()[:12])
            raise MailboxError(
                f"{self.where} has no folder {folder!r} ([mailbox] folder: {_text(data)}); its folders: {known}"
            )
        status = self.imap.untagged_responses.get("UIDVALIDITY", [b"0"])
        last = status[-1] if status else b"0"
        self.uidvalidity = int(last) if isinstance(last, bytes) and last.isdigit() else 0
        found = self._uid("SEARCH", "ALL")
        return [int(n) for n in b" ".join(d for d in found if isinstance(d, bytes)).split() if n.isdigit()]

    def fetch(self, uids: Sequence[int], part: str) -> Iterator[Fetched]:
        """`part` (a BODY.PEEK[...] item) of each message, BATCH at a time; PEEK leaves them unread."""
        for start in range(0, len(uids), BATCH):
            chunk = uids[start : start + BATCH]
            yield from _fetched(self._uid("FETCH", uid_set(chunk), f"(UID RFC822.SIZE {part})"))

    def folder_name(self, wanted: str) -> str:
        """The server's name for a folder written with / between levels: its separator, inside its
        personal namespace (INBOX. on some servers) unless written from INBOX."""
        data = self._ok(self._call("list", '""', '""'), "LIST")
        delimiter = "/"
        for line in data:
            if isinstance(line, bytes) and (found := _LIST.match(line)) and found["delim"] is not None:
                delimiter = _unquote(b'"' + found["delim"] + b'"')
        parts = [p for p in wanted.split("/") if p]
        name = delimiter.join(parts)
        if "NAMESPACE" in self.capabilities and parts[0].upper() != "INBOX":
            ns = self._ok(self._call("namespace"), "NAMESPACE")
            found = _NAMESPACE.match(ns[0]) if ns and isinstance(ns[0], bytes) else None
            prefix = _unquote(b'"' + found["prefix"] + b'"') if found else ""
            if prefix and not name.startswith(prefix):
                name = prefix + name
        return name

    def ensure_folder(self, name: str) -> None:
        """Make `name` when it does not exist, and subscribe to it so mail programs show it."""
        data = self._ok(self._call("list", '""', quoted(name)), "LIST")
        exists = any(
            isinstance(line, bytes)
            and (found := _LIST.match(line))
            and b"\\nonexistent" not in found["flags"].lower()
            and b"\\noselect" not in found["flags"].lower()
            for line in data
        )
        if exists:
            return
        typ, answer = self._call("create", quoted(name))
        if typ != "OK" and "ALREADYEXISTS" not in _text(answer).upper():
            raise MailboxError(
                f"{self.where} would not create the folder {name!r} ({_text(answer)}); make it in a mail "
                "program, or name an existing one in [mailbox] done_folder"
            )
        self._call("subscribe", quoted(name))  # a refusal only hides the folder in some programs

    def move(self, uids: Sequence[int], folder: str) -> str:
        """Move these messages (by UID) to `folder`: MOVE when offered, else COPY, flag \\Deleted and
        expunge only them. Returns a note when they could only be flagged (see below), else ""."""
        if not uids:
            return ""
        for start in range(0, len(uids), BATCH):
            chunk = uid_set(uids[start : start + BATCH])
            if "MOVE" in self.capabilities:
                self._uid("MOVE", chunk, quoted(folder))
                continue
            self._uid("COPY", chunk, quoted(folder))
            self._uid("STORE", chunk, "+FLAGS.SILENT", r"(\Deleted)")
            if "UIDPLUS" in self.capabilities:
                self._uid("EXPUNGE", chunk)
                continue
            # Without UID EXPUNGE, EXPUNGE removes every message flagged \Deleted: done only when
            # ours are the only ones, so nobody else's deleted mail is taken with them.
            flagged = self._uid("SEARCH", "DELETED")
            others = {int(n) for d in flagged if isinstance(d, bytes) for n in d.split()} - set(uids)
            if others:
                return (
                    f"{counted(len(others), 'other message in the folder is', 'other messages in the folder are')} "
                    "flagged deleted, so the copied ones were only flagged deleted too; they disappear when the "
                    "folder is next expunged"
                )
            self._ok(self._call("expunge"), "EXPUNGE")
        return ""


def _drop(imap: imaplib.IMAP4) -> None:
    """Close a connection that failed half way; its socket may be gone already (a failed TLS wrap)."""
    with contextlib.suppress(OSError, imaplib.IMAP4.error, EOFError):
        imap.shutdown()


def _fetched(data: list[Any]) -> Iterator[Fetched]:
    """Parse a UID FETCH answer with one literal per message; the UID may come before or after it
    (some servers put it last), and unsolicited FLAGS updates between them are skipped."""
    for index, item in enumerate(data):
        if not isinstance(item, tuple) or len(item) < 2:
            continue
        meta = item[0] if isinstance(item[0], bytes) else b""
        after = data[index + 1] if index + 1 < len(data) and isinstance(data[index + 1], bytes) else b""
        uid = re.search(rb"\bUID (\d+)", meta) or re.search(rb"\bUID (\d+)", after)
        size = re.search(rb"\bRFC822\.SIZE (\d+)", meta) or re.search(rb"\bRFC822\.SIZE (\d+)", after)
        if uid and isinstance(item[1], bytes):
            yield Fetched(int(uid[1]), int(size[1]) if size else len(item[1]), item[1])
