"""A content-addressed file cache under .site-builder/: safe to delete, never trusted blindly.

Each file is sealed (build/sealed.py): a PDF with a flipped byte or cut short is a miss and is laid
out again, never published nor handed to pikepdf for the booklet."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Set as AbstractSet
from pathlib import Path

from site_builder.build.sealed import read_sealed, write_sealed

KEEP_DAYS = 30  # a cached file no output uses is kept this long


class Cache:
    """Bytes stored by key (a hex digest of everything that produced them)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / key

    def has(self, key: str) -> bool:
        """True when something is stored under `key` (`get` still checks it)."""
        return os.path.exists(f"{self.folder}/{key[:2]}/{key}")  # noqa: PTH110 (10,000 calls a build: strings are cheaper)

    def get(self, key: str) -> bytes | None:
        """The stored bytes, or None when missing or not exactly as stored."""
        data = read_sealed(self._path(key))
        if data is None:
            return None
        with contextlib.suppress(OSError):
            os.utime(self._path(key))  # used now: `prune` keeps it another month
        return data

    def put(self, key: str, data: bytes) -> None:
        """Store bytes sealed and atomically, so a crash never leaves half a file under a valid key."""
        write_sealed(self._path(key), data)

    def forget(self, key: str) -> None:
        """Delete what is stored under `key`, if anything."""
        with contextlib.suppress(OSError):
            self._path(key).unlink()

    def prune(self, used: AbstractSet[str], days: float = KEEP_DAYS) -> int:
        """Delete what is stored under keys not in `used` and neither stored nor read for `days` (an
        edit leaves its old leaflet behind; another paper size's stay a while); returns how many."""
        now = time.time()
        stamp = self.folder / ".pruned"  # once a day is enough: listing 10,000 files costs 20 ms
        with contextlib.suppress(OSError):
            if stamp.stat().st_mtime > now - 86400:
                return 0
        before, removed = now - days * 86400, 0
        try:
            folders = [entry.path for entry in os.scandir(self.folder) if entry.is_dir()]
            stamp.touch()
        except OSError:
            return 0
        for folder in folders:
            try:
                with os.scandir(folder) as entries:  # names without a stat: only the unused are looked at
                    unused = [entry for entry in entries if entry.name not in used]
                for entry in unused:
                    if entry.stat().st_mtime < before:
                        os.unlink(entry.path)  # noqa: PTH108 - a DirEntry's path
                        removed += 1
            except OSError:
                continue  # gone meanwhile (another build pruning too): nothing to do
        return removed
