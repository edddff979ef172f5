"""The To header of long, awkward names, in the bytes the SMTP server received, reads back as the same name and address."""

from __future__ import annotations

import base64
import csv
import email
import email.policy
import io
import re
from collections.abc import Callable
from email.header import decode_header, make_header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formataddr, getaddresses
from pathlib import Path

import pytest
from click.testing import Result

from site_builder.digest.compose import POLICY
from site_builder.digest.recipients import MAX_NAME
from tests.conftest import case_text
from tests.smtp_server import SmtpServer
from tests.test_send import SEND, configure, raw_header

# Words a name is made of: specials that need quoting, quotes and backslashes, non-ASCII letters,
# a double space, and text that looks like an encoded word.
PIECES = [
    "Smith,",
    "J.R.",
    'O"Brien',
    "back\\slash",
    "Åse",
    "Борис",
    "(boss)",
    "<x@y>",
    "a;b:c",
    "[it]",
    "“quoted”",
    "中文",
    "😀",
    "d'Arc",
    "=?utf-8?q?x?=",
    "Ærø",
    "Jr.",
    '"',
    "\\",
    "Anna  Lee",
    "Иванович",
    "Петров-Водкин,",
]


def awkward(length: int) -> str:
    """A name of exactly `length` characters: PIECES from a place that depends on the length."""
    start = length % len(PIECES)
    text = " ".join(PIECES[start:] + PIECES[:start])
    name = list(" ".join([text] * (1 + MAX_NAME // len(text)))[:length])
    # The recipients file strips a name: it must not start or end with a space.
    name[0], name[-1] = (("x" if c == " " else c) for c in (name[0], name[-1]))
    return "".join(name)


# Names with nowhere to fold, or all encoded, at the limit and below it.
SOLID = ["\\" * 200, '"' * 200, "A." * 100, "x" * 200, "Ж" * 200, "😀" * 200, "a" * 77, '\\"' * 38]
NAMES = [awkward(n) for n in range(1, MAX_NAME + 1)] + SOLID

_WORD = re.compile(r'=\?utf-8\?([qb])\?([^?]*)\?=|"((?:\\.|[^"\\])*)"|(\s+)|([^\s"]+)', re.IGNORECASE)


def _decode(kind: str, text: str) -> str:
    if kind.lower() == "b":
        return base64.b64decode(text).decode("utf-8")
    data = re.sub(rb"=([0-9A-F]{2})", lambda m: bytes([int(m.group(1), 16)]), text.replace("_", " ").encode("ascii"))
    return data.decode("utf-8")


def display_name(value: str, *, cpython: bool = False) -> str:
    """The display name of an unfolded `name <address>` value, read by RFC 5322 and RFC 2047 (the space
    between two encoded words is dropped). `cpython`: as CPython's parser up to 3.13 reads it
    (gh-128110): that space kept, and each run of spaces in an encoded word read as one space."""
    words = list(_WORD.finditer(value[: value.rindex("<")].strip()))
    out = []
    for i, word in enumerate(words):
        encoded, _, quoted, space, atom = word.groups()
        if space is not None:
            between = words[i - 1].group(1) is not None and words[i + 1].group(1) is not None
            out.append(" " if cpython or not between else "")
        elif encoded is not None:
            decoded = _decode(encoded, word.group(2))
            out.append(re.sub(r"\s+", " ", decoded) if cpython else decoded)
        elif quoted is not None:
            out.append(re.sub(r"\\(.)", r"\1", quoted))
        else:
            out.append(atom)
    return "".join(out)


def _keeps_space() -> bool:
    probe = b"To: =?utf-8?q?a?= =?utf-8?q?b?= <x@y.example>\r\n\r\n"
    return bool(email.message_from_bytes(probe, policy=email.policy.default)["To"].addresses[0].display_name == "a b")


# The parser of this Python reads the space between two encoded words of a name (CPython gh-128110).
CPYTHON_KEEPS_SPACE = _keeps_space()


def check_to_header(raw: bytes, name: str, address: str) -> None:
    """The To header in `raw` holds `name` and `address` for every reader, in lines mail allows."""
    lines, value = raw_header(raw, "To")
    assert all(len(line) <= 998 for line in lines), name
    for line in lines:
        # Over 78 only a word no fold can split: one atom or quoted string, alone after the indent.
        word = line.decode("ascii").removeprefix("To:").strip()
        assert len(line) <= 78 or re.fullmatch(r'"(?:\\.|[^"\\])*"|[^\s"]+', word), (name, line)
    assert display_name(value) == name  # RFC 5322 and 2047, as mail clients read it
    assert value.endswith(f"<{address}>")

    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    [read] = parsed["To"].addresses
    assert read.addr_spec == address and not parsed["To"].defects, name
    assert read.display_name == (display_name(value, cpython=True) if CPYTHON_KEEPS_SPACE else name), name
    if name.isascii() or not (re.search(r"\?=\s+=\?", value) or "  " in name):
        assert read.display_name == name  # the quoted names of issue 16: exact in any Python

    old = email.message_from_bytes(raw, policy=email.policy.compat32)
    [(words, spec)] = getaddresses([str(old["To"])])
    assert spec == address and str(make_header(decode_header(words))) == name, name


def test_long_awkward_names_read_back_from_the_server(
    project: Path, smtp: SmtpServer, cli: Callable[..., Result], write_case: Callable[..., Path]
) -> None:
    # Was: a long name that needs quotes was folded at its spaces without them: `Smith, John ...`
    # became several "addresses", and `O"Brien \ & <Sons>.` turned into garbage.
    configure(project, smtp.port)
    write_case("hotel.md", case_text(title="Hotel room gone", date="2026-03-05"))
    people = {f"p{i:03d}@example.com": name for i, name in enumerate(NAMES)}
    people["a.very.long.address.for.the.header.test@example.com"] = awkward(MAX_NAME)
    rows = io.StringIO()
    writer = csv.writer(rows, lineterminator="\n")
    writer.writerow(["email", "name"])
    writer.writerows(people.items())
    (project / "people.csv").write_text(rows.getvalue(), encoding="utf-8")
    result = cli(*SEND)
    assert result.exit_code == 0, result.output
    assert f"{len(people)} sent" in result.output
    for address, name in people.items():
        assert len(name) <= MAX_NAME
        check_to_header(smtp.recorder.raw[address], name, address)


@pytest.mark.parametrize("length", [1, 30, 77, 78, 120, 200])
def test_the_header_type_folds_any_width_and_policy(length: int) -> None:
    # The .eml files (LF, email.policy.default) and SMTPUTF8 messages use the same header type.
    name = awkward(length)
    for policy in (POLICY, POLICY.clone(linesep="\r\n"), email.policy.SMTPUTF8):
        message = EmailMessage(policy=POLICY)
        message["To"] = Address(name, addr_spec="anna@example.com")
        raw = message.as_bytes(policy=policy).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        check_to_header(raw + b"\r\n", name, "anna@example.com")


def test_from_and_reply_to_with_a_long_company_name() -> None:
    message = EmailMessage(policy=POLICY)
    company = 'Northwind Traders, Inc. — "Customer Care" (Europe), Copenhagen & Aarhus, Denmark'
    # As compose sets them: text (digest.sender, or formataddr of the company), parsed by the header type.
    message["From"] = formataddr((company, "care@northwind.example"))
    message["Reply-To"] = f'"{company.replace(chr(34), chr(92) + chr(34))}" <care@northwind.example>'

    parsed = email.message_from_bytes(
        message.as_bytes(policy=POLICY.clone(linesep="\r\n")), policy=email.policy.default
    )
    assert isinstance(parsed, EmailMessage)
    for header in ("From", "Reply-To"):
        [read] = parsed[header].addresses
        assert (read.display_name, read.addr_spec) == (company, "care@northwind.example")
