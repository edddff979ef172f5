"""Sealed bytes: every file the tool keeps for itself carries a digest of its contents, checked when read.

A flipped byte, a truncated write or someone else's file under our name reads as "nothing there", so
a damaged cache is a cache miss: never a crash in a parser (pickle, pikepdf, Jinja's marshal) that
was handed bytes it should not trust, and never a wrong output.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

_MAGIC = b"site-builder sealed 1\n"
_DIGEST = 32  # blake2b-256


def seal(data: bytes) -> bytes:
    """`data` behind a header and the digest of it."""
    return _MAGIC + hashlib.blake2b(data, digest_size=_DIGEST).digest() + data


def unseal(blob: bytes) -> bytes | None:
    """The data `seal` wrapped, or None when `blob` is not sealed bytes or not whole."""
    start = len(_MAGIC) + _DIGEST
    if len(blob) < start or not blob.startswith(_MAGIC):
        return None
    data = blob[start:]
    if hashlib.blake2b(data, digest_size=_DIGEST).digest() != blob[len(_MAGIC) : start]:
        return None
    return data


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


def write_sealed(path: Path, data: bytes) -> None:
    """Store `data` at `path`, sealed, atomically."""
    write_atomically(path, seal(data))


def read_sealed(path: Path) -> bytes | None:
    """What `write_sealed` stored at `path`; None when missing, unreadable or damaged."""
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    return unseal(blob)
