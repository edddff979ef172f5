"""DKIM signatures (RFC 6376, relaxed/relaxed) on each person's message, for relays that do not sign.

dkimpy canonicalizes what is signed, and is the verifier the tests check every signature with. The
key's arithmetic is OpenSSL's, through cryptography: dkimpy does RSA in pure Python, 11 ms a
signature against 0.7 ms, which alone would hold `send` to about 60 messages a second.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import time
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa, utils
from dkim.canonicalization import Relaxed, correct_empty_body, strip_trailing_lines

from site_builder.digest.compose import sender
from site_builder.problems import ConfigError
from site_builder.settings.config import Settings, dns_name

# What a receiver needs unchanged to trust the message, in this order when present: who it is from
# and for, what it says, and the list headers that unsubscribe (a relay adding its own would not
# be signed for). Reply-To too: a changed one would take replies elsewhere.
SIGNED = (
    "From",
    "Reply-To",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "MIME-Version",
    "Content-Type",
)
_WIDTH = 78
_CRLF = b"\r\n"
# Receivers ignore RSA signatures made with fewer bits (RFC 8301).
_MIN_RSA_BITS = 1024
_OTHER_KEYS = (
    (ec.EllipticCurvePrivateKey, "an elliptic-curve (EC) key"),
    (dsa.DSAPrivateKey, "a DSA key"),
    (ed448.Ed448PrivateKey, "an Ed448 key"),
)


@dataclass(frozen=True, slots=True)
class DkimSigner:
    """Signs messages for one domain and selector with one private key (read once per run)."""

    domain: str
    selector: str
    key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey

    @property
    def algorithm(self) -> str:
        """The a= tag: rsa-sha256 or ed25519-sha256 (RFC 8463)."""
        return "ed25519-sha256" if isinstance(self.key, ed25519.Ed25519PrivateKey) else "rsa-sha256"

    def sign(self, message: bytes, now: float | None = None) -> bytes:
        """The message (CRLF line ends, as SMTP sends it) with a DKIM-Signature header in front."""
        end = message.find(_CRLF * 2)
        head, body = (message, b"") if end < 0 else (message[: end + 2], message[end + 4 :])
        # A header given twice is signed from the bottom (RFC 6376, 5.4.2): the last one wins here.
        fields = {field[0].decode("ascii", "replace").strip().lower(): field for field in _fields(head)}
        names = [name.lower() for name in SIGNED if name.lower() in fields]
        tags = [
            ("v", "1"),
            ("a", self.algorithm),
            ("c", "relaxed/relaxed"),
            ("d", self.domain),
            ("s", self.selector),
            ("t", str(int(time.time() if now is None else now))),
            ("h", ":".join(names)),
            ("bh", base64.b64encode(hashlib.sha256(_canonical_body(body)).digest()).decode("ascii")),
        ]
        lines = _fold_tags(tags)
        # What is signed: the signed fields, then this header as it will be but with b= empty (and no
        # line end), all canonicalized.
        own = "\r\n".join(lines).encode("ascii")[len("DKIM-Signature:") :] + _CRLF
        canonical = Relaxed.canonicalize_headers([*(fields[name] for name in names), [b"DKIM-Signature", own]])
        data = b"".join(name + b":" + value for name, value in canonical)[: -len(_CRLF)]
        digest = hashlib.sha256(data).digest()
        if isinstance(self.key, ed25519.Ed25519PrivateKey):
            signature = self.key.sign(digest)
        else:
            signature = self.key.sign(digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
        _append_signature(lines, base64.b64encode(signature).decode("ascii"))
        return "\r\n".join(lines).encode("ascii") + _CRLF + message


def load_signer(settings: Settings) -> DkimSigner | None:
    """The signer [digest] dkim_key asks for, its key read now; None when messages are not signed.

    Raises ConfigError, one line naming the setting and the file, when the key cannot be used.
    """
    path = settings.dkim_key_path
    if path is None:
        return None
    domain = dns_name(settings.digest.dkim_domain) if settings.digest.dkim_domain else _sender_domain(settings)
    if not domain:
        raise ConfigError(
            f"digest.dkim_domain: not set, and the sender {sender(settings)!r} has no domain to sign for; "
            "set dkim_domain (like example.com)"
        )
    return DkimSigner(domain, settings.digest.dkim_selector.lower(), _load_key(path))


def _sender_domain(settings: Settings) -> str:
    return dns_name(parseaddr(sender(settings))[1].rpartition("@")[2])


def _load_key(path: Path) -> rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey:
    """The private key in `path`: PEM (PKCS#1 or PKCS#8), or dkimpy's dknewkey Ed25519 file (the seed in base64)."""
    where = f"digest.dkim_key: {path}"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"{where}: no such file; make a key (see the README's DKIM section) or fix the path"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{where}: cannot be read ({exc.strerror or exc}); make it readable for you") from None
    if b"-----BEGIN" not in data:
        seed = _base64(data.strip())
        if seed is not None and len(seed) == 32:
            return ed25519.Ed25519PrivateKey.from_private_bytes(seed)
        raise ConfigError(f"{where}: not a private key in PEM (-----BEGIN PRIVATE KEY-----); RSA or Ed25519")
    if b"PUBLIC KEY-----" in data and b"PRIVATE KEY-----" not in data:
        raise ConfigError(f"{where}: is a public key; dkim_key is the private key (its public half goes in DNS)")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise ConfigError(
            f"{where}: is protected by a passphrase; DKIM needs the key without one "
            "(openssl pkey -in KEY -out KEY.plain, then keep that file private)"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise ConfigError(f"{where}: not a private key in PEM (-----BEGIN PRIVATE KEY-----); RSA or Ed25519") from None
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key
    if not isinstance(key, rsa.RSAPrivateKey):
        kind = next((name for cls, name in _OTHER_KEYS if isinstance(key, cls)), "a key of another kind")
        raise ConfigError(f"{where}: is {kind}; DKIM signs with RSA (2048 bits) or Ed25519")
    if key.key_size < _MIN_RSA_BITS:
        raise ConfigError(
            f"{where}: an RSA key of {key.key_size} bits, which receivers ignore (RFC 8301); make one of 2048"
        )
    return key


def _base64(text: bytes) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _fields(head: bytes) -> list[list[bytes]]:
    """Header fields as [name, value], the value with its line ends (as dkimpy's parser gives them)."""
    fields: list[list[bytes]] = []
    for line in head.split(_CRLF)[:-1]:
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1][1] += line + _CRLF
        else:
            name, _, value = line.partition(b":")
            fields.append([name, value + _CRLF])
    return fields


def _canonical_body(body: bytes) -> bytes:
    """The relaxed body (RFC 6376, 3.4.4). A body with no tab, no run of spaces and no space before a
    line end is already relaxed but for its empty lines at the end: dkimpy's regular expressions,
    which take longer than the signature, are run only for a body that needs them."""
    if b"\t" in body or b"  " in body or b" \r\n" in body:
        return bytes(Relaxed.canonicalize_body(body))
    return bytes(correct_empty_body(strip_trailing_lines(body)))


def _fold_tags(tags: list[tuple[str, str]]) -> list[str]:
    """`DKIM-Signature: v=1; ...; b=` in lines of at most 78, broken between tags and between h= names."""
    lines = ["DKIM-Signature:"]
    words: list[tuple[str, str]] = []
    for tag, value in tags:
        if tag == "h":
            names = value.split(":")
            words += [(" ", f"h={names[0]}")] + [("", f":{name}") for name in names[1:]]
            words[-1] = (words[-1][0], words[-1][1] + ";")
        else:
            words.append((" ", f"{tag}={value};"))
    words.append((" ", "b="))
    for joiner, word in words:
        if len(lines[-1]) + len(joiner) + len(word) <= _WIDTH:
            lines[-1] += joiner + word
        else:
            lines.append(" " + word)
    return lines


def _append_signature(lines: list[str], signature: str) -> None:
    """The b= value after `b=`, filling the last line, then whole lines."""
    room = max(0, _WIDTH - len(lines[-1]))
    lines[-1] += signature[:room]
    rest = signature[room:]
    while rest:
        lines.append(" " + rest[: _WIDTH - 1])
        rest = rest[_WIDTH - 1 :]
