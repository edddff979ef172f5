"""The one key function: every cache entry, page, leaflet and note is keyed by a digest made here."""

from __future__ import annotations

import hashlib
from pathlib import Path


def key(*parts: object) -> str:
    """A digest of `parts` (strings as they are, anything else by its repr), joined so that no two
    different lists of parts give the same text."""
    text = "\0".join(part if isinstance(part, str) else repr(part) for part in parts)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=20).hexdigest()


def bytes_key(data: bytes) -> str:
    """A digest of bytes."""
    return hashlib.blake2b(data, digest_size=20).hexdigest()


def file_key(path: Path) -> str:
    """A digest of a file's bytes."""
    return bytes_key(path.read_bytes())
