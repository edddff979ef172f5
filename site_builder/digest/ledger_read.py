"""The send ledger read without changing it: what a build needs of it (the digests sent, the last
day of the newest), with sqlite3 alone. Sending's own module (ledger.py) costs a build ~10 ms more
to import (sockets, uuids, IDNA) for nothing it uses."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from site_builder.digest.period import Period

SCHEMA_VERSION = "1"
_TABLES = {"meta", "deliveries", "delivered_cases", "suppressed"}

# How long to wait for another connection's write to finish before saying the ledger is locked.
BUSY_TIMEOUT = 5.0
# A build only looks at the ledger: it waits this long for a program holding it locked, then goes
# on without it (a send waits BUSY_TIMEOUT, since it must write).
LOOK_TIMEOUT = 1.0

WHAT_TO_DO = ": move it away or point --ledger/[digest] ledger at the right file"


class LedgerError(Exception):
    """The ledger file is not one of ours, is from a newer version, or cannot be opened."""


def schema(db: sqlite3.Connection, path: Path) -> str | None:
    """The ledger's schema version; None for an empty database (a new ledger). Raises LedgerError for
    a database of something else or of another version, sqlite3.DatabaseError for a file that is none."""
    tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        return None
    row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() if "meta" in tables else None
    if row is None and tables <= _TABLES:
        return None  # a ledger whose creation was cut short: made again
    if row is None or "deliveries" not in tables:
        raise LedgerError(f"{path} is not a send ledger (a database of something else){WHAT_TO_DO}")
    if row[0] != SCHEMA_VERSION:
        raise LedgerError(f"{path}: ledger schema {row[0]} is not {SCHEMA_VERSION}; use a matching site-builder")
    return str(row[0])


def _look(path: Path, query: str, timeout: float) -> list[tuple[str, ...]]:
    """The rows of `query`, read-only: without creating the file when there is none (no rows), nor
    changing it. Raises LedgerError for a file that cannot be read or is not a send ledger."""
    if not path.exists():
        return []
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=timeout)
    except sqlite3.Error as exc:
        raise LedgerError(f"{path} cannot be opened ({exc}){WHAT_TO_DO}") from exc
    try:
        if schema(db, path) is None:
            return []
        return db.execute(query).fetchall()
    except sqlite3.OperationalError as exc:
        raise LedgerError(f"{path} cannot be read ({exc}): check that it is readable, then run again") from exc
    except sqlite3.DatabaseError as exc:
        raise LedgerError(f"{path} is not a send ledger ({exc}){WHAT_TO_DO}") from exc
    finally:
        db.close()


def last_sent_until(path: Path) -> dt.date | None:
    """Like Ledger.last_sent_until, read-only: without creating the file when there is none, nor
    changing it (a digest build only looks)."""
    rows = _look(path, "SELECT MAX(until) FROM deliveries WHERE status = 'sent'", BUSY_TIMEOUT)
    try:
        return dt.date.fromisoformat(rows[0][0]) if rows and rows[0][0] else None
    except ValueError as exc:
        raise LedgerError(f"{path} is not a send ledger ({exc}){WHAT_TO_DO}") from exc


# Each digest's name, one step of the primary key's index to the next (not a scan of every row: a
# ledger of 24 monthly digests to 10,000 people holds 240,000), with the last day of one of its
# "sent" rows, found in that digest's part of the index (NULL when nobody got it).
_SENT_DIGESTS = """
WITH RECURSIVE names(name) AS (
    SELECT MIN(digest) FROM deliveries
    UNION ALL
    SELECT (SELECT MIN(digest) FROM deliveries WHERE digest > name) FROM names WHERE name IS NOT NULL
)
SELECT name, (SELECT until FROM deliveries WHERE digest = name AND status = 'sent' LIMIT 1) AS sent_until
FROM names WHERE name IS NOT NULL AND sent_until IS NOT NULL
"""


def sent_periods(path: Path, timeout: float = LOOK_TIMEOUT) -> tuple[Period, ...]:
    """Each digest at least one person received, as the dates it covered, oldest first; read-only like
    last_sent_until. A digest's name holds its first date; an unreadable name counts from its last."""
    found = set()
    for name, until in _look(path, _SENT_DIGESTS, timeout):
        try:
            end = dt.date.fromisoformat(until)
        except (TypeError, ValueError) as exc:
            raise LedgerError(f"{path} is not a send ledger ({exc}){WHAT_TO_DO}") from exc
        try:
            start = dt.date.fromisoformat(str(name).split("..", 1)[0])
        except ValueError:
            start = end
        found.add(Period(min(start, end), end))
    return tuple(sorted(found, key=lambda p: (p.until, p.since)))
