"""The customer's name without consent: a warning in the text, an error where it reaches URLs,
feeds, search, email subjects and PDF metadata (the front matter and the slug)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from pathlib import Path

from slugify import slugify

from site_builder.cases.sections import RawSection
from site_builder.problems import Problem

# Fields whose value goes beyond the case's page: into URLs, feeds, the search index, the digest's
# subject and the PDFs' metadata, where a warning read too late cannot take it back.
PUBLIC_FIELDS = ("title", "summary", "compensation", "tags", "industry")
_DO = "leave the name out (write 'our customer'), or set consent: true if the customer agreed"


def name_parts(customer: str) -> list[str]:
    """The name and its words, before any ', Company' part: each could identify the person."""
    name = customer.split(",")[0].strip()
    return [name, *(word for word in name.split() if len(word) >= 3 and word[0].isupper())]


def mentions(customer: str, text: str) -> Iterable[tuple[str, re.Match[str]]]:
    """Each place `text` names the customer, with the part of the name found, fullest form first.
    Case-sensitive: a customer called Rose is named by "Rose", not by "a rose"."""
    for part in (p for p in name_parts(customer) if p in text):
        for match in re.finditer(rf"(?<!\w){re.escape(part)}(?!\w)", text):
            yield part, match


def named(customer: str, text: str) -> str | None:
    """The part of the customer's name `text` holds, or None."""
    return next((part for part, _ in mentions(customer, text)), None)


@functools.lru_cache(maxsize=4096)
def _slug_word(part: str) -> str:
    """A part of a name as a slug spells it (slugify is slow, and names repeat from case to case)."""
    return str(slugify(part))


def in_slug(customer: str, slug: str) -> str | None:
    """The part of the customer's name a slug spells (slugs are lowercase: any case counts)."""
    hyphened = f"-{slug}-"  # a slug holds only a-z, 0-9 and '-': a whole word is between hyphens
    for part in name_parts(customer):
        word = _slug_word(part)
        if word and f"-{word}-" in hyphened:
            return part
    return None


def front_matter_problems(
    path: Path,
    customer: str,
    values: dict[str, str | tuple[str, ...] | None],
    lines: dict[str, int],
    slug: str | None,
) -> list[Problem]:
    """Errors for each public field and the slug that name a customer who did not consent."""
    found: list[Problem] = []
    for field in PUBLIC_FIELDS:
        value = values.get(field)
        texts = (value,) if isinstance(value, str) else (value or ())
        part = next((p for p in (named(customer, text) for text in texts) if p), None)
        if part:
            found.append(
                Problem(path, lines.get(field), field, f"names the customer ({part!r}) but consent is not true", _DO)
            )
    part = in_slug(customer, slug) if slug else None
    if part:
        written = "slug" in lines
        where = "" if written else " (from the file name)"
        fix = "set 'slug:' to a name without it" if written else "rename the file, or set 'slug:' to a name without it"
        found.append(
            Problem(
                path,
                lines.get("slug"),
                "slug",
                f"'{slug}'{where} names the customer ({part!r}) in the URL but consent is not true",
                f"{fix}, or set consent: true if the customer agreed",
            )
        )
    return found


def summary_problems(path: Path, customer: str, summary: str, raw: list[RawSection]) -> list[Problem]:
    """The summary taken from Problem goes where a written one would (feeds, search, the digest):
    an error when it names a customer who did not consent."""
    part = named(customer, summary)
    if part is None:
        return []
    line = next(s.line for s in raw if s.key == "problem")
    return [
        Problem(
            path,
            line,
            "summary",
            f"the first sentence of Problem, the summary, names the customer ({part!r}) but consent is not true",
            "add 'summary:' without the name, or leave the name out of that sentence",
        )
    ]
