"""Parsed cases kept between builds, keyed by each file's content: an unchanged file is not parsed again.

The file lives in .site-builder/ and is safe to delete. One from another version, another set of
settings, or damaged, is ignored and rebuilt, never half-used.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path

from site_builder import __version__
from site_builder.cases import Case
from site_builder.config import Settings
from site_builder.errors import Problem

_MAGIC = b"site-builder case cache\n"

Entry = tuple[Case | None, tuple[Problem, ...]]


def fingerprint(settings: Settings) -> str:
    """What besides a file's bytes decides how it is parsed."""
    parts = (__version__, settings.language, settings.languages, sorted(settings.sections.items()))
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def file_key(path: Path, data: bytes) -> str:
    """A file's identity for the cache: where it is and what it holds."""
    return hashlib.blake2b(path.as_posix().encode() + b"\0" + data, digest_size=20).hexdigest()


@dataclass
class CaseCache:
    """Entries by file key, for one settings fingerprint."""

    path: Path
    fingerprint: str
    entries: dict[str, Entry]

    @classmethod
    def open(cls, path: Path, settings: Settings) -> CaseCache:
        """The cache at `path`, or an empty one when it is missing, foreign or damaged."""
        wanted = fingerprint(settings)
        try:
            data = path.read_bytes()
            if not data.startswith(_MAGIC):
                raise ValueError("not our file")
            stored_fingerprint, entries = pickle.loads(data[len(_MAGIC) :])  # noqa: S301 - our own file, checked below
            if stored_fingerprint != wanted or not isinstance(entries, dict):
                raise ValueError("other settings or version")
            if not all(
                isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], Case | None) for v in entries.values()
            ):
                raise ValueError("unexpected contents")
        except (OSError, ValueError, pickle.UnpicklingError, EOFError, AttributeError, TypeError, ImportError):
            entries = {}
        return cls(path, wanted, entries)

    def save(self, used: dict[str, Entry]) -> None:
        """Keep exactly the entries of this build (others belong to files that are gone), atomically."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = _MAGIC + pickle.dumps((self.fingerprint, used), protocol=pickle.HIGHEST_PROTOCOL)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".cases-")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(payload)
            Path(temporary).replace(self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
