"""How to print leaflets: options and filters, kept apart from WeasyPrint so the CLI starts fast."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from site_builder.cases.model import Case
from site_builder.settings.config import PAPER_SIZES

# The body text size (pt) of each paper size: one size for every leaflet of it, never shrunk to fit.
SIZES = {"A4": 11.0, "A5": 9.5, "A6": 8.5, "Letter": 11.0}
assert tuple(SIZES) == PAPER_SIZES


@dataclass(frozen=True, slots=True)
class LeafletOptions:
    """How to print: paper size, bleed and marks, print shop or screen, how many processes, where the cache is."""

    size: str = "A5"
    print_marks: bool = False
    print_shop: bool = False  # PDF/X-4 in CMYK with bleed and marks; else PDF/UA-1 for the screen
    jobs: int = 0
    cache_dir: Path | None = None
    imposed: bool = False  # also all.imposed.pdf: the booklet 2-up for saddle stitching


@dataclass(frozen=True, slots=True)
class BookletFilter:
    """Which cases go into all.pdf."""

    tag: str | None = None
    industry: str | None = None
    since: dt.date | None = None
    language: str | None = None  # only this language's booklet (else one per language)

    def accepts(self, case: Case) -> bool:
        """True when the case passes every filter that is set."""
        return (
            (self.tag is None or self.tag in case.tags)
            and (self.industry is None or self.industry == case.industry)
            and (self.since is None or case.date >= self.since)
        )
