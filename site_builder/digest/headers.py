"""A mailbox header (To, From, Reply-To) folded so that a long display name reads back whole.

email's folder breaks a long quoted name at its spaces and drops the quotes as it does: `"Smith,
John Smith, John" <a@b>` comes out as `Smith, John Smith,\\n John <a@b>`, which every parser reads as
several addresses. Folding inside the quotes instead is valid RFC 5322 but not safe either: email's
compat32 parser (and others that read the raw field) stop a quoted string at the line break.

So the name is written as a phrase of words split at its single spaces, and folded only between
words: a word of plain characters as it is (an atom), one with specials as a quoted string, and a run
of words with other than printable ASCII as RFC 2047 encoded words, which hold any character, spaces
included, and may be cut anywhere. RFC 2047 readers drop the space between two encoded words, so a
run is cut into several words only when it cannot fit one (75 characters): CPython up to 3.13 keeps
that space in a display name (gh-128110), and would read a name split needlessly with a space more.
A word is never split: a run of 77 characters or more without a space stays on a line of its own
(406 characters for a To of 200 backslashes, recipients.MAX_NAME, each written twice in quotes), far
under the 998 that mail allows; a longer one is encoded instead.
"""

from __future__ import annotations

import base64
import string
from dataclasses import dataclass
from email.headerregistry import Address, BaseHeader, UniqueAddressHeader
from email.policy import EmailPolicy, Policy

_ATEXT = frozenset(string.ascii_letters + string.digits + "!#$%&'*+-/=?^_`{|}~")
_PRINTABLE = frozenset(chr(c) for c in range(0x20, 0x7F))
# Characters a "Q" encoded word may hold as they are inside a phrase (RFC 2047, 5 (3)).
_Q_SAFE = frozenset((string.ascii_letters + string.digits + "!*+-/").encode("ascii"))
_EW_OVERHEAD = len("=?utf-8?q??=")
_EW_MAX = 75  # RFC 2047: an encoded word is at most 75 characters
_HARD_LIMIT = 998  # RFC 5322: characters in a line, without its CRLF


@dataclass(frozen=True, slots=True)
class _Encoded:
    """Text to write as encoded words, cut to the room on each line."""

    text: str


# The registry mixes BaseHeader into each type this way at run time; typeshed's two classes differ.
class MailboxHeader(UniqueAddressHeader, BaseHeader):  # type: ignore[misc]
    """An address header of one mailbox, its display name folded so that it parses back unchanged."""

    def fold(self, *, policy: Policy) -> str:
        """`Name: display name <address>`, folded between the name's words (see the module's note)."""
        if len(self.groups) != 1 or self.groups[0].display_name is not None or len(self.addresses) != 1:
            return super().fold(policy=policy)  # groups or lists: not written by site-builder
        address = self.addresses[0]
        utf8 = isinstance(policy, EmailPolicy) and policy.utf8
        if not (address.addr_spec.isascii() or utf8) or not _encodable(address.display_name):
            return super().fold(policy=policy)
        lines = mailbox_lines(self.name, address, policy.max_line_length or _HARD_LIMIT)
        return policy.linesep.join(lines) + policy.linesep


def mailbox_lines(name: str, address: Address, width: int) -> list[str]:
    """The header's physical lines, each at most `width` long where a word allows it."""
    spec = address.addr_spec
    display = address.display_name
    if not display:
        return [f"{name}: {spec}"]
    whole = _word(display)
    if whole is not None and len(line := f"{name}: {whole} <{spec}>") <= width:
        return [line]  # as Address writes it (but a double space is quoted, so it stays)
    tokens: list[str | _Encoded] = [*_words(display, _HARD_LIMIT - len(name) - 2), f"<{spec}>"]
    lines = [f"{name}:"]
    for token in tokens:
        if isinstance(token, _Encoded):
            _place_encoded(lines, token.text, width)
        elif len(lines[-1]) + 1 + len(token) <= width or (_bare(lines) and 1 + len(token) > width):
            lines[-1] += " " + token  # a word longer than any line starts where it is
        else:
            lines.append(" " + token)
    return lines


def _bare(lines: list[str]) -> bool:
    """True while the last line holds no word yet (the first holds the header's name)."""
    return (len(lines) == 1 and lines[0].endswith(":")) or lines[-1] == ""


def _words(display: str, longest: int) -> list[str | _Encoded]:
    """The display name as phrase words: cut at each single space, runs needing encoding merged."""
    words: list[str | _Encoded] = []
    for run in _runs(display):
        word = _word(run)
        if word is not None and len(word) > longest:
            word = None  # on no line under the hard limit: encoded words can be cut
        if word is not None:
            words.append(word)
        elif words and isinstance(words[-1], _Encoded):
            # Readers drop the space between two encoded words: it goes inside them.
            words[-1] = _Encoded(words[-1].text + " " + run)
        else:
            words.append(_Encoded(run))
    return words


def _runs(display: str) -> list[str]:
    """Cut at every single space between two other characters (where the folding space stands for it)."""
    runs: list[str] = []
    start = 0
    for i, char in enumerate(display):
        if char == " " and 0 < i < len(display) - 1 and display[i - 1] != " " and display[i + 1] != " ":
            runs.append(display[start:i])
            start = i + 1
    runs.append(display[start:])
    return runs


def _word(text: str) -> str | None:
    """`text` as an atom or quoted string (as written, exact in every parser); None when it must be encoded."""
    if "=?" in text or not _PRINTABLE.issuperset(text):
        return None  # what parsers could take for an encoded word is encoded, and so is any other character
    if all(c in _ATEXT for c in text.replace(" ", "")) and "  " not in text and text.strip() == text:
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _place_encoded(lines: list[str], text: str, width: int) -> None:
    """Append `text` as encoded words, cutting it into several only when one word cannot hold it."""
    data = text.encode("utf-8")
    q = sum(1 if b in _Q_SAFE or b == 0x20 else 3 for b in data) <= 4 * -(-len(data) // 3)
    fresh = min(_EW_MAX, width - 1)
    rest = text
    while rest:
        room = min(_EW_MAX, width - len(lines[-1]) - 1)
        if room < _length(rest, q) <= fresh and not _bare(lines):
            lines.append("")  # it fits whole on the next line: better than cut
            continue
        count = _fitting(rest, q, room)
        if count == 0 and not _bare(lines):
            lines.append("")
            continue
        count = max(count, 1)  # a width too small for any word: one character a word, still valid
        lines[-1] += " " + _encode(rest[:count], q)
        rest = rest[count:]


def _length(text: str, q: bool) -> int:
    data = text.encode("utf-8")
    if q:
        return _EW_OVERHEAD + sum(1 if b in _Q_SAFE or b == 0x20 else 3 for b in data)
    return _EW_OVERHEAD + 4 * -(-len(data) // 3)


def _fitting(text: str, q: bool, room: int) -> int:
    """How many characters of `text` fit one encoded word of at most `room` characters."""
    count = 0
    size = 0
    for char in text:
        data = char.encode("utf-8")
        if q:
            size += sum(1 if b in _Q_SAFE or b == 0x20 else 3 for b in data)
            length = _EW_OVERHEAD + size
        else:
            size += len(data)
            length = _EW_OVERHEAD + 4 * -(-size // 3)
        if length > room:
            break
        count += 1
    return count


def _encode(text: str, q: bool) -> str:
    data = text.encode("utf-8")
    if q:
        body = "".join("_" if b == 0x20 else chr(b) if b in _Q_SAFE else f"={b:02X}" for b in data)
        return f"=?utf-8?q?{body}?="
    return f"=?utf-8?b?{base64.b64encode(data).decode('ascii')}?="


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False  # surrogates from undecodable bytes: email's own folder knows them
    return True
