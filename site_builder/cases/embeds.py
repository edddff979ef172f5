"""Pictures and other resources a case's page would load from another site: refused, so that
reading a case never tells a third party who read it (nor lets one change what the page shows)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from site_builder.problems import Problem

# Attributes a browser fetches as part of the page, on any element. `href` is a link the reader
# follows only on <a> and <area>; elsewhere (<link>, <base>, SVG's <image> and <use>) it loads.
_LOADED = frozenset({"src", "srcset", "poster", "data", "background", "lowsrc", "dynsrc", "xlink:href", "href"})
_LINKS = frozenset({"a", "area"})
_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]*)\1\s*\)|@import\s+(['"])([^'"]*)\3""", re.IGNORECASE)
# A browser drops tabs and newlines anywhere in a URL, and control characters and spaces at its ends.
_IGNORED = re.compile(r"[\t\n\r]")
_EDGES = "".join(chr(c) for c in range(0x21))
# The sanitizer writes attributes in lowercase as name="value": HTML is worth parsing only when one
# that loads is there, or a style, or an href on something other than a link (most sections have
# none; footnotes, tables and abbreviations have other attributes). Substring searches, not a
# pattern: this runs on every section of every case.
_LOADING = (*(f' {name}="' for name in sorted(_LOADED - {"href"})), ' style="', "<style")
_LINK_START = re.compile(r"<(?:a|area)\s[^>]*$")
WHAT_TO_DO = "put the picture beside the case file and link it by name, like ![A photo](photo.jpg)"


class _Resources(HTMLParser):
    """Collects every URL the HTML would make the browser load by itself."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_style = tag == "style"
        for name, value in attrs:
            if value is None:
                continue
            if name == "style":
                self.found.extend(_css_urls(value))
            elif name == "srcset":
                self.found.extend(item.split()[0] for item in value.split(",") if item.split())
            elif name in _LOADED and not (name == "href" and tag in _LINKS):
                self.found.append(value)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self._in_style = False

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.found.extend(_css_urls(data))


def _css_urls(css: str) -> list[str]:
    return [m.group(2) if m.group(2) is not None else m.group(4) for m in _CSS_URL.finditer(css)]


def _worth_parsing(safe_html: str) -> bool:
    if any(hint in safe_html for hint in _LOADING):
        return True
    at = safe_html.find(' href="')
    while at >= 0:
        tag = safe_html.rfind("<", 0, at)
        if tag < 0 or not _LINK_START.match(safe_html, tag, at + 1):
            return True
        at = safe_html.find(' href="', at + 1)
    return False


def loaded_urls(safe_html: str) -> list[str]:
    """Every URL that sanitized HTML makes a browser load without a click (pictures, media, styles)."""
    if not _worth_parsing(safe_html):
        return []
    parser = _Resources()
    parser.feed(safe_html)
    parser.close()
    return parser.found


def is_elsewhere(url: str) -> bool:
    """True when loading `url` from a page of the site is a request to another site: a scheme
    (other than data:), or a host (//host/x, and \\\\host\\x, which browsers read the same way)."""
    cleaned = _IGNORED.sub("", url).strip(_EDGES).replace("\\", "/")
    if cleaned.startswith("//"):
        return True
    try:
        scheme = urlsplit(cleaned).scheme
    except ValueError:  # a malformed address (an unclosed [ in the host): not ours to load either
        return True
    return bool(scheme) and scheme.lower() != "data"


def line_of(lines: Sequence[str], first: int, last: int, needles: Iterable[str]) -> int | None:
    """The first line from `first` to `last` (1-based, inclusive) holding one of `needles`, tried in
    order; None when none is there (the renderer may have written it differently)."""
    for needle in needles:
        if not needle:
            continue
        for number in range(max(first, 1), min(last, len(lines)) + 1):
            if needle in lines[number - 1]:
                return number
    return None


def _needles(url: str) -> list[str]:
    """Ways the URL may be written in the Markdown: as rendered, percent-decoded, then only its host."""
    cleaned = _IGNORED.sub("", url).strip(_EDGES)
    try:
        host = urlsplit(cleaned.replace("\\", "/")).netloc
    except ValueError:
        host = ""
    return [url, cleaned, unquote(cleaned), host]


def external_embeds(path: Path, lines: Sequence[str], sections: Iterable[tuple[int, int, str]]) -> list[Problem]:
    """An error for each resource a section's HTML would load from another site. `sections` holds
    each section's first and last line in the file (1-based) and its sanitized HTML."""
    problems: list[Problem] = []
    for first, last, safe_html in sections:
        for url in dict.fromkeys(u for u in loaded_urls(safe_html) if is_elsewhere(u)):
            line = line_of(lines, first, last, _needles(url)) or first
            shown = url if len(url) <= 80 else url[:77] + "..."
            message = f"loads {shown} from another site, which would learn who reads the case"
            problems.append(Problem(path, line, "body", message, WHAT_TO_DO))
    return problems
