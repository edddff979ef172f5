"""The send ledger (SQLite): who got which digest and which cases, so nobody gets one twice."""

from __future__ import annotations

import datetime as dt
import os
import socket
import sqlite3
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from site_builder.digest.addresses import canonical

# BUSY_TIMEOUT, SCHEMA_VERSION, LedgerError, last_sent_until and unfinished are still offered here:
# they were this module's before its read-only part had a module of its own.
from site_builder.digest.ledger_read import BUSY_TIMEOUT as BUSY_TIMEOUT
from site_builder.digest.ledger_read import SCHEMA_VERSION as SCHEMA_VERSION
from site_builder.digest.ledger_read import WHAT_TO_DO, last_sent_until_in, schema, unfinished_in
from site_builder.digest.ledger_read import LedgerError as LedgerError
from site_builder.digest.ledger_read import last_sent_until as last_sent_until
from site_builder.digest.ledger_read import unfinished as unfinished
from site_builder.digest.period import Period

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS deliveries (
    digest TEXT NOT NULL,
    email TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed', 'deferred')),
    message_id TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    until TEXT NOT NULL,
    updated TEXT NOT NULL,
    owner TEXT NOT NULL DEFAULT '',
    uncertain INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (digest, email)
);
CREATE TABLE IF NOT EXISTS digests (
    digest TEXT PRIMARY KEY,
    since TEXT NOT NULL,
    until TEXT NOT NULL,
    started TEXT NOT NULL,
    finished TEXT
);
CREATE TABLE IF NOT EXISTS delivered_cases (
    email TEXT NOT NULL,
    slug TEXT NOT NULL,
    digest TEXT NOT NULL,
    PRIMARY KEY (email, slug)
);
CREATE TABLE IF NOT EXISTS suppressed (
    email TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    date TEXT NOT NULL,
    source TEXT NOT NULL
);
"""

# Why someone is never sent a digest again.
REASONS = ("unsubscribed", "bounced", "complained")

# A claim ("sending") older than this is free whoever made it: a run on another machine that
# vanished, or a process id reused since. One message's SMTP exchange is bounded by [smtp] timeout.
LEASE = dt.timedelta(hours=1)
_HOST = socket.gethostname()
# Runs of this process whose ledger is still open: their claims are alive.
_LIVE_RUNS: set[str] = set()


def _reason(exc: BaseException) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)


def _is_busy(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _locked(path: Path, exc: sqlite3.Error) -> LedgerError:
    return LedgerError(f"{path} is locked by another program or run ({exc}); try again when it has finished")


def _canonicalize(db: sqlite3.Connection) -> None:
    """Rewrite a ledger of an earlier version, whose addresses are as each CSV spelled them, in the
    canonical form. Of two spellings of one person in one digest, a "sent" row wins."""
    for rowid, email in db.execute("SELECT rowid, email FROM deliveries").fetchall():
        wanted = canonical(email)
        if wanted != email:
            # OR REPLACE keeps this row over a twin unless the twin was sent; then this one goes.
            db.execute(
                """DELETE FROM deliveries WHERE rowid = ? AND EXISTS (SELECT 1 FROM deliveries AS t
                   WHERE t.digest = deliveries.digest AND t.email = ? AND t.status = 'sent')""",
                (rowid, wanted),
            )
            db.execute("UPDATE OR REPLACE deliveries SET email = ? WHERE rowid = ?", (wanted, rowid))
    for rowid, email in db.execute("SELECT rowid, email FROM delivered_cases").fetchall():
        if canonical(email) != email:
            db.execute("UPDATE OR REPLACE delivered_cases SET email = ? WHERE rowid = ?", (canonical(email), rowid))
    db.execute("INSERT OR IGNORE INTO meta VALUES ('addresses', 'canonical')")


def _alive(owner: str, updated: str) -> bool:
    """Whether the run that wrote a "sending" claim may still be sending it (see LEASE)."""
    try:
        host, pid, run = owner.rsplit(" ", 2)
        age = dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(updated)
    except ValueError:
        return False  # a claim of an older version, or unreadable: nobody to wait for
    if age > LEASE:
        return False
    if host != _HOST:
        return True
    if int(pid) == os.getpid():
        return run in _LIVE_RUNS
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # another user's process, or a pid we cannot check: assume alive until LEASE
    return True


@dataclass(frozen=True, slots=True)
class Claim:
    """The outcome of a claim: `ours` with the Message-ID to use, else who has the person."""

    ours: bool
    message_id: str
    sent: bool = False  # not ours because it was sent already (else: another live run is sending it)
    attempts: int = 1  # runs that have tried this person, this one included


@dataclass(frozen=True, slots=True)
class Delivery:
    """What the ledger knows about one recipient of one digest."""

    status: str
    message_id: str
    attempts: int
    # Times the whole message went out and the line dropped before the server confirmed it.
    uncertain: int = 0


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class Ledger:
    """One SQLite connection; every change is committed before the next message goes out.

    Several runs (processes) may share one ledger: a person is claimed in one transaction that fails
    when another live run has claimed or sent them. Not safe for simultaneous use by threads:
    callers on several threads serialise their calls.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.run = uuid.uuid4().hex
        self.owner = f"{_HOST} {os.getpid()} {self.run}"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: we open our own transactions, so each commit point is explicit.
            # check_same_thread=False: parallel SMTP connections share it, one at a time under their lock.
            self.db = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise LedgerError(f"{path} cannot be opened ({_reason(exc)}){WHAT_TO_DO}") from exc
        try:
            # Checked before anything is written: a file that is someone else's database must not
            # get our tables or a new journal mode.
            row = schema(self.db, path)
            self.db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode: every commit survives the process being killed; only a power cut
            # could lose the last commits (and then those people would get the digest again).
            self.db.execute("PRAGMA synchronous=NORMAL")
            # One write transaction: runs starting together create the tables once, and a ledger
            # another program holds locked is found here, before anything is sent.
            self.db.execute("BEGIN IMMEDIATE")
            try:
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    self.db.execute(statement)
                columns = {name for (_, name, *_) in self.db.execute("PRAGMA table_info(deliveries)")}
                # Columns that earlier versions of schema 1 did not have.
                if "owner" not in columns:
                    self.db.execute("ALTER TABLE deliveries ADD COLUMN owner TEXT NOT NULL DEFAULT ''")
                if "uncertain" not in columns:
                    self.db.execute("ALTER TABLE deliveries ADD COLUMN uncertain INTEGER NOT NULL DEFAULT 0")
                if row is None:
                    self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
                    self.db.execute("INSERT OR IGNORE INTO meta VALUES ('addresses', 'canonical')")
                elif self.db.execute("SELECT 1 FROM meta WHERE key = 'addresses'").fetchone() is None:
                    _canonicalize(self.db)
                self.db.execute("COMMIT")
            except BaseException:
                self.db.rollback()
                raise
        except sqlite3.Error as exc:
            self.db.close()
            if _is_busy(exc):
                raise _locked(path, exc) from exc
            if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError):
                raise LedgerError(f"{path} is not a send ledger ({exc}){WHAT_TO_DO}") from exc
            raise LedgerError(
                f"{path} cannot be used ({exc}): check that it is writable and that no other send is running"
            ) from exc
        except LedgerError:
            self.db.close()
            raise
        _LIVE_RUNS.add(self.run)

    def close(self) -> None:
        """Close the database; this run's claims left "sending" are free from now on."""
        _LIVE_RUNS.discard(self.run)
        self.db.close()

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One write transaction (BEGIN IMMEDIATE); a lock held too long becomes a LedgerError."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield
                self.db.execute("COMMIT")
            except BaseException:
                self.db.rollback()
                raise
        except sqlite3.OperationalError as exc:
            if _is_busy(exc):
                raise _locked(self.path, exc) from exc
            raise LedgerError(f"{self.path} cannot be written ({exc}); check that it is writable") from exc

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def delivery(self, digest: str, email: str) -> Delivery | None:
        """The recorded state of `email` for `digest`, if any."""
        email = canonical(email)
        row = self.db.execute(
            "SELECT status, message_id, attempts, uncertain FROM deliveries WHERE digest = ? AND email = ?",
            (digest, email),
        ).fetchone()
        return Delivery(*row) if row else None

    def delivered_slugs(self, email: str) -> set[str]:
        """Slugs of cases `email` already received in any digest."""
        email = canonical(email)
        rows = self.db.execute("SELECT slug FROM delivered_cases WHERE email = ?", (email,))
        return {slug for (slug,) in rows}

    def claim(self, digest: str, email: str, message_id: str, until: dt.date) -> Claim:
        """Record that a message is about to go out (committed before the SMTP conversation starts),
        unless it was sent or another live run is sending it. One transaction: of runs claiming the
        same person at once, one wins. A claim by a run that died is taken over (see _alive)."""
        email = canonical(email)
        with self._writing():
            row = self.db.execute(
                "SELECT status, message_id, owner, updated, attempts FROM deliveries WHERE digest = ? AND email = ?",
                (digest, email),
            ).fetchone()
            if row is None:
                self.db.execute(
                    """INSERT INTO deliveries (digest, email, status, message_id, attempts, until, updated, owner)
                       VALUES (?, ?, 'sending', ?, 1, ?, ?, ?)""",
                    (digest, email, message_id, until.isoformat(), _now(), self.owner),
                )
                return Claim(True, message_id)
            status, known_id, owner, updated, attempts = row
            if status == "sent":
                return Claim(False, known_id, sent=True)
            if status == "sending" and owner != self.owner and _alive(owner, updated):
                return Claim(False, known_id)
            self.db.execute(
                """UPDATE deliveries SET status = 'sending', attempts = attempts + 1, updated = ?, owner = ?
                   WHERE digest = ? AND email = ?""",
                (_now(), self.owner, digest, email),
            )
            # The Message-ID of the first try, so mail software can spot the (rare) double delivery.
            return Claim(True, known_id, attempts=attempts + 1)

    def mark_sent(self, digest: str, email: str, slugs: Iterable[str]) -> None:
        """The server accepted the message: record it and its cases in one transaction."""
        email = canonical(email)
        with self._writing():
            self.db.execute(
                "UPDATE deliveries SET status = 'sent', error = '', updated = ? WHERE digest = ? AND email = ?",
                (_now(), digest, email),
            )
            self.db.executemany(
                "INSERT OR IGNORE INTO delivered_cases (email, slug, digest) VALUES (?, ?, ?)",
                [(email, slug, digest) for slug in slugs],
            )

    def mark(self, digest: str, email: str, status: str, error: str) -> None:
        """Record a permanent ('failed') or temporary ('deferred') failure."""
        email = canonical(email)
        with self._writing():
            self.db.execute(
                "UPDATE deliveries SET status = ?, error = ?, updated = ? WHERE digest = ? AND email = ?",
                (status, error[:500], _now(), digest, email),
            )

    def mark_uncertain(self, digest: str, email: str, error: str) -> None:
        """The whole message went out but the server's answer never came: it may have been stored."""
        email = canonical(email)
        with self._writing():
            self.db.execute(
                """UPDATE deliveries SET status = 'deferred', uncertain = uncertain + 1, error = ?, updated = ?
                   WHERE digest = ? AND email = ?""",
                (error[:500], _now(), digest, email),
            )

    def start(self, period: Period) -> None:
        """Record that sending `period`'s digest has begun: until it is finished, it is the one to send."""
        with self._writing():
            self.db.execute(
                "INSERT OR IGNORE INTO digests (digest, since, until, started) VALUES (?, ?, ?, ?)",
                (period.key, period.since.isoformat(), period.until.isoformat(), _now()),
            )

    def finish(self, period: Period) -> None:
        """Everyone due has been handled: the next digest may begin."""
        with self._writing():
            self.db.execute(
                "UPDATE digests SET finished = ? WHERE digest = ? AND finished IS NULL", (_now(), period.key)
            )

    def unfinished(self) -> Period | None:
        """The oldest digest whose sending began and did not finish."""
        return unfinished_in(self.db)

    def suppress(self, people: Iterable[tuple[str, str, str]]) -> list[str]:
        """Never send a digest again to these (address, reason, source); the canonical addresses that
        were not on the list yet. The first reason recorded for someone stays."""
        added = []
        with self._writing():
            for email, reason, source in people:
                row = (canonical(email), reason, _now(), source[:200])
                if self.db.execute("INSERT OR IGNORE INTO suppressed VALUES (?, ?, ?, ?)", row).rowcount:
                    added.append(row[0])
        return added

    def suppressed(self) -> dict[str, str]:
        """Canonical address -> reason, for everyone who must never be sent a digest."""
        return dict(self.db.execute("SELECT email, reason FROM suppressed"))

    def suppression_list(self) -> list[tuple[str, str, str, str]]:
        """Everyone on the suppression list: (address, reason, date, source), in the order added."""
        return list(self.db.execute("SELECT email, reason, date, source FROM suppressed ORDER BY date, rowid"))

    def known_addresses(self) -> set[str]:
        """Every canonical address this ledger has a record of (to find whose an unsubscribe token is)."""
        rows = self.db.execute("SELECT email FROM deliveries UNION SELECT email FROM suppressed")
        return {email for (email,) in rows}

    def recipient_of(self, message_id: str) -> str | None:
        """The canonical address a digest with this Message-ID (`<...>`) was sent to, if it was one."""
        row = self.db.execute("SELECT email FROM deliveries WHERE message_id = ? LIMIT 1", (message_id,)).fetchone()
        return str(row[0]) if row else None

    def last_sent_until(self) -> dt.date | None:
        """The end date of the newest digest anyone actually received."""
        return last_sent_until_in(self.db)
