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


class LedgerError(Exception):
    """The ledger file is not one of ours, or is from a newer version."""


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
        path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we open our own transactions, so each commit point is explicit.
        # check_same_thread=False: parallel SMTP connections share it, one at a time under their lock.
        self.db = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode: every commit survives the process being killed; only a power cut
            # could lose the last commits (and then those people would get the digest again).
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(_SCHEMA)
            row = self.db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise LedgerError(f"{path}: not a send ledger ({exc})") from exc
        if row is None:
            self.db.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
        elif row[0] != SCHEMA_VERSION:
            self.db.close()
            raise LedgerError(f"{path}: ledger schema {row[0]} is not {SCHEMA_VERSION}; use a matching site-builder")

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
    """Like Ledger.last_sent_until, without creating the file when there is none."""
    if not path.exists():
        return None
    with Ledger(path) as ledger:
        return ledger.last_sent_until()
