"""`site-builder new`: a fresh case file with its front matter and localized headings."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from slugify import slugify

from site_builder.cases.load import case_files
from site_builder.cases.placeholders import placeholder
from site_builder.settings.config import SECTION_KEYS, Settings
from site_builder.settings.i18n import heading_aliases

# A file name people can read in a listing; the title itself can be as long as it needs to be.
FILE_NAME_LENGTH = 60
_SLUG_FIELD = re.compile(r"""^slug:[ \t]*["']?([^"'\s#]+)""", re.MULTILINE)


class Taken(Exception):
    """A case already has the name the new one would get."""


def new_case_text(title: str, language: str, today: dt.date, settings: Settings) -> str:
    """The Markdown of a new case: front matter to fill in and the four headings with example text."""
    aliases = heading_aliases(language, settings)
    lines = [
        "---",
        f"title: {json.dumps(title, ensure_ascii=False)}",
        f"date: {today.isoformat()}",
        "received:    # when the complaint came in: YYYY-MM-DD, or with a time (2026-03-14 09:30)",
        "resolved:    # when it was put right",
        'customer: ""',
        "consent: false",
        'industry: ""',
        "tags: []",
        "costs: []  # some of: economic, time, social, emotional",
        'compensation: ""',
        f"language: {language}",
        "draft: true",
        "---",
    ]
    for key in SECTION_KEYS:
        lines += ["", f"## {aliases[key][0].capitalize()}", "", placeholder(language, key)]
    return "\n".join(lines) + "\n"


def file_slug(title: str) -> str:
    """The new file's name: the title's slug, cut at a word for a long title."""
    slug = str(slugify(title))
    if len(slug) <= FILE_NAME_LENGTH:
        return slug
    # slugify's own word_boundary repeats a word in some titles ("...-was-was"), so cut here.
    return slug[: FILE_NAME_LENGTH + 1].rsplit("-", 1)[0] or slug[:FILE_NAME_LENGTH]


def _slugs_in_use(folder: Path) -> dict[str, Path]:
    """Every case's URL name, from its file name and from an explicit `slug:` field."""
    used: dict[str, Path] = {}
    for path in case_files(folder):
        used.setdefault(slugify(path.stem), path)
        try:
            with path.open(encoding="utf-8", errors="replace") as handle:
                head = handle.read(8192)  # the front matter: not all of every case file
        except OSError:
            continue
        match = _SLUG_FIELD.search(head.split("\n---", 1)[0])
        if match:
            used.setdefault(match.group(1), path)
    return used


def create_case(folder: Path, title: str, language: str, today: dt.date, settings: Settings) -> Path:
    """Write a new case file named after its title; refuses to overwrite or reuse a slug."""
    slug = file_slug(title)
    if not slug:
        raise ValueError(f"the title {title!r} has no letters or digits to name the file after")
    owner = _slugs_in_use(folder).get(slug) if folder.is_dir() else None
    if owner is not None:
        raise Taken(f"a case already has the name {slug} ({owner}); pick another title")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{slug}.md"
    with path.open("x", encoding="utf-8") as handle:
        handle.write(new_case_text(title, language, today, settings))
    return path
