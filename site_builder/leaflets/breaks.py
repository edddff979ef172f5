"""Break opportunities in over-long words, so that WeasyPrint lays them out in linear time.

WeasyPrint finds where to wrap a word with no break in it by measuring ever longer pieces of it:
a 20,000-character word took 18 s, and four times as long for twice the length. A zero-width space
every few characters gives it places to break, and changes nothing a reader sees."""

from __future__ import annotations

import re

from site_builder.cases.typography import outside

# No word in any language a case is written in comes near this; URLs, hashes and keyboard mashing do.
LONG = 40
STEP = 12  # a break opportunity this often: short enough to fill a narrow column well
_ZWSP = "\u200b"
# Markup is kept whole, text between it is worked on: tags (quoted attribute values may hold '>'),
# comments, and the contents of <style>, <script> and <title>, which are not laid out as text.
_MARKUP = re.compile(
    r"<(style|script|title)\b.*?</\1\s*>|<!--.*?-->|<(?:\"[^\"]*\"|'[^']*'|[^'\">])*>",
    re.DOTALL | re.IGNORECASE,
)
# A run with no break opportunity: neither whitespace nor a zero-width space or soft hyphen;
# an entity (&amp;) is one character that must not be split.
_RUN = re.compile(rf"(?:&#?\w+;|[^\s<&\u200b\u00ad]){{{LONG},}}")
_LOOKS_LIKE_AN_ADDRESS = re.compile(r"(?:https?://|www\.|mailto:|[\w.+-]+@\w)", re.IGNORECASE)
# An address in running text: a web address, or an e-mail address (its last dot is not the sentence's).
_IN_TEXT = re.compile(
    r"(?:https?://|www\.)[^\s<>\"'&\u200b]*[^\s<>\"'&\u200b.,;:!?)\]]"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}",
)
_PIECE = re.compile(rf"(?:&#?\w+;|[^&]){{1,{STEP}}}")


def _broken(run: re.Match[str]) -> str:
    text = run.group()
    if _LOOKS_LIKE_AN_ADDRESS.match(text):
        # An address breaks where a reader expects it to (after a slash, before a dot), and only a
        # part still too long between those gets the every-few-characters breaks.
        return _ZWSP.join(_text(part) for part in address_breaks(text).split(_ZWSP))
    # Marked so that it is not hyphenated as well (leaflet.css): it is no word of any language, and
    # it reads back whole, broken only where it wraps.
    return f'<span class="long">{_ZWSP.join(_PIECE.findall(text))}</span>'


def _runs(text: str) -> str:
    return _RUN.sub(_broken, text) if len(text) >= LONG else text


def _text(text: str) -> str:
    if "@" not in text and "://" not in text and "www." not in text:
        return _runs(text)
    # An address written as text (an e-mail address, or a link's own text) is marked so that it is
    # never hyphenated (leaflet.css), and may break only after a slash or before a dot.
    out: list[str] = []
    at = 0
    for address in _IN_TEXT.finditer(text):
        out.append(_runs(text[at : address.start()]))
        parts = address_breaks(address.group()).split(_ZWSP)
        out.append(f'<span class="address">{_ZWSP.join(_runs(part) for part in parts)}</span>')
        at = address.end()
    out.append(_runs(text[at:]))
    return "".join(out)


def breakable(html: str) -> str:
    """`html` with a zero-width space every few characters of each over-long run of text (not in
    markup, attribute values or styles), so that it wraps there."""
    return outside(_MARKUP, html, _text)


_ADDRESS_BREAK = re.compile(r"(?<=[/-])(?!/|$)|(?<=[^/])(?=\.)")


def address_breaks(address: str) -> str:
    """A web or e-mail address with a zero-width space where a line may break in it: after a slash or
    a hyphen, before a dot; it is never hyphenated, and nowhere else broken."""
    return _ADDRESS_BREAK.sub(_ZWSP, address)
