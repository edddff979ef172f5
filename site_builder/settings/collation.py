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


@functools.cache
def _collator() -> _Collator:
    """The root collation table (DUCET)."""
    import pyuca  # type: ignore[import-untyped]  # its table takes 0.15 s to read: only when a list is sorted

    collator: _Collator = pyuca.Collator()
    return collator


# CLDR's Danish tailoring, &[before 1]ǀ < æ <<< Æ << ä <<< Ä < ø <<< Ø << ö <<< Ö < å <<< Å, written
# in the root table's own terms rather than as a second 0.15 s table: each letter becomes a z and a
# private-use character (whose implicit weight is above every letter's, in code point order);
# a diaeresis makes ä and ö the secondary variants of æ and ø, a capital Z the tertiary one.
_DANISH = str.maketrans(
    {
        "æ": "z\ue000",
        "Æ": "Z\ue000",
        "ä": "z\ue000\u0308",
        "Ä": "Z\ue000\u0308",
        "ø": "z\ue001",
        "Ø": "Z\ue001",
        "ö": "z\ue001\u0308",
        "Ö": "Z\ue001\u0308",
        "å": "z\ue002",
        "Å": "Z\ue002",
    }
)


@functools.cache
def _cyrillic() -> tuple[int, int]:
    """The lowest and highest primary weight of a Cyrillic letter in the root table."""
    collator = _collator()
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
    collator = _collator()
    low, high = _cyrillic() if language == "ru" else (0, -1)
    danish = language == "da"

    def key(name: str) -> SortKey:
        weights = collator.sort_key(unicodedata.normalize("NFC", name).translate(_DANISH) if danish else name)
        cut = weights.index(0) if 0 in weights else len(weights)
        # Russian puts its own script first (CLDR's [reorder Cyrl]); elsewhere the root order stands.
        primaries = tuple((0 if low <= w <= high else 1, w) for w in weights[:cut])
        return primaries, weights[cut:]

    return key


def collated(names: Sequence[str], language: str) -> list[str]:
    """`names` in `language`'s order."""
    return sorted(names, key=sort_key(language))
