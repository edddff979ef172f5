"""The send ledger read without changing it: what a build needs of it (the digests sent, the one a
send began and did not finish), with sqlite3 alone. Sending's own module (ledger.py) would cost a
build ~10 ms more to import (sockets, uuids, IDNA) for nothing it uses."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from site_builder.digest.period import Period

SCHEMA_VERSION = "1"
_TABLES = {"meta", "deliveries", "delivered_cases", "suppressed", "digests"}

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


_T = TypeVar("_T")


def _read(path: Path, query: Callable[[sqlite3.Connection], _T | None], timeout: float = BUSY_TIMEOUT) -> _T | None:
    """`query` on the ledger opened read-only: without creating the file when there is none (None),
    nor changing it; waiting `timeout` seconds for a program holding it locked. Raises LedgerError
    for a file that cannot be read or is not a send ledger."""
    if not path.exists():
        return None
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=timeout)
    except sqlite3.Error as exc:
        raise LedgerError(f"{path} cannot be opened ({exc}){WHAT_TO_DO}") from exc
    try:
        if schema(db, path) is None:
            return None
        return query(db)
    except sqlite3.OperationalError as exc:
        raise LedgerError(f"{path} cannot be read ({exc}): check that it is readable, then run again") from exc
    except (sqlite3.DatabaseError, ValueError) as exc:
        raise LedgerError(f"{path} is not a send ledger ({exc}){WHAT_TO_DO}") from exc
    finally:
        db.close()


def unfinished_in(db: sqlite3.Connection) -> Period | None:
    """The oldest digest whose sending began and did not finish, in an open ledger."""
    tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "digests" not in tables:
        return None
    row = db.execute("SELECT since, until FROM digests WHERE finished IS NULL ORDER BY until, since LIMIT 1").fetchone()
    return Period(dt.date.fromisoformat(row[0]), dt.date.fromisoformat(row[1])) if row else None


def last_sent_until_in(db: sqlite3.Connection) -> dt.date | None:
    """The end date of the newest digest anyone actually received, in an open ledger."""
    row = db.execute("SELECT MAX(until) FROM deliveries WHERE status = 'sent'").fetchone()
    return dt.date.fromisoformat(row[0]) if row and row[0] else None


def unfinished(path: Path) -> Period | None:
    """Like Ledger.unfinished, read-only (see last_sent_until)."""
    return _read(path, unfinished_in)


def last_sent_until(path: Path) -> dt.date | None:
    """Like Ledger.last_sent_until, read-only: without creating the file when there is none, nor
    changing it (a digest build only looks)."""
    return _read(path, last_sent_until_in)


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


def _sent_in(db: sqlite3.Connection) -> tuple[Period, ...]:
    """Each digest at least one person received, as the dates it covered, oldest first. A digest's
    name holds its first date; a name it cannot read counts from its last."""
    found = set()
    for name, until in db.execute(_SENT_DIGESTS):
        end = dt.date.fromisoformat(until)
        try:
            start = dt.date.fromisoformat(str(name).split("..", 1)[0])
        except ValueError:
            start = end
        found.add(Period(min(start, end), end))
    return tuple(sorted(found, key=lambda p: (p.until, p.since)))


def sent_periods(path: Path, timeout: float = LOOK_TIMEOUT) -> tuple[Period, ...]:
    """Each digest at least one person received, oldest first; read-only like last_sent_until."""
    return _read(path, _sent_in, timeout) or ()


def digests_sent(path: Path, timeout: float = LOOK_TIMEOUT) -> tuple[tuple[Period, ...], Period | None]:
    """In one look at the ledger, read-only: each digest at least one person received (oldest first),
    and the digest a send began and did not finish, if any (see digest_period)."""
    return _read(path, lambda db: (_sent_in(db), unfinished_in(db)), timeout) or ((), None)
