"""Names in the order a reader of a language expects them in a list: the Unicode Collation
Algorithm (pyuca, pure Python: PyICU has no wheel here), tailored as CLDR tailors it for Danish
(æ, ø, å after z) and Russian (Cyrillic before Latin)."""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable, Sequence
from typing import Protocol

SortKey = tuple[tuple[tuple[int, int], ...], tuple[int, ...]]


class _Collator(Protocol):
    def sort_key(self, string: str) -> tuple[int, ...]: ...

    def collation_elements(self, normalized_string: str) -> list[list[int]]: ...


# Above every letter's primary weight: æ, ø and å sort as a z followed by one of these.
_BEYOND_Z = 0xFFF0
# CLDR's Danish tailoring: &[before 1]ǀ < æ <<< Æ << ä <<< Ä < ø <<< Ø << ö <<< Ö < å <<< Å
_DANISH = (("æ", "Æ", "ä", "Ä"), ("ø", "Ø", "ö", "Ö"), ("å", "Å"))


@functools.cache
def _collator(language: str) -> _Collator:
    """The root collation table (DUCET), with `language`'s contractions added."""
    import pyuca  # type: ignore[import-untyped]  # its table takes 0.16 s to read: only when a list is sorted

    collator: _Collator = pyuca.Collator()
    if language == "da":
        ((z, *_),) = collator.collation_elements("z")
        for rank, letters in enumerate(_DANISH):
            for secondary, letter in enumerate(letters):
                # Upper case after lower (tertiary), ä and ö as variants of æ and ø (secondary).
                tertiary = 8 if letter.isupper() else 2
                elements = [[z, 0x20, 2], [_BEYOND_Z + rank, 0x20 + secondary // 2, tertiary]]
                # Keys are looked up in NFD: å is a + ring there.
                collator.table.add([ord(c) for c in unicodedata.normalize("NFD", letter)], elements)  # type: ignore[attr-defined]
    return collator


@functools.cache
def _cyrillic() -> tuple[int, int]:
    """The lowest and highest primary weight of a Cyrillic letter in the root table."""
    collator = _collator("")
    weights = [
        element[0]
        for code in range(0x400, 0x530)
        if unicodedata.category(chr(code)).startswith("L")
        for element in collator.collation_elements(unicodedata.normalize("NFD", chr(code)))
        if element[0]
    ]
    return min(weights), max(weights)


def sort_key(language: str) -> Callable[[str], SortKey]:
    """A key that sorts names as a reader of `language` expects (the root order for a language
    without a tailoring, like English)."""
    collator = _collator("da" if language == "da" else "")
    low, high = _cyrillic() if language == "ru" else (0, -1)

    def key(name: str) -> SortKey:
        weights = collator.sort_key(name)
        cut = weights.index(0) if 0 in weights else len(weights)
        # Russian puts its own script first (CLDR's [reorder Cyrl]); elsewhere the root order stands.
        primaries = tuple((0 if low <= w <= high else 1, w) for w in weights[:cut])
        return primaries, weights[cut:]

    return key


def collated(names: Sequence[str], language: str) -> list[str]:
    """`names` in `language`'s order."""
    return sorted(names, key=sort_key(language))
