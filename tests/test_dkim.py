"""DKIM: every message `send` delivers (or writes in a dry run) carries a signature dkimpy verifies
against the key's DNS record; a key that cannot be used stops the run before anything is sent."""

from __future__ import annotations

import base64
import random
import re
from collections.abc import Callable
from pathlib import Path

import dkim
import pytest
from click.testing import Result
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from dkim.canonicalization import Relaxed

from site_builder.digest.signing import SIGNED, DkimSigner, _canonical_body
from tests.conftest import case_text, tool_state
from tests.smtp_server import SmtpServer
from tests.test_send import PEOPLE, SEND, configure, raw_header

PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
SELECTOR = "mail2026"
DKIM_SETTINGS = f'dkim_key = "keys/dkim.pem"\ndkim_selector = "{SELECTOR}"\n'


def pem(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    """The private key as openssl writes it (PKCS#8 PEM)."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def txt_record(key: PrivateKey) -> bytes:
    """The DNS TXT record that publishes the key's public half."""
    public = key.public_key()
    if isinstance(public, ed25519.Ed25519PublicKey):
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return b"v=DKIM1; k=ed25519; p=" + base64.b64encode(raw)
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)


class Dns:
    """A resolver that knows only the selector's TXT record under `domain`, and keeps the names asked for."""

    def __init__(self, key: PrivateKey, domain: str = "acme.example") -> None:
        self.record = txt_record(key)
        self.name = f"{SELECTOR}._domainkey.{domain}.".encode()
        self.asked: list[bytes] = []

    def __call__(self, name: bytes, timeout: int = 5) -> bytes | None:
        self.asked.append(name)
        return self.record if name == self.name else None


@pytest.fixture(scope="module")
def keys() -> dict[str, PrivateKey]:
    """Two 2048-bit RSA keys and two Ed25519 keys, made for this test run."""
    return {
        "rsa": rsa.generate_private_key(65537, 2048),
        "ed25519": ed25519.Ed25519PrivateKey.generate(),
        "other rsa": rsa.generate_private_key(65537, 2048),
        "other ed25519": ed25519.Ed25519PrivateKey.generate(),
    }


@pytest.fixture
def signed_project(project: Path, smtp: SmtpServer, write_case: Callable[..., Path]) -> Path:
    """The send tests' project: three cases, four people (one with nothing to get), the server configured."""
    configure(project, smtp.port, DKIM_SETTINGS)
    write_case("hotel.md", case_text(title="Hotel room gone", date="2026-03-05"))
    write_case("clean.md", case_text(title="Office not cleaned", date="2026-03-15"))
    write_case(
        "taxi.md",
        case_text(title="Такси опоздало", date="2026-03-10", language="ru")
        .replace("industry: hotels", "industry: taxi")
        .replace("## Problem", "## Проблема")
        .replace("## Cause", "## Причина")
        .replace("## Fix", "## Решение")
        .replace("## Thanks", "## Спасибо"),
    )
    people = PEOPLE + 'long@example.com,"Smith, John ""Jack"" O\'Brien \\ Jr., of Åse & Sons, ' + "x" * 60 + '",en,\n'
    (project / "people.csv").write_text(people, encoding="utf-8")
    (project / "keys").mkdir()
    return project


def tags(raw: bytes) -> dict[str, str]:
    """The DKIM-Signature's tags, unfolded."""
    _, value = raw_header(raw, "DKIM-Signature")
    return {k.strip(): re.sub(r"\s+", "", v) for k, v in (t.split("=", 1) for t in value.split(";") if t.strip())}


@pytest.mark.parametrize("kind", ["rsa", "ed25519"])
def test_every_message_sent_is_signed_and_verifies(
    signed_project: Path, smtp: SmtpServer, cli: Callable[..., Result], keys: dict[str, PrivateKey], kind: str
) -> None:
    key = keys[kind]
    (signed_project / "keys/dkim.pem").write_bytes(pem(key))
    result = cli(*SEND)
    assert result.exit_code == 0, result.output
    assert f"Signing with DKIM: d=acme.example, s={SELECTOR} ({kind}-sha256)" in result.output
    assert "4 sent" in result.output
    resolve = Dns(key)
    for address, raw in smtp.recorder.raw.items():
        assert raw.startswith(b"DKIM-Signature: ")
        assert all(len(line) <= 78 for line in raw_header(raw, "DKIM-Signature")[0])
        found = tags(raw)
        assert (found["v"], found["a"], found["c"]) == ("1", f"{kind}-sha256", "relaxed/relaxed")
        assert (found["d"], found["s"]) == ("acme.example", SELECTOR)
        assert found["h"].split(":") == [h.lower() for h in SIGNED], address  # every one is in these messages
        assert dkim.verify(raw, dnsfunc=resolve), address
    assert set(resolve.asked) == {f"{SELECTOR}._domainkey.acme.example.".encode()}

    # The test can fail: a byte changed in the body, or in a signed header, breaks the signature.
    raw = smtp.recorder.raw["anna@example.com"]
    body = raw.index(b"\r\n\r\n") + 4
    changed = raw[:body] + raw[body:].replace(b"Hotel", b"Motel", 1)
    assert changed != raw and not dkim.verify(changed, dnsfunc=resolve)
    assert not dkim.verify(raw.replace(b"To: Anna <anna@", b"To: Anne <anna@"), dnsfunc=resolve)
    assert not dkim.verify(raw, dnsfunc=Dns(keys[f"other {kind}"]))  # the record of another key
    # Unsigned headers may change (a relay adds Received:, folds differently): still valid.
    refolded = b"Received: from relay\r\n" + raw.replace(b">,\r\n <https:", b">,   <https:")
    assert refolded.count(b">,   <https:") == 1 and dkim.verify(refolded, dnsfunc=resolve)


def test_dry_run_files_are_signed_too(
    signed_project: Path, smtp: SmtpServer, cli: Callable[..., Result], keys: dict[str, PrivateKey]
) -> None:
    (signed_project / "keys/dkim.pem").write_bytes(pem(keys["rsa"]))
    result = cli(*SEND, "--dry-run", "outbox")
    assert result.exit_code == 0, result.output
    files = sorted((signed_project / "outbox").iterdir())
    assert len(files) == 4 and smtp.recorder.messages == []
    for path in files:
        assert dkim.verify(path.read_bytes(), dnsfunc=Dns(keys["rsa"])), path.name  # LF line ends, as a file


def test_dkim_domain_and_a_dknewkey_ed25519_file(
    signed_project: Path, smtp: SmtpServer, cli: Callable[..., Result], keys: dict[str, PrivateKey]
) -> None:
    # dkimpy's dknewkey writes an Ed25519 key as its 32-byte seed in base64, one line.
    key = keys["ed25519"]
    seed = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    (signed_project / "keys/dkim.pem").write_bytes(base64.b64encode(seed) + b"\n")
    configure(signed_project, smtp.port, DKIM_SETTINGS + 'dkim_domain = "Mail.Acme.example"\n')
    result = cli(*SEND)
    assert result.exit_code == 0, result.output
    for raw in smtp.recorder.raw.values():
        assert tags(raw)["d"] == "mail.acme.example"
        assert dkim.verify(raw, dnsfunc=Dns(key, "mail.acme.example"))


def test_the_key_is_read_once_per_run(
    signed_project: Path,
    smtp: SmtpServer,
    cli: Callable[..., Result],
    keys: dict[str, PrivateKey],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key_file = signed_project / "keys/dkim.pem"
    key_file.write_bytes(pem(keys["rsa"]))
    reads: list[Path] = []
    read_bytes = Path.read_bytes

    def counting(path: Path) -> bytes:
        reads.append(path)
        return read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", counting)
    result = cli(*SEND, "--connections", "2")
    assert result.exit_code == 0 and "4 sent" in result.output, result.output
    assert [p for p in reads if p.name == "dkim.pem"] == [Path("keys/dkim.pem")]


def _prime(bits: int, rng: random.Random) -> int:
    """A probable prime (Miller-Rabin), for a key too small for cryptography to make."""
    while True:
        n = rng.getrandbits(bits) | (1 << (bits - 1)) | 1
        d, r = n - 1, 0
        while d % 2 == 0:
            d, r = d // 2, r + 1
        for a in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
            x = pow(a, d, n)
            if x in (1, n - 1):
                continue
            for _ in range(r - 1):
                x = pow(x, 2, n)
                if x == n - 1:
                    break
            else:
                break
        else:
            return n


def small_rsa_key() -> rsa.RSAPrivateKey:
    """An RSA key of 512 bits (receivers ignore such signatures)."""
    rng = random.Random(16)
    while True:
        p, q = _prime(256, rng), _prime(256, rng)
        phi = (p - 1) * (q - 1)
        if p != q and phi % 65537:
            break
    d = pow(65537, -1, phi)
    public = rsa.RSAPublicNumbers(65537, p * q)
    return rsa.RSAPrivateNumbers(p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p), public).private_key()


def bad_keys(keys: dict[str, PrivateKey]) -> dict[str, tuple[bytes | None, str]]:
    """Key files that cannot sign, and what `send` says about each (after `digest.dkim_key: keys/dkim.pem: `)."""
    rsa_key = keys["rsa"]
    encrypted = rsa_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"pw")
    )
    public = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {
        "missing": (None, "no such file; make a key (see the README's DKIM section) or fix the path"),
        "text": (b"hello, I am not a key\n", "not a private key in PEM (-----BEGIN PRIVATE KEY-----); RSA or Ed25519"),
        "broken": (pem(rsa_key)[:300] + b"\n-----END PRIVATE KEY-----\n", "not a private key in PEM"),
        "public": (public, "is a public key; dkim_key is the private key (its public half goes in DNS)"),
        "encrypted": (encrypted, "is protected by a passphrase; DKIM needs the key without one"),
        "ec": (
            pem(ec.generate_private_key(ec.SECP256R1())),
            "is an elliptic-curve (EC) key; DKIM signs with RSA (2048 bits) or Ed25519",
        ),
        "small": (pem(small_rsa_key()), "an RSA key of 512 bits, which receivers ignore (RFC 8301); make one of 2048"),
    }


@pytest.mark.parametrize("case", ["missing", "text", "broken", "public", "encrypted", "ec", "small", "folder"])
def test_a_key_that_cannot_sign_stops_before_anything_is_sent(
    signed_project: Path,
    smtp: SmtpServer,
    cli: Callable[..., Result],
    keys: dict[str, PrivateKey],
    case: str,
) -> None:
    key_file = signed_project / "keys/dkim.pem"
    if case == "folder":
        key_file.mkdir()
        data, said = None, "cannot be read (Is a directory); make it readable for you"
    else:
        data, said = bad_keys(keys)[case]
        if data is not None:
            key_file.write_bytes(data)
    for dry_run in ((), ("--dry-run", "outbox")):
        result = cli(*SEND, *dry_run)
        assert result.exit_code == 2, result.output
        [line] = result.stderr.splitlines()
        assert line.startswith(f"Configuration error: digest.dkim_key: {Path('keys/dkim.pem')}: {said}"), line
        assert "Traceback" not in result.output
    assert smtp.recorder.messages == []
    assert tool_state(signed_project) == [] and not (signed_project / "outbox").exists()


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        ('dkim_key = "keys/dkim.pem"\n', "digest.dkim_selector: needed with dkim_key"),
        ('dkim_selector = "mail"\n', "digest.dkim_selector: set, but dkim_key is not, so nothing is signed"),
        ('dkim_domain = "acme.example"\n', "digest.dkim_domain: set, but dkim_key is not"),
        (DKIM_SETTINGS.replace(SELECTOR, "mail_2026"), "digest.dkim_selector: 'mail_2026' is not a DNS name"),
        (DKIM_SETTINGS + 'dkim_domain = "acme .example"\n', "digest.dkim_domain: 'acme .example' is not a domain"),
    ],
)
def test_dkim_settings_go_together(
    signed_project: Path, smtp: SmtpServer, cli: Callable[..., Result], extra: str, said: str
) -> None:
    configure(signed_project, smtp.port, extra)
    result = cli(*SEND)
    assert result.exit_code == 2
    assert said in result.stderr and len(result.stderr.splitlines()) == 1, result.stderr
    assert smtp.recorder.messages == []


@pytest.mark.parametrize(
    "body",
    [
        b"plain\r\nlines\r\n",
        b"plain\r\nlines\r\n\r\n\r\n",
        b"",
        b"\r\n",
        b"no end",
        b"two  spaces\r\n",
        b"tab\there\r\n",
        b"trailing \r\n\r\n",
        b"=\r\nPGh0bWw+\r\n \r\n",
    ],
)
def test_the_body_is_canonicalized_as_dkimpy_does(body: bytes) -> None:
    assert _canonical_body(body) == Relaxed.canonicalize_body(body)


def test_a_hand_made_message_with_repeated_headers(keys: dict[str, PrivateKey]) -> None:
    # Two Subject fields: the last is the one signed (RFC 6376 5.4.2), and a folded, spaced body.
    message = (
        b"From: A <a@acme.example>\r\nSubject: first\r\nSubject:  second\r\n\tfolded\r\nTo: b@x.example\r\n"
        b"\r\nHello  world \t\r\n\r\n\r\n"
    )
    signer = DkimSigner("acme.example", SELECTOR, keys["rsa"])
    signed = signer.sign(message, now=1_700_000_000)
    assert tags(signed)["h"] == "from:to:subject" and tags(signed)["t"] == "1700000000"
    assert dkim.verify(signed, dnsfunc=Dns(keys["rsa"]))
    assert not dkim.verify(signed.replace(b"second", b"Second"), dnsfunc=Dns(keys["rsa"]))
