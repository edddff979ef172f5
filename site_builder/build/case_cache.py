"""Parsed cases kept between builds: an unchanged file is neither parsed nor even read again.

Two files in .site-builder/, both safe to delete: `cases.pickle` holds every entry; `cases.journal`
holds the entries of the builds since, appended one record per build, so that editing one case
among thousands writes one entry, not all of them. When the journal grows past a tenth of the
entries, everything is written afresh. A file from another version or other settings, or a
damaged one, is ignored (a damaged journal record ends the journal), never half-used: the file and
each journal record are sealed (build/sealed.py), and no bytes are unpickled whose digest differs.

A file is known unchanged by its size, mtime and inode, as make and git know it; a file modified
within two seconds of being read is hashed again next time, since its mtime may not have moved.
"""

from __future__ import annotations

import os
import pickle
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from site_builder import __version__
from site_builder.build.keys import bytes_key, key
from site_builder.build.sealed import read_sealed, seal, unseal, write_sealed
from site_builder.cases.model import Case
from site_builder.problems import Problem
from site_builder.settings.config import Settings

# 13: numbers tied to their units, summary_written; 12: translation_key; 11: two-space nested lists
# warned; 10: Python-Markdown; 9: consent in
# fields, names, nesting; 8: linked files and pictures from other sites checked; 7: authoring hints,
# TOML; 6: hostile front matter refused; 5: one key function; 4: sealed
_MAGIC = b"site-builder case cache 14\n"  # 14: responded, What we changed
_RACY_SECONDS = 2
_SIZE = 8  # bytes of a journal record's length

Entry = tuple[Case | None, tuple[Problem, ...]]
Signature = tuple[int, int, int]


class Record(NamedTuple):
    """One file's cache entry: how it looked on disk, its content key, and what parsing it gave.
    A named tuple: 10,000 of them unpickle several times faster than dataclasses."""

    signature: Signature | None  # None: too fresh to trust its mtime
    key: str
    entry: Entry


def fingerprint(settings: Settings) -> str:
    """What besides a file's bytes decides how it is parsed."""
    parts = (
        __version__,
        settings.language,
        settings.languages,
        settings.timezone,
        sorted(settings.sections.items()),
        settings.markdown_engine,
        repr(settings.markdown_extensions),
    )
    return key(*parts)


def file_key(path: Path, data: bytes) -> str:
    """A file's identity for the cache: where it is and what it holds."""
    return bytes_key(path.as_posix().encode() + b"\0" + data)


def signature(stat: os.stat_result) -> Signature | None:
    """Size, mtime and inode, or None when the file changed too recently for its mtime to tell."""
    if time.time_ns() - stat.st_mtime_ns < _RACY_SECONDS * 1_000_000_000:
        return None
    return (stat.st_size, stat.st_mtime_ns, stat.st_ino)


def _load_records(data: bytes, wanted: str) -> dict[str, Record]:
    if not data.startswith(_MAGIC):
        raise ValueError("not our file")
    stored, records = pickle.loads(data[len(_MAGIC) :])  # noqa: S301 - our own file, checked below
    if stored != wanted or not isinstance(records, dict):
        raise ValueError("other settings or version")
    if not all(isinstance(r, Record) and isinstance(r.entry[0], Case | None) for r in records.values()):
        raise ValueError("unexpected contents")
    return records


# What reading a damaged or foreign pickle of ours can raise.
DAMAGED = (OSError, ValueError, pickle.UnpicklingError, EOFError, AttributeError, TypeError, ImportError, IndexError)


@dataclass
class CaseCache:
    """Records by file path, for one settings fingerprint."""

    path: Path
    fingerprint: str
    records: dict[str, Record] = field(default_factory=dict)
    journaled: int = 0  # records in the journal

    @property
    def journal(self) -> Path:
        """The file of records appended since `path` was written."""
        return self.path.with_suffix(".journal")

    @classmethod
    def open(cls, path: Path, settings: Settings) -> CaseCache:
        """The cache at `path`, or an empty one when it is missing, foreign or damaged."""
        cache = cls(path, fingerprint(settings))
        data = read_sealed(path)
        if data is None:
            return cache
        try:
            cache.records = _load_records(data, cache.fingerprint)
        except DAMAGED:
            return cache
        try:
            with cache.journal.open("rb") as journal:
                left = os.fstat(journal.fileno()).st_size
                while left:
                    size = int.from_bytes(journal.read(_SIZE), "big")
                    left -= _SIZE
                    # A damaged length must not make us read (or allocate) past the end.
                    record = unseal(journal.read(size)) if 0 < size <= left else None
                    if record is None:
                        raise ValueError("damaged record")
                    left -= size
                    records = _load_records(record, cache.fingerprint)
                    cache.records.update(records)
                    cache.journaled += len(records)
        except FileNotFoundError:
            pass
        except DAMAGED:
            # A record cut short by a crash: the files it covered are parsed again, and the next
            # save writes everything afresh rather than append after the damage.
            cache.journaled = len(cache.records) + 1
        return cache

    def save(self, records: dict[str, Record]) -> None:
        """Keep exactly `records` (this build's files): appended to the journal when few changed."""
        changed = {p: r for p, r in records.items() if self.records.get(p) is not r}
        if not changed and records.keys() == self.records.keys():
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        gone = self.records.keys() - records.keys()
        if self.records and not gone and self.journaled + len(changed) <= len(records) // 10:
            record = seal(_MAGIC + pickle.dumps((self.fingerprint, changed), protocol=pickle.HIGHEST_PROTOCOL))
            with self.journal.open("ab") as journal:
                journal.write(len(record).to_bytes(_SIZE, "big") + record)
            return
        payload = _MAGIC + pickle.dumps((self.fingerprint, records), protocol=pickle.HIGHEST_PROTOCOL)
        self.journal.unlink(missing_ok=True)  # before the new file: an old journal must not extend it
        write_sealed(self.path, payload)
