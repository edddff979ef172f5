"""Warnings that protect people: personal data without consent, missing dates, thanks to nobody, dead links."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from site_builder.cases.consent import mentions
from site_builder.cases.embeds import is_elsewhere
from site_builder.problems import Problem

SUMMARY_LIMIT = 160
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w+])\+?\(?\d[\d ().-]{6,}\d(?!\w)")
_DIGIT_RUN = re.compile(r"\d[\d ().-]{6,}\d")  # what any phone number contains; 3x cheaper to look for
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_LINK = re.compile(r"""(?:href|src)="([^"]+)\"""")
# Words that show a Thanks section thanks someone, by language (others are not checked).
THANK_WORDS = {
    "en": ("thank", "grateful", "gratitude", "appreciate"),
    "ru": ("спасибо", "благодар"),
    "da": ("tak",),
}


@dataclass(frozen=True, slots=True)
class Draft:
    """What the review needs from a case that passed validation."""

    path: Path
    text: str  # the whole file, to find line numbers
    body: str
    body_line: int
    language: str
    customer: str | None  # as written, whether or not the customer consented
    consent: bool
    summary: str | None  # as written in the front matter
    summary_line: int | None
    has_received: bool
    has_resolved: bool
    thanks: str  # the Thanks section's Markdown
    thanks_line: int
    links: tuple[str, ...]  # relative link and image targets in the sanitized HTML


def _warn(draft: Draft, line: int | None, field: str, message: str, expected: str) -> Problem:
    return Problem(draft.path, line, field, message, expected, severity="warning")


def _personal_data(draft: Draft) -> Iterable[Problem]:
    # One search over the whole body, not one per line: most bodies have nothing to find.
    def line_of(match: re.Match[str]) -> int:
        return draft.body_line + draft.body.count("\n", 0, match.start())

    found: list[tuple[int, int, str, str]] = []  # (line, order on that line, message, expected)
    for match in _EMAIL.finditer(draft.body) if "@" in draft.body else ():  # the check is 100x cheaper
        found.append((line_of(match), 0, f"an email address ({match.group()}) without the customer's consent",
                      "remove it, or set consent: true if the customer agreed"))  # fmt: skip
    for match in _PHONE.finditer(draft.body) if _DIGIT_RUN.search(draft.body) else ():
        digits = re.sub(r"\D", "", match.group())
        if len(digits) >= 8 and not _ISO_DATE.match(match.group()):
            found.append((line_of(match), 1, f"a phone number ({match.group().strip()}) without consent",
                          "remove it, or set consent: true if the customer agreed"))  # fmt: skip
    if draft.customer and not draft.consent:
        named: set[int] = set()
        for part, match in mentions(draft.customer, draft.body):
            line = line_of(match)
            if line not in named:  # one warning per line, for the fullest form of the name
                named.add(line)
                found.append((line, 2, f"names the customer ({part!r}) but consent is not true",
                              "write 'our customer' instead, or set consent: true if they agreed"))  # fmt: skip
    for line, _, message, expected in sorted(found, key=lambda item: item[:2]):
        yield _warn(draft, line, "body", message, expected)


def local_links(html: str) -> list[str]:
    """Relative link and image targets in sanitized HTML: files that should sit next to the case."""
    found = []
    for target in _LINK.findall(html):
        parts = urlsplit(target)
        if is_elsewhere(target):  # \\host\x too, which a browser reads as //host/x
            continue
        if not (parts.scheme or parts.netloc or target.startswith(("#", "/")) or not parts.path):
            found.append(unquote(parts.path))
    return found


def _links(draft: Draft) -> Iterable[Problem]:
    for path in draft.links:
        if not (draft.path.parent / path).is_file():
            line = next((i + 1 for i, text in enumerate(draft.text.splitlines()) if path in text), None)
            yield _warn(draft, line, "body", f"links to {path}, which does not exist",
                        f"a file next to {draft.path.name}, or a full https:// address")  # fmt: skip


def review(draft: Draft) -> list[Problem]:
    """Every warning for one valid case."""
    warnings = list(_personal_data(draft))
    if not draft.has_received:
        warnings.append(_warn(draft, None, "received", "is missing, so no response time can be shown",
                              "the date the complaint came in"))  # fmt: skip
    if not draft.has_resolved:
        warnings.append(_warn(draft, None, "resolved", "is missing, so no response time can be shown",
                              "the date it was fixed"))  # fmt: skip
    if draft.summary is not None and len(draft.summary) > SUMMARY_LIMIT:
        warnings.append(_warn(draft, draft.summary_line, "summary", f"is {len(draft.summary)} characters long",
                              f"at most {SUMMARY_LIMIT}, so search engines and the digest show it whole"))  # fmt: skip
    words = THANK_WORDS.get(draft.language)
    if words and not any(word in draft.thanks.casefold() for word in words):
        warnings.append(_warn(draft, draft.thanks_line, "body", "the Thanks section thanks nobody",
                              "thank the customer who told us, e.g. 'Thank you to our customer for ...'"))  # fmt: skip
    warnings.extend(_links(draft))
    return warnings
