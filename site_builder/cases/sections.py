"""Split a case body into its level-2 sections and check the four required ones."""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from site_builder.problems import Problem
from site_builder.settings.config import SECTION_KEYS

_HEADING = re.compile(r"^ {0,3}##[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")


@dataclass(frozen=True, slots=True)
class RawSection:
    """A heading as written, the section it stands for (or 'extra'), its text and line."""

    key: str
    heading: str
    text: str
    line: int


def split(body: str, first_line: int) -> tuple[str, list[RawSection]]:
    """Text before the first `## ` heading, and every section after it (fenced code is skipped)."""
    preamble: list[str] = []
    sections: list[tuple[str, int, list[str]]] = []
    fence: str | None = None
    for offset, line in enumerate(body.splitlines()):
        match = _FENCE.match(line)
        if match:
            fence = None if fence == match.group(1) else fence or match.group(1)
        heading = None if fence else _HEADING.match(line)
        if heading:
            sections.append((heading.group(1).strip(), first_line + offset, []))
        elif sections:
            sections[-1][2].append(line)
        else:
            preamble.append(line)
    raw = [RawSection("", h, "\n".join(text).strip("\n"), n) for h, n, text in sections]
    return "\n".join(preamble).strip(), raw


def classify(
    path: Path, body: str, first_line: int, aliases: Mapping[str, tuple[str, ...]]
) -> tuple[list[RawSection], list[Problem]]:
    """Name each section, and report missing, repeated, empty or out-of-order ones."""
    preamble, raw = split(body, first_line)
    by_name = {alias: key for key, names in aliases.items() for alias in names}
    expected = "level-2 headings " + ", ".join(f"'## {aliases[k][0].title()}'" for k in SECTION_KEYS)
    problems: list[Problem] = []
    if preamble:
        problems.append(
            Problem(
                path,
                first_line,
                "body",
                "there is text before the first section",
                "start the body with '## Problem' and put all text under a section",
            )
        )
    sections = [RawSection(by_name.get(s.heading.casefold(), "extra"), s.heading, s.text, s.line) for s in raw]
    seen: dict[str, RawSection] = {}
    for section in sections:
        if section.key == "extra":
            continue
        if section.key in seen:
            problems.append(
                Problem(
                    path,
                    section.line,
                    "body",
                    f"section '{section.heading}' appears twice (first on line {seen[section.key].line})",
                    "each of the four sections once",
                )
            )
            continue
        seen[section.key] = section
        if not section.text.strip():
            problems.append(
                Problem(
                    path,
                    section.line,
                    "body",
                    f"section '{section.heading}' is empty",
                    "a few sentences under the heading",
                )
            )
    for key in SECTION_KEYS:
        if key not in seen:
            problems.append(
                Problem(
                    path,
                    first_line,
                    "body",
                    f"section '{aliases[key][0].title()}' is missing",
                    expected + " in that order",
                )
            )
    order = [s for s in sections if s.key != "extra" and seen.get(s.key) is s]
    for before, after in itertools.pairwise(order):
        if SECTION_KEYS.index(before.key) > SECTION_KEYS.index(after.key):
            problems.append(
                Problem(
                    path,
                    after.line,
                    "body",
                    f"section '{after.heading}' comes after '{before.heading}'",
                    "the order " + ", ".join(aliases[k][0].title() for k in SECTION_KEYS),
                )
            )
    return sections, problems
