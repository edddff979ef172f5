"""Counted words: the plural form a number takes, by Babel's CLDR rules, for any language."""

from __future__ import annotations

import functools


@functools.lru_cache(maxsize=4096)
def plural_category(count: int, language: str) -> str:
    """CLDR's plural category of `count` in `language`: 'one', 'few', 'many' or 'other'."""
    from babel import Locale  # not at import: `check` and `--help` never count in another language

    return str(Locale.parse(language).plural_form(count))


def counted(count: int, one: str, other: str) -> str:
    """'1 case', '2 cases': the CLI's English, by the same rules the site uses."""
    return f"{count} {one if plural_category(count, 'en') == 'one' else other}"
