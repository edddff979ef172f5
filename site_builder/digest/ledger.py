"""The send ledger (SQLite): who got which digest and which cases, so nobody gets one twice."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

SCHEMA_VERSION = "1"
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
    PRIMARY KEY (digest, email)
);
CREATE TABLE IF NOT EXISTS delivered_cases (
    email TEXT NOT NULL,
    slug TEXT NOT NULL,
    digest TEXT NOT NULL,
    PRIMARY KEY (email, slug)
);
"""


_TABLES = {"meta", "deliveries", "delivered_cases"}


class LedgerError(Exception):
    """The ledger file is not one of ours, is from a newer version, or cannot be opened."""


_WHAT_TO_DO = ": move it away or point --ledger/[digest] ledger at the right file"


def _reason(exc: BaseException) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)


def _schema(db: sqlite3.Connection, path: Path) -> str | None:
    """The ledger's schema version; None for an empty database (a new ledger). Raises LedgerError for
    a database of something else or of another version, sqlite3.DatabaseError for a file that is none."""
    tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        return None
    row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() if "meta" in tables else None
    if row is None and tables <= _TABLES:
        return None  # a ledger whose creation was cut short: made again
    if row is None or "deliveries" not in tables:
        raise LedgerError(f"{path} is not a send ledger (a database of something else){_WHAT_TO_DO}")
    if row[0] != SCHEMA_VERSION:
        raise LedgerError(f"{path}: ledger schema {row[0]} is not {SCHEMA_VERSION}; use a matching site-builder")
    return str(row[0])


@dataclass(frozen=True, slots=True)
class Delivery:
    """What the ledger knows about one recipient of one digest."""

    status: str
    message_id: str
    attempts: int


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class Ledger:
    """One SQLite connection; every change is committed before the next message goes out.

    Not safe for simultaneous use: callers on several threads serialise their calls.
    """

    def __init__(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: we open our own transactions, so each commit point is explicit.
            # check_same_thread=False: parallel SMTP connections share it, one at a time under their lock.
            self.db = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise LedgerError(f"{path} cannot be opened ({_reason(exc)}){_WHAT_TO_DO}") from exc
        try:
            # Checked before anything is written: a file that is someone else's database must not
            # get our tables or a new journal mode.
            row = _schema(self.db, path)
            self.db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode: every commit survives the process being killed; only a power cut
            # could lose the last commits (and then those people would get the digest again).
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            self.db.close()
            if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError):
                raise LedgerError(f"{path} is not a send ledger ({exc}){_WHAT_TO_DO}") from exc
            raise LedgerError(
                f"{path} cannot be used ({exc}): check that it is writable and that no other send is running"
            ) from exc
        except LedgerError:
            self.db.close()
            raise
        if row is None:
            self.db.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def delivery(self, digest: str, email: str) -> Delivery | None:
        """The recorded state of `email` for `digest`, if any."""
        row = self.db.execute(
            "SELECT status, message_id, attempts FROM deliveries WHERE digest = ? AND email = ?", (digest, email)
        ).fetchone()
        return Delivery(*row) if row else None

    def delivered_slugs(self, email: str) -> set[str]:
        """Slugs of cases `email` already received in any digest."""
        rows = self.db.execute("SELECT slug FROM delivered_cases WHERE email = ?", (email,))
        return {slug for (slug,) in rows}

    def claim(self, digest: str, email: str, message_id: str, until: dt.date) -> None:
        """Record that a message is about to go out (committed before the SMTP conversation starts)."""
        self.db.execute(
            """INSERT INTO deliveries (digest, email, status, message_id, attempts, until, updated)
               VALUES (?, ?, 'sending', ?, 1, ?, ?)
               ON CONFLICT (digest, email) DO UPDATE
               SET status = 'sending', attempts = attempts + 1, updated = excluded.updated""",
            (digest, email, message_id, until.isoformat(), _now()),
        )

    def mark_sent(self, digest: str, email: str, slugs: Iterable[str]) -> None:
        """The server accepted the message: record it and its cases in one transaction."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
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
        self.db.execute(
            "UPDATE deliveries SET status = ?, error = ?, updated = ? WHERE digest = ? AND email = ?",
            (status, error[:500], _now(), digest, email),
        )

    def last_sent_until(self) -> dt.date | None:
        """The end date of the newest digest anyone actually received."""
        row = self.db.execute("SELECT MAX(until) FROM deliveries WHERE status = 'sent'").fetchone()
        return dt.date.fromisoformat(row[0]) if row and row[0] else None


def last_sent_until(path: Path) -> dt.date | None:
    """Like Ledger.last_sent_until, read-only: without creating the file when there is none, nor
    changing it (a digest build only looks)."""
    if not path.exists():
        return None
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise LedgerError(f"{path} cannot be opened ({exc}){_WHAT_TO_DO}") from exc
    try:
        if _schema(db, path) is None:
            return None
        row = db.execute("SELECT MAX(until) FROM deliveries WHERE status = 'sent'").fetchone()
        return dt.date.fromisoformat(row[0]) if row and row[0] else None
    except sqlite3.OperationalError as exc:
        raise LedgerError(f"{path} cannot be read ({exc}): check that it is readable, then run again") from exc
    except (sqlite3.DatabaseError, ValueError) as exc:
        raise LedgerError(f"{path} is not a send ledger ({exc}){_WHAT_TO_DO}") from exc
    finally:
        db.close()
