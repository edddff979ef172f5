"""Split a case body into its level-2 sections and check the four required ones and the optional ones."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from site_builder.problems import Problem
from site_builder.settings.config import OPTIONAL_SECTION_KEYS, SECTION_KEYS

_HEADING = re.compile(r"^ {0,3}##[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
# `Problem` underlined with dashes is a level-2 heading too (a "setext" heading), when the line above
# the underline is a paragraph of one line, not a list item, a quote or a heading.
_UNDERLINE = re.compile(r"^ {0,3}-+[ \t]*$")
_NOT_A_PARAGRAPH = re.compile(r"^(?: {4}|\t| {0,3}(?:[-+*>#]|\d+[.)])(?:[ \t]|$))")
# Lines that were almost a section heading: `# Problem`, `### Problem`, `##Problem`, `**Problem**`,
# `Problem:` alone, or `Problem` underlined with `=`; the name is checked against the aliases.
_ALMOST = re.compile(r"^ {0,3}(?:#{1,6}[ \t]*|\*\*|__)?(?P<name>[^#*_\n]+?)(?:\*\*|__)?[ \t]*[:.]?[ \t]*#*[ \t]*$")
_EQUALS = re.compile(r"^ {0,3}=+[ \t]*$")


@dataclass(frozen=True, slots=True)
class RawSection:
    """A heading as written, the section it stands for (or 'extra'), its text and line."""

    key: str
    heading: str
    text: str
    line: int


def _fenced(lines: list[str]) -> Iterator[tuple[int, str, bool]]:
    """Each line with its offset, and whether it is in fenced code (its opening fence included)."""
    fence: str | None = None
    for offset, line in enumerate(lines):
        match = _FENCE.match(line)
        if match:
            fence = None if fence == match.group(1) else fence or match.group(1)
        yield offset, line, fence is not None


def split(body: str, first_line: int) -> tuple[str, list[RawSection]]:
    """Text before the first level-2 heading, and every section after it (fenced code is skipped)."""
    preamble: list[str] = []
    sections: list[tuple[str, int, list[str]]] = []
    lines = body.splitlines()
    underline = -1
    for offset, line, code in _fenced(lines):
        if offset == underline:
            continue
        heading = None if code else _HEADING.match(line)
        if heading:
            sections.append((heading.group(1).strip(), first_line + offset, []))
        elif not code and _is_setext(lines, offset):
            sections.append((line.strip(), first_line + offset, []))
            underline = offset + 1
        elif sections:
            sections[-1][2].append(line)
        else:
            preamble.append(line)
    raw = [RawSection("", h, "\n".join(text).strip("\n"), n) for h, n, text in sections]
    return "\n".join(preamble).strip(), raw


def _is_setext(lines: list[str], offset: int) -> bool:
    """True when the line is a one-line paragraph underlined with dashes."""
    line = lines[offset]
    return (
        offset + 1 < len(lines)
        and bool(line.strip())
        and _UNDERLINE.match(lines[offset + 1]) is not None
        and (offset == 0 or not lines[offset - 1].strip() or _HEADING.match(lines[offset - 1]) is not None)
        and _NOT_A_PARAGRAPH.match(line) is None
    )


def _almost(body: str, first_line: int, by_name: Mapping[str, str]) -> dict[str, tuple[int, str]]:
    """Lines that were meant as a section's heading but are not a level-2 one, by section: line, text."""
    found: dict[str, tuple[int, str]] = {}
    lines = body.splitlines()
    for offset, line, code in _fenced(lines):
        if code or len(line) > 80:
            continue
        almost = _ALMOST.match(line)
        key = by_name.get(almost.group("name").strip().casefold()) if almost else None
        if key is None or key in found:
            continue
        if line.lstrip().startswith("#") or line.rstrip().endswith((":", "**", "__", ".")):
            found[key] = (first_line + offset, line.strip())
        elif offset + 1 < len(lines) and _EQUALS.match(lines[offset + 1]):
            found[key] = (first_line + offset, f"{line.strip()} (underlined with =)")
    return found


_ITEM = re.compile(r"^( *)(?:[-+*]|\d+[.)])[ \t]+\S")


def shallow_lists(path: Path, body: str, first_line: int) -> list[Problem]:
    """A warning for each list item indented under another by fewer than four spaces: GitHub nests
    it, Python-Markdown does not (its rule is four)."""
    problems = []
    above: int | None = None  # the indent of the list item the lines above belong to
    for offset, line, code in _fenced(body.splitlines()):
        if code:
            continue
        item = _ITEM.match(line)
        if item is None:
            if line.strip() and not line.startswith((" ", "\t")):
                above = None  # a paragraph at the margin ends the list
            continue
        indent = len(item.group(1))
        if above is not None and above < indent < above + 4:
            problems.append(
                Problem(
                    path,
                    first_line + offset,
                    "body",
                    f"this list item is indented by {indent - above} spaces: it is not nested, it joins the list above",
                    f"to nest it, put {above + 4} spaces before its marker, four more than the item above",
                    severity="warning",
                )
            )
            continue
        above = indent
    return problems


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
    required = {s.key for s in sections}.intersection(SECTION_KEYS)
    almost = _almost(body, first_line, by_name) if len(required) < len(SECTION_KEYS) else {}
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
                    "each section once" if section.key in OPTIONAL_SECTION_KEYS else "each of the four sections once",
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
        if key in seen:
            continue
        name = aliases[key][0].title()
        if key in almost:
            line, written = almost[key]
            problems.append(
                Problem(
                    path,
                    line,
                    "body",
                    f"section '{name}' is missing: '{written}' is almost its heading",
                    f"write the heading as '## {name}' on a line of its own: two #, a space, the name",
                )
            )
            continue
        problems.append(Problem(path, first_line, "body", f"section '{name}' is missing", expected + " in that order"))
    problems.extend(_misplaced(path, seen, aliases))
    order = [s for s in sections if s.key in SECTION_KEYS and seen.get(s.key) is s]
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


def _misplaced(path: Path, seen: Mapping[str, RawSection], aliases: Mapping[str, tuple[str, ...]]) -> list[Problem]:
    """A problem for an optional section written before Fix: it tells what came of the fix, and every
    output shows it after Fix (before or after Thanks, as written, it is shown before Thanks)."""
    fix = seen.get("fix")
    if fix is None:
        return []
    problems = []
    for key in OPTIONAL_SECTION_KEYS:
        section = seen.get(key)
        if section is not None and section.line < fix.line:
            problems.append(
                Problem(
                    path,
                    section.line,
                    "body",
                    f"section '{section.heading}' comes before '{fix.heading}'",
                    f"move '## {aliases[key][0].capitalize()}' after '## {aliases['fix'][0].title()}'",
                )
            )
    return problems
