"""How deep a case's text may nest before a printed leaflet cannot hold it."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from site_builder.cases.model import Section
from site_builder.cases.sections import RawSection
from site_builder.problems import Problem

# Each list or quote level takes about 4 mm of an A6 leaflet's 81 mm line: at 8 levels a third of
# the line is gone, and at 20 (on A5) the text runs off the page. Nobody writes deeper on purpose.
MAX_NESTING = 8
# Any element at all, inline ones included: WeasyPrint lays out boxes recursively and fails with
# a RecursionError somewhere past 90 nested lists (270 boxes) or a few hundred <b>s.
MAX_DEPTH = 64
_BLOCKS = frozenset({"ul", "ol", "blockquote", "dl", "table"})
_VOID = frozenset({"br", "hr", "img", "wbr"})
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)(?:\"[^\"]*\"|'[^']*'|[^'\">])*>")


def nesting(html: str) -> tuple[int, int]:
    """The deepest nesting of lists, quotes and tables, and of any elements, in sanitized HTML."""
    blocks = depth = most_blocks = most = 0
    open_blocks: list[bool] = []
    for match in _TAG.finditer(html):
        closing, name = match.group(1) == "/", match.group(2).lower()
        if name in _VOID or match.group().endswith("/>"):
            continue
        if closing:
            if open_blocks:
                blocks -= open_blocks.pop()
                depth -= 1
            continue
        is_block = name in _BLOCKS
        open_blocks.append(is_block)
        blocks += is_block
        depth += 1
        most_blocks, most = max(most_blocks, blocks), max(most, depth)
    return most_blocks, most


_BLOCK_START = re.compile(r"<(?:ul|ol|blockquote|dl|table)[\s>]", re.IGNORECASE)


def too_deep(html: str) -> str | None:
    """What is nested too deep for a leaflet, or None."""
    # Counted from above (every '<' that opens, every block's start): a section with too few of
    # them cannot be too deep, and most have, so most are not walked tag by tag.
    if html.count("<") - html.count("</") <= MAX_DEPTH and len(_BLOCK_START.findall(html)) <= MAX_NESTING:
        return None
    blocks, depth = nesting(html)
    if blocks > MAX_NESTING:
        return f"nests lists or quotes {blocks} levels deep; a leaflet holds at most {MAX_NESTING}"
    if depth > MAX_DEPTH:
        return f"nests formatting {depth} levels deep; a leaflet holds at most {MAX_DEPTH}"
    return None


def first_deep_line(text: str, render: Callable[[str], str]) -> int:
    """The 0-based line of `text` (Markdown) from which it is too deep: the shortest start that is,
    found by halving (a few renders, and only for a text already found too deep)."""
    lines = text.split("\n")
    low, high = 0, len(lines)  # too deep with all `high` lines; not known to be with `low`
    while high - low > 1:
        middle = (low + high) // 2
        if too_deep(render("\n".join(lines[:middle]))):
            high = middle
        else:
            low = middle
    return high - 1


def nesting_problems(
    path: Path,
    body: str,
    body_line: int,
    raw: list[RawSection],
    sections: tuple[Section, ...],
    render: Callable[[str], str],
) -> list[Problem]:
    """An error for each section nested deeper than a leaflet can lay out, at the line where it gets too deep."""
    found = []
    lines = body.splitlines()
    for source, section in zip(raw, sections, strict=True):
        why = too_deep(section.html)
        if why:
            # A section's text starts at its first line that is not empty.
            after = source.line + 1
            while after - body_line < len(lines) and lines[after - body_line] == "":
                after += 1
            line = after + first_deep_line(source.text, render)
            found.append(Problem(path, line, "body", f"section '{source.heading}' {why}", "flatten the list or quote"))
    return found
