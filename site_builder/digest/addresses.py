"""One person, one spelling: the canonical form of an address, and the unsubscribe token made from it."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from collections.abc import Iterable

import idna

# Bits of the HMAC kept in a token: 128, far beyond guessing, short enough for a URL or a subject.
_TOKEN_BYTES = 16


@functools.lru_cache(maxsize=65536)
def canonical(address: str) -> str:
    """The form addresses are compared in: local part lower-cased, domain lower-cased and IDNA-encoded.

    `Anna@X.example`, `anna@x.example` and `anna@xn--...` of the same Unicode domain are one person.
    (RFC 5321 lets a server treat the local part's case as meaningful; no mail service does, and
    treating two spellings as two people sends someone the digest twice.)
    """
    local, at, domain = address.strip().rpartition("@")
    if not at:
        return address.strip().casefold()
    domain = domain.rstrip(".")
    if domain.isascii():
        domain = domain.lower()
    else:
        try:
            domain = idna.encode(domain, uts46=True).decode("ascii")
        except idna.IDNAError:
            domain = domain.casefold()
    return f"{local.casefold()}@{domain}"


def token(secret: bytes, address: str) -> str:
    """The unsubscribe token of an address: an HMAC of its canonical form, so a link names nobody and
    cannot be edited into someone else's."""
    mac = hmac.new(secret, canonical(address).encode("utf-8"), hashlib.sha256).digest()[:_TOKEN_BYTES]
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def is_token(text: str) -> bool:
    """Whether `text` has the shape of a token (22 URL-safe base64 characters)."""
    return len(text) == 22 and all(c.isascii() and (c.isalnum() or c in "-_") for c in text)


def resolve(tokens: Iterable[str], addresses: Iterable[str], secret: bytes) -> dict[str, str]:
    """Token -> canonical address, for the tokens that belong to one of `addresses`."""
    wanted = set(tokens)
    found: dict[str, str] = {}
    for address in addresses:
        mine = token(secret, address)
        if mine in wanted:
            found[mine] = canonical(address)
    return found
