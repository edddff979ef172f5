"""`site-builder new`: a fresh case file with its front matter and localized headings."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from slugify import slugify

from site_builder.cases.load import case_files
from site_builder.settings.config import SECTION_KEYS, Settings
from site_builder.settings.i18n import heading_aliases

_HINTS = {
    "problem": "What went wrong, from the customer's side. Be concrete: what, when, how long.",
    "cause": "Why it happened. Name the broken process, not a scapegoat.",
    "fix": "What we did for this customer, and what we changed so it cannot happen again.",
    "thanks": "Thank the customer who told us. Name them only if they agreed (consent: true).",
}


def new_case_text(title: str, language: str, today: dt.date, settings: Settings) -> str:
    """The Markdown of a new case: front matter to fill in and the four headings."""
    aliases = heading_aliases(language, settings)
    lines = [
        "---",
        f"title: {json.dumps(title, ensure_ascii=False)}",
        f"date: {today.isoformat()}",
        f"received: {today.isoformat()}",
        f"resolved: {today.isoformat()}",
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
        lines += ["", f"## {aliases[key][0].capitalize()}", "", _HINTS[key]]
    return "\n".join(lines) + "\n"


def create_case(folder: Path, title: str, language: str, today: dt.date, settings: Settings) -> Path:
    """Write a new case file named after its title; refuses to overwrite or reuse a slug."""
    slug = slugify(title)
    if not slug:
        raise ValueError(f"the title {title!r} has no letters or digits to name the file after")
    if any(slugify(p.stem) == slug for p in case_files(folder)) if folder.is_dir() else False:
        raise FileExistsError(f"a case named {slug} already exists in {folder}; pick another title")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{slug}.md"
    with path.open("x", encoding="utf-8") as handle:
        handle.write(new_case_text(title, language, today, settings))
    return path
