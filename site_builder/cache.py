"""A content-addressed file cache under .site-builder/: safe to delete, never trusted blindly."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


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
        """The stored bytes, or None when missing or damaged (a PDF must start and end like one)."""
        try:
            data = self._path(key).read_bytes()
        except OSError:
            return None
        if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-32:]:
            return None
        return data

    def put(self, key: str, data: bytes) -> None:
        """Store bytes atomically, so a crash never leaves half a file under a valid key."""
        write_atomically(self._path(key), data)


def write_atomically(path: Path, data: bytes) -> None:
    """Write `path` whole or not at all: a temporary file beside it, renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
